"""The words of a reminder: the e-mail (text, HTML and an .ics) and the text message, in
the patient's language, from the facts of one appointment.

The sentences come from the French catalog through Babel itself, not Flask-Babel: the text
message must be composable without Flask (tests/unit runs without it), and Flask-Babel reads
the same compiled catalog. The e-mail's templates get finished sentences for the same reason
and two more: babel.cfg extracts only .html templates, and the app's template _() returns
markup, which would escape a name like "O'Brien" in the plain-text part.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from email.utils import formataddr, parseaddr
from functools import lru_cache
from pathlib import Path
from typing import Any
from uuid import UUID

from babel.dates import format_datetime
from babel.support import NullTranslations, Translations
from icalendar import Calendar, Event

from .channels import Email, Sms

TRANSLATIONS = Path(__file__).resolve().parents[1] / "translations"
SMS_LIMIT = 160  # one GSM-7 segment, in septets
_MIN_CLINIC = 8  # a clinic's name is never cut shorter than this, even past the limit

# The clinic's 24-hour clock in both languages; the word before it is the language's own.
# A text message has no room for it: its link alone is about 100 characters of the 160.
PATTERNS = {
    "en": {"full": "EEEE d MMMM y 'at' HH:mm", "subject": "EEEE d MMMM 'at' HH:mm",
           "sms": "EEE d MMM HH:mm"},
    "fr": {"full": "EEEE d MMMM y 'à' HH:mm", "subject": "EEEE d MMMM 'à' HH:mm",
           "sms": "EEE d MMM HH:mm"},
}  # fmt: skip

# GSM 03.38: the basic set (one septet each) and its extension table (two: escape + code).
# 0x09 is the capital Ç; a small ç is not in the set.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")
_TYPOGRAPHY = {
    "\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u201c": '"', "\u201d": '"',
    "«": '"', "»": '"', "\u2013": "-", "\u2014": "-", "\u2011": "-", "\u2010": "-",
    "…": "...", "\u00a0": " ", "\u202f": " ", "\u2009": " ", "\u2007": " ",
    "œ": "oe", "Œ": "OE",
}  # fmt: skip


@dataclass(frozen=True)
class ReminderFacts:
    appointment_id: UUID
    kind: str  # "first" (REMINDER_HOURS_BEFORE) or "second" (the shorter one)
    locale: str  # "en" or "fr"
    tz: tzinfo  # the clinic's
    starts_at: datetime  # aware
    ends_at: datetime  # aware
    patient_name: str
    doctor_name: str
    title: str  # the reason for the visit, may be ""
    clinic_name: str  # may be "" (then "Rendezvous")
    clinic_address: str  # may be "", may hold newlines
    clinic_phone: str
    what_to_bring: str
    link: str  # the absolute URL of the patient's page for this appointment
    sender: str  # the From address


@lru_cache(maxsize=8)
def _catalog(directory: Path, locale: str) -> NullTranslations:
    # No compiled catalog (before `make translations`) reads as English, as in Flask-Babel.
    return Translations.load(str(directory), [locale], domain="messages")


class _Words:
    """gettext on one language's catalog, `%(name)s` filled from keywords."""

    def __init__(self, locale: str) -> None:
        self.locale = locale if locale in PATTERNS else "en"
        self._catalog = _catalog(TRANSLATIONS, self.locale)

    def gettext(self, msgid: str, **values: Any) -> str:
        text = self._catalog.gettext(msgid)
        return text % values if values else text

    def moment(self, facts: ReminderFacts, pattern: str) -> str:
        when = facts.starts_at.astimezone(facts.tz)
        return format_datetime(when, PATTERNS[self.locale][pattern], locale=self.locale)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def compose_email(facts: ReminderFacts, *, to: str, key: str) -> Email:
    """The reminder e-mail; renders templates/reminders/, so it needs an app context."""
    from flask import render_template
    from flask_babel import force_locale

    words = _Words(facts.locale)
    clinic = _one_line(facts.clinic_name) or "Rendezvous"
    subject = words.gettext(
        "Reminder: your appointment on %(when)s \u2013 %(clinic)s",
        when=words.moment(facts, "subject"),
        clinic=clinic,
    )
    rows = [
        (words.gettext("When"), [words.moment(facts, "full")]),
        (words.gettext("Doctor"), [facts.doctor_name]),
        (words.gettext("Reason"), _lines(facts.title)),
        (words.gettext("Where"), [clinic, *_lines(facts.clinic_address)]),
        (words.gettext("Phone"), _lines(facts.clinic_phone)),
        (words.gettext("What to bring"), _lines(facts.what_to_bring)),
    ]
    context = {
        "locale": words.locale,
        "subject": subject,
        "greeting": words.gettext("Hello %(name)s,", name=_one_line(facts.patient_name)),
        # Two calls, not one on a conditional: pybabel would join the two msgids into one.
        "intro": (
            words.gettext("Your appointment is coming up soon.")
            if facts.kind == "second"
            else words.gettext("This is a reminder of your appointment.")
        ),
        "rows": [
            {
                "label": label,
                "label_colon": words.gettext("%(label)s:", label=label),
                "lines": lines,
            }
            for label, lines in rows
            if lines
        ],
        "action": words.gettext("Confirm or cancel your appointment"),
        "link": facts.link,
        "calendar_note": words.gettext("The attached file adds the appointment to your calendar."),
        "clinic": clinic,
    }
    with force_locale(words.locale):
        text = render_template("reminders/email.txt", **context)
        html = render_template("reminders/email.html", **context)
    sender = facts.sender
    if not parseaddr(sender)[0]:  # a bare address: patients know the clinic's name better
        sender = formataddr((clinic, sender))
    return Email(
        to=to,
        subject=subject,
        text=text,
        html=html,
        ics=_ics(facts, words),
        message_id=f"<{_atom(key)}@rendezvous>",
        sender=sender,
    )


