"""Patients' phone numbers, read the way the clinic writes them (CLINIC_REGION): checked
with Google's libphonenumber rules (the `phonenumbers` port), stored in E.164, shown in
the national form, and matched by their national digits whatever way they are typed.

Outside the layers on purpose: the commands check numbers, the projections normalise the
ones old events hold, and the queries shape a search the same way; none of them may import
another's. The domain stays without it (standard library only): it stores what it is given.
"""

from __future__ import annotations

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat

from app.domain.messages import Message, phrase

# A number typed by hand: at most this many characters (E.164 is at most 16).
MAX_TYPED = 25


class InvalidPhone(ValueError):
    """A phone number that cannot be a real one; `said` tells staff why."""

    def __init__(self, said: Message) -> None:
        super().__init__(str(said))
        self.said = said


# Regions whose numbers are dialled at home as the clinic's are: France's overseas
# departments share its national plan ("06 90 …" is a Guadeloupe mobile, dialled so from
# Paris), under country codes of their own.
SHARED_PLANS = {
    "FR": ("GP", "MQ", "GF", "RE", "YT", "PM", "BL", "MF", "NC", "PF", "WF"),
}


def _too_long() -> InvalidPhone:
    return InvalidPhone(
        phrase(
            "That phone number is too long. A number from abroad starts with + and its "
            "country code."
        )
    )


def _parse(text: str, region: str) -> phonenumbers.PhoneNumber | None:
    """The number `text` reads as in `region`, or in a region sharing its plan when it is
    written nationally and is valid only there."""
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException:
        return None
    if phonenumbers.is_valid_number(number) or text.lstrip().startswith("+"):
        return number
    for other in SHARED_PLANS.get(region, ()):
        try:
            candidate = phonenumbers.parse(text, other)
        except NumberParseException:
            continue
        if phonenumbers.is_valid_number(candidate):
            return candidate
    return number


def _home(number: phonenumbers.PhoneNumber, region: str) -> bool:
    found = phonenumbers.region_code_for_number(number)
    return found == region or found in SHARED_PLANS.get(region, ())


def for_storage(typed: str, region: str) -> str:
    """The number as events keep it, E.164 ("+33690421178"); "" for no number. Raises
    InvalidPhone with a sentence for the desk when it cannot be a number."""
    text = " ".join(typed.split())
    if not text:
        return ""
    if any(ch.isalpha() for ch in text):
        raise InvalidPhone(phrase("A phone number holds only digits, spaces and +."))
    if len(text) > MAX_TYPED or sum(ch.isdigit() for ch in text) > 15:
        raise _too_long()
    number = _parse(text, region)
    if number is None or not phonenumbers.is_possible_number(number):
        if number is not None and phonenumbers.is_possible_number_with_reason(number) == (
            phonenumbers.ValidationResult.TOO_LONG
        ):
            raise _too_long()
        raise InvalidPhone(
            phrase(
                "That phone number is too short or incomplete. A number from abroad starts "
                "with + and its country code."
            )
        )
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone(
            phrase(
                "That is not a valid phone number. A number from abroad starts with + and "
                "its country code."
            )
        )
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def key(stored: str, region: str) -> str:
    """The digits a search matches a stored number by: its national significant number
    ("690421178"), or the search shape of what was typed when it is not a number."""
    number = _parse(stored, region) if stored else None
    if number is None or not phonenumbers.is_valid_number(number):
        return search_digits(stored, region)
    return phonenumbers.national_significant_number(number)


def normalised(stored: str, region: str) -> str:
    """A number an event holds, as new events hold them: E.164 when it reads as a valid
    number, else as it was typed (old events were checked only for their characters)."""
    number = _parse(stored, region) if stored else None
    if number is None or not phonenumbers.is_valid_number(number):
        return stored
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def display(stored: str, region: str) -> str:
    """How a page shows it: "06 90 42 11 78" for the clinic's country, "+32 470 12 34 56"
    for another, as typed when it does not read as a number."""
    number = _parse(stored, region) if stored else None
    if number is None or not phonenumbers.is_valid_number(number):
        return stored
    if not _home(number, region):
        return phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
    if phonenumbers.region_code_for_number(number) != region:
        # Written as the clinic's own numbers are: "06 90 42 11 78", not Guadeloupe's
        # "0690 42 11 78".
        as_home = phonenumbers.PhoneNumber(
            country_code=phonenumbers.country_code_for_region(region),
            national_number=number.national_number,
        )
        return phonenumbers.format_number(as_home, PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)


def search_digits(text: str, region: str) -> str:
    """The national digits of a number or of its first part, without the country code or
    the trunk 0: "+33 6 90 42", "0033 6 90 42", "06 90 42" and "690 42" all give "69042",
    so each finds "06 90 42 11 78". Works on a part of a number, which the parser cannot."""
    digits = "".join(ch for ch in text if ch.isdigit())
    international = text.lstrip().startswith("+") or digits.startswith("00")
    if international:
        digits = digits[2:] if digits.startswith("00") else digits
        for length in (1, 2, 3):
            code = digits[:length]
            if phonenumbers.region_code_for_country_code(int(code or 0)) != "ZZ":
                digits = digits[length:]
                break
        # "+33 (0)6 …": the trunk 0 written after the country code.
        return digits.removeprefix("0")
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    trunk = (metadata.national_prefix if metadata else None) or ""
    return digits.removeprefix(trunk) if trunk else digits


def textable(stored: str, region: str) -> str | None:
    """The number in E.164 when a text message can reach it (a mobile, or a number whose
    plan does not tell mobiles apart), else None: a landline or a number that is not one."""
    number = _parse(stored, region) if stored else None
    if number is None or not phonenumbers.is_valid_number(number):
        return None
    kind = phonenumbers.number_type(number)
    if kind not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        return None
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)
