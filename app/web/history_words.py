"""An appointment's history in words, in the reader's language: the timeline read model and
the folded history keep event types, field keys and raw values (app/projections/timeline.py);
this words them when a page shows them.

Rows written before the timeline kept data (version 1 of the projection, English words)
still read well until the rebuild: an unknown key is looked up as an English msgid."""

from __future__ import annotations

from datetime import datetime

from app.domain.messages import N_
from app.extensions import services

from . import i18n

EVENTS = {
    "AppointmentCreated": N_("Appointment created"),
    "AppointmentConfirmed": N_("Appointment confirmed"),
    "AppointmentCancelled": N_("Appointment cancelled"),
    "AppointmentRescheduled": N_("Appointment rescheduled"),
    "AppointmentCheckedIn": N_("Appointment checked in"),
    "AppointmentCompleted": N_("Appointment completed"),
    "AppointmentMarkedNoShow": N_("Appointment marked no show"),
    "AppointmentCheckInUndone": N_("Check-in undone"),
    "AppointmentNoShowUndone": N_("No-show undone"),
    "AppointmentCompletionUndone": N_("Completion undone"),
    "AppointmentCancellationUndone": N_("Cancellation undone"),
}
FIELDS = {
    "status": N_("Status"),
    "starts_at": N_("Starts"),
    "ends_at": N_("Ends"),
    "doctor": N_("Doctor"),
    "patient": N_("Patient"),
    "title": N_("Reason for visit"),
    "reason": N_("Reason given"),
}
# A status inside a sentence or a change ("pending → confirmed").
STATUS_WORDS = {
    "pending": N_("pending"),
    "confirmed": N_("confirmed"),
    "checked_in": N_("checked in"),
    "completed": N_("completed"),
    "cancelled": N_("cancelled"),
    "no_show": N_("no-show"),
}
MOMENTS = frozenset({"starts_at", "ends_at"})


def event_summary(event_type: str) -> str:
    """'Appointment rescheduled', 'Rendez-vous déplacé'."""
    return i18n.gettext(EVENTS.get(event_type, event_type))


def field_label(field: str) -> str:
    return i18n.gettext(FIELDS.get(field, field))


def field_value(field: str, value: str | None) -> str:
    """A change's value: a status as the desk says it, a time in the clinic's zone."""
    if not value:
        return ""
    if field == "status" and value in STATUS_WORDS:
        return i18n.gettext(STATUS_WORDS[value])
    if field in MOMENTS:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value  # worded before the timeline kept data
        return i18n.moment_text(moment.astimezone(services().tz), "full_moment")
    return value


def status_word(status: object) -> str:
    """A status inside a sentence, lower case in both languages ('en attente')."""
    code = str(getattr(status, "value", status))
    return i18n.gettext(STATUS_WORDS.get(code, code))