def _atom(key: str) -> str:
    # A reminder key holds colons, which a Message-ID's left part may not (RFC 5322 dot-atom).
    return re.sub(r"[^A-Za-z0-9-]+", ".", key).strip(".") or "reminder"


def _ics(facts: ReminderFacts, words: _Words) -> bytes:
    """One VEVENT, its UID the appointment's: a later reminder's file updates the same one."""
    start, end = facts.starts_at.astimezone(facts.tz), facts.ends_at.astimezone(facts.tz)
    link = words.gettext("Confirm or cancel your appointment: %(link)s", link=facts.link)
    calendar = Calendar.new(prodid="-//Rendezvous//Appointment reminder//EN", method="PUBLISH")
    calendar.add_component(
        Event.new(
            uid=f"{facts.appointment_id}@rendezvous",
            stamp=datetime.now(UTC),
            start=start,
            end=end,
            summary=words.gettext("Appointment with %(doctor)s", doctor=facts.doctor_name),
            location=", ".join(_lines(facts.clinic_address)) or _one_line(facts.clinic_name),
            description="\n\n".join([*_lines(facts.title), link]),
            url=facts.link,
        )
    )
    # The zone's rules around the visit only, built by the library from zoneinfo.
    calendar.add_missing_timezones(
        first_date=(start - timedelta(days=1)).date(), last_date=(end + timedelta(days=1)).date()
    )
    return calendar.to_ical()


def is_gsm7(text: str) -> bool:
    """Whether `text` fits the GSM 03.38 alphabet (basic set and extension table)."""
    return all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in text)


def gsm7(text: str) -> str:
    """`text` in GSM-7 as far as it goes: typography made plain, accents the alphabet lacks
    dropped (ê→e, ç→c; é and à stay). A character with no plain form is kept."""
    return "".join(_gsm7_char(char) for char in text)


def _gsm7_char(char: str) -> str:
    if char in GSM7_BASIC or char in GSM7_EXTENSION:
        return char
    if char in _TYPOGRAPHY:
        return _TYPOGRAPHY[char]
    base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    return base if base and is_gsm7(base) else char


def sms_length(text: str) -> int:
    """What `text` costs of a message: septets in GSM-7 (an extension character is two),
    else characters."""
    if not is_gsm7(text):
        return len(text)
    return sum(2 if char in GSM7_EXTENSION else 1 for char in text)


def compose_sms(facts: ReminderFacts, *, to: str, key: str) -> Sms:
    """The reminder text message, in one segment whenever the link leaves room: past
    SMS_LIMIT the doctor goes first, then the clinic's name is cut; the link never is."""
    words = _Words(facts.locale)
    when = words.moment(facts, "sms")

    def text(clinic: str, doctor: str) -> str:
        if doctor:
            said = words.gettext(
                "%(clinic)s, %(when)s with %(doctor)s. Confirm or cancel: %(link)s",
                clinic=clinic,
                when=when,
                doctor=doctor,
                link=facts.link,
            )
        else:
            said = words.gettext(
                "%(clinic)s, %(when)s. Confirm or cancel: %(link)s",
                clinic=clinic,
                when=when,
                link=facts.link,
            )
        return gsm7(said)

    clinic = gsm7(_one_line(facts.clinic_name) or "Rendezvous")
    for doctor in (gsm7(_one_line(facts.doctor_name)), ""):
        said = text(clinic, doctor)
        if sms_length(said) <= SMS_LIMIT:
            return Sms(to=to, text=said, key=key)
    room = max(SMS_LIMIT - sms_length(text("", "")), _MIN_CLINIC)
    return Sms(to=to, text=text(_cut(clinic, room), ""), key=key)


def _cut(name: str, room: int) -> str:
    """`name` in at most `room` septets (or characters), "..." marking the cut."""
    if sms_length(name) <= room:
        return name
    while name and sms_length(name) > room - 3:
        name = name[:-1]
    return name.rstrip(" ,.-") + "..."
