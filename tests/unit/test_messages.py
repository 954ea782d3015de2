"""The domain's words as messages: an id (the English sentence) and values, rendered here
in English; the web renders the same message in the reader's language
(tests/integration/test_french.py)."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from app.domain.appointment import Status, why_not
from app.domain.diary import Booked, check_free
from app.domain.errors import SlotTakenError, ValidationError
from app.domain.messages import phrase, phrase_n
from app.domain.rules import clean_text

PARIS = ZoneInfo("Europe/Paris")


def test_a_message_renders_its_values_in_english():
    moment = datetime(2027, 1, 14, 9, 30, tzinfo=PARIS)
    said = phrase(
        "%(who)s on %(when)s, %(day)s at %(clock)s",
        who="Alice",
        when=moment,
        day=date(2027, 1, 15),
        clock=time(14, 0),
    )
    assert said.msgid == "%(who)s on %(when)s, %(day)s at %(clock)s"
    assert (
        str(said) == "Alice on Thursday 14 January 2027 at 09:30, Friday 15 January 2027 at 14:00"
    )


@pytest.mark.parametrize(("count", "text"), [(0, "0 minutes"), (1, "1 minute"), (2, "2 minutes")])
def test_a_plural_follows_its_count_in_english(count, text):
    assert str(phrase_n("%(num)d minute", "%(num)d minutes", count)) == text


def test_messages_nest_and_a_refusal_keeps_its_message_and_its_english():
    said = why_not("confirm", Status.CANCELLED, starts_at=None)
    assert said is not None
    assert said.msgid == "Only a pending appointment can be confirmed; this one is %(status)s."
    assert said.params["status"] == Status.CANCELLED.word
    assert str(said) == "Only a pending appointment can be confirmed; this one is cancelled."


def test_a_field_error_names_its_field_as_a_message():
    with pytest.raises(ValidationError) as refused:
        clean_text("", field="full_name", label=phrase("The patient's name"), max_length=10)
    said = refused.value.said_errors["full_name"]
    assert (
        said.msgid == "%(field)s is required." and str(said.params["field"]) == "The patient's name"
    )
    assert refused.value.errors == {"full_name": "The patient's name is required."}


def test_a_taken_time_says_how_long_is_free_with_a_plural():
    start = datetime(2027, 1, 14, 9, 0, tzinfo=PARIS)
    ends = datetime(2027, 1, 14, 9, 30, tzinfo=PARIS)
    other = Booked(datetime(2027, 1, 14, 9, 1, tzinfo=PARIS), ends, "Jean Dupont")
    with pytest.raises(SlotTakenError) as taken:
        check_free(start, start.replace(minute=30), [other], doctor_name="Dr Martin", tz=PARIS)
    assert "only 1 minute free from 09:00" in taken.value.message
    assert taken.value.said.params["free"].count == 1
