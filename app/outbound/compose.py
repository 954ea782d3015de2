"""The words of a reminder: the e-mail (text, HTML, and the visit as an .ics) and the text
message, in the patient's language, from the facts the sender gathered.

Rendered with the app's Jinja templates (templates/reminders/) inside
`flask_babel.force_locale`, so they need an app context; autoescaping holds the HTML part
to what the clinic typed (a name with markup in it comes out as text)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from uuid import UUID

from babel.dates import format_datetime
from flask import render_template
from flask_babel import force_locale, gettext
from icalendar import Calendar, Event

from .channels import Email, Sms

BRAND = "Rendezvous"
SMS_LIMIT = 160


@dataclass(frozen=True)
class ReminderFacts:
    appointment_id: UUID
    kind: str  # "first" | "second"
    locale: str  # "en" | "fr"
    tz: tzinfo  # the clinic's
    starts_at: datetime
    ends_at: datetime
    patient_name: str
    doctor_name: str
    title: str
    clinic_name: str
    clinic_address: str
    clinic_phone: str
    what_to_bring: str
    link: str  # the patient's own page for this appointment
    sender: str  # the From address

    @property
    def clinic(self) -> str:
        return self.clinic_name or BRAND


# Babel patterns: "Tuesday 12 January 2027 at 09:30" / "mardi 12 janvier 2027 à 09:30".
_WHEN = {"en": "EEEE d MMMM y 'at' HH:mm", "fr": "EEEE d MMMM y 'à' HH:mm"}
_SHORT = {"en": "EEE d MMM, HH:mm", "fr": "EEE d MMM, HH:mm"}
_DAY = {"en": "EEEE d MMMM", "fr": "EEEE d MMMM"}


def _moment(facts: ReminderFacts, patterns: dict[str, str]) -> str:
    pattern = patterns.get(facts.locale, patterns["en"])
    return format_datetime(facts.starts_at.astimezone(facts.tz), pattern, locale=facts.locale)


def compose_email(facts: ReminderFacts, *, to: str, key: str) -> Email:
    """The reminder e-mail to `to`; `key` (the reminder's) names its Message-ID."""
    with force_locale(facts.locale):
        when = _moment(facts, _WHEN)
        subject = gettext(
            "Reminder: your appointment on %(day)s at %(time)s, %(clinic)s",
            day=_moment(facts, _DAY),
            time=facts.starts_at.astimezone(facts.tz).strftime("%H:%M"),
            clinic=facts.clinic,
        )
        context = {"facts": facts, "when": when, "subject": subject}
        text = render_template("reminders/email.txt", **context)
        html = render_template("reminders/email.html", **context)
        ics = calendar_of(facts)
    local = "".join(ch if ch.isalnum() or ch in "-." else "." for ch in key)
    return Email(
        to=to,
        subject=subject,
        text=text,
        html=html,
        ics=ics,
        message_id=f"<{local}@rendezvous>",
        sender=facts.sender,
    )


def calendar_of(facts: ReminderFacts) -> bytes:
    """The visit as an iCalendar event, the same UID in every reminder of the appointment
    so that a calendar updates one event, in the clinic's zone with its VTIMEZONE."""
    calendar = Calendar()
    calendar.add("prodid", "-//Rendezvous//Reminders//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"{facts.appointment_id}@rendezvous")
    event.add("dtstamp", datetime.now(UTC))
    event.add("dtstart", facts.starts_at.astimezone(facts.tz))
    event.add("dtend", facts.ends_at.astimezone(facts.tz))
    event.add("summary", gettext("Appointment with %(doctor)s", doctor=facts.doctor_name))
    if facts.clinic_address:
        event.add("location", f"{facts.clinic}, {facts.clinic_address}")
    event.add(
        "description", gettext("Confirm or cancel your appointment: %(link)s", link=facts.link)
    )
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()


def compose_sms(facts: ReminderFacts, *, to: str, key: str) -> Sms:
    """At most 160 GSM-7 characters: the clinic, the time, the doctor and the link; when it
    would be longer the doctor goes first, then the clinic's name is cut; never the link."""
    with force_locale(facts.locale):
        when = _moment(facts, _SHORT)
        clinic = facts.clinic
        for with_doctor in (True, False):
            text = _sms_text(facts, clinic, when, with_doctor)
            if len(text) <= SMS_LIMIT:
                return Sms(to=to, text=text, key=key)
        room = SMS_LIMIT - len(_sms_text(facts, "", when, False))
        clinic = gsm7(clinic)[: max(0, room - 1)].rstrip() + "." if room > 1 else ""
        return Sms(to=to, text=_sms_text(facts, clinic, when, False), key=key)


def _sms_text(facts: ReminderFacts, clinic: str, when: str, with_doctor: bool) -> str:
    if with_doctor:
        said = gettext(
            "%(clinic)s: reminder of your appointment on %(when)s with %(doctor)s. "
            "Confirm or cancel: %(link)s",
            clinic=clinic,
            when=when,
            doctor=facts.doctor_name,
            link=facts.link,
        )
    else:
        said = gettext(
            "%(clinic)s: reminder of your appointment on %(when)s. Confirm or cancel: %(link)s",
            clinic=clinic,
            when=when,
            link=facts.link,
        )
    return gsm7(said)


# GSM 03.38: the basic character set and its extension table.
_GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENSION = "^{}\\[~]|€\f"
_GSM = frozenset(_GSM_BASIC + _GSM_EXTENSION)
# What French typography and names put in a text that GSM-7 lacks, and what stands in.
_TYPOGRAPHY = {
    "\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "«": '"', "»": '"',
    "\u202f": " ", "\u00a0": " ", "\u2013": "-", "\u2014": "-", "\u2026": "...",
    "ç": "c", "Œ": "OE", "œ": "oe",
}  # fmt: skip


def is_gsm7(text: str) -> bool:
    return all(ch in _GSM for ch in text)


def gsm7(text: str) -> str:
    """`text` in GSM-7 where it can be: typography made plain, then accents GSM-7 lacks
    dropped (é, è, à, ù stay; ê, â, î, ô, û, ë, ï lose theirs)."""
    out = []
    for ch in text:
        ch = _TYPOGRAPHY.get(ch, ch)
        if all(c in _GSM for c in ch):
            out.append(ch)
            continue
        plain = "".join(c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c))
        out.append(plain if plain and all(c in _GSM for c in plain) else ch)
    return "".join(out)
