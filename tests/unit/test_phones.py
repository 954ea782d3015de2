"""Phone numbers as the desk types them: checked, kept in E.164, shown in the national
form, and found by any way of writing their start (app/phones.py, CLINIC_REGION=FR)."""

from __future__ import annotations

import pytest

from app import phones

FR = "FR"


@pytest.mark.parametrize(
    ("typed", "stored", "shown"),
    [
        ("06 12 34 56 78", "+33612345678", "06 12 34 56 78"),
        ("0612345678", "+33612345678", "06 12 34 56 78"),
        ("612345678", "+33612345678", "06 12 34 56 78"),  # the trunk 0 forgotten
        ("+33 6 12 34 56 78", "+33612345678", "06 12 34 56 78"),
        ("+33 (0)6 12 34 56 78", "+33612345678", "06 12 34 56 78"),
        ("01.23.45.67.89", "+33123456789", "01 23 45 67 89"),
        # A Guadeloupe mobile, dialled from France as a French number is.
        ("06 90 42 11 78", "+590690421178", "06 90 42 11 78"),
        # From abroad, with + or 00: shown with its country code.
        ("+32 470 12 34 56", "+32470123456", "+32 470 12 34 56"),
        ("0032 470 12 34 56", "+32470123456", "+32 470 12 34 56"),
        ("", "", ""),
    ],
)
def test_a_number_is_kept_in_e164_and_shown_nationally(typed, stored, shown):
    assert phones.for_storage(typed, FR) == stored
    assert phones.display(stored, FR) == shown


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ("06 12 ab 56 78", "only digits"),
        ("call me", "only digits"),
        ("06 12", "too short"),
        ("0690", "too short"),
        ("06 12 34 56 78 90 12 34", "too long"),
        # A Belgian mobile written without +32 reads as a French number, one digit too long.
        ("0470 12 34 567", "too long"),
        # An American number without +1.
        ("415 555 0123", "too long"),
        ("00 00 00 00 00", "not a valid phone number"),
    ],
)
def test_a_number_that_cannot_be_one_is_refused_with_a_reason(typed, why):
    with pytest.raises(phones.InvalidPhone) as refused:
        phones.for_storage(typed, FR)
    assert why in str(refused.value)
    # The reason is a message for the catalog, with the advice for a foreign number.
    assert refused.value.said.msgid == str(refused.value)
    if why != "only digits":
        assert "A number from abroad starts with + and its country code." in str(refused.value)


@pytest.mark.parametrize("query", ["+33 6 90 42", "06 90 42", "0690", "690 42", "0033 690 42"])
def test_every_way_of_writing_the_start_of_a_number_finds_it(query):
    key = phones.key(phones.for_storage("06 90 42 11 78", FR), FR)
    assert key == "690421178"
    assert phones.search_digits(query, FR) in key


def test_a_search_for_another_number_does_not_match():
    key = phones.key("+33612345678", FR)
    assert phones.search_digits("06 90", FR) not in key
    assert phones.search_digits("+32 6 12", FR) == "612"  # the country code is dropped


def test_numbers_old_events_hold_are_read_as_they_were_and_normalised_when_possible():
    # Before issue 15 events kept the number as typed, checked only for its characters.
    assert phones.normalised("06 12 34 56 78", FR) == "+33612345678"
    assert phones.display("06 12 34 56 78", FR) == "06 12 34 56 78"
    assert phones.normalised("12-34", FR) == "12-34"  # not a number: kept as it was
    assert phones.display("12-34", FR) == "12-34"
    assert phones.key("12-34", FR) == "1234"
    assert phones.key("06 12 34 56 78", FR) == "612345678"


def test_another_region_reads_national_numbers_as_its_own():
    assert phones.for_storage("0470 12 34 56", "BE") == "+32470123456"
    assert phones.display("+32470123456", "BE") == "0470 12 34 56"
    assert phones.display("+33612345678", "BE") == "+33 6 12 34 56 78"
