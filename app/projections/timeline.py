"""The timeline projection: an appointment's history as its detail page shows it, a row per
event (who, when, what it changed), so that showing it reads the read database, not the
event store. The history queries that fold a stream share these functions.

Rows hold data, not words: the event's type, and each change as a field key with its raw
values (a status code, a UTC time in ISO 8601, an id, the text staff typed). The pages word
them in the reader's language (app/web/history_words.py), so one row serves both."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from app.domain.appointment import Appointment, Status
from app.domain.clinic_time import to_utc
from app.domain.events import APPOINTMENT_EVENTS, AppointmentCancelled, AppointmentRescheduled
from app.eventstore import RecordedEvent

from . import tables as t
from .projection import Projection
from .view import Key, Row, Tag, View

# (field, before, after): a field key and its raw values.
Change = tuple[str, str | None, str | None]

# Their values are ids: a page names the people as they are called now, as it did when it
# folded the stream on every view, so a patient's new name shows on their old entries too.
PARTY_FIELDS = ("doctor", "patient")


def _values(state: Appointment) -> dict[str, Any]:
    """The fields the timeline speaks of, as the state holds them."""
    return {
        "status": state.status,
        "starts_at": state.starts_at,
        "ends_at": state.ends_at,
        "doctor": state.doctor_id,
        "patient": state.patient_id,
        "title": state.title,
    }


def _raw(value: Any) -> str | None:
    """One field's value as the row keeps it: a status's code, a time in UTC, an id."""
    if not value:
        return None
    if isinstance(value, Status):
        return value.value
    if isinstance(value, datetime):
        return to_utc(value).isoformat()
    return str(value)


def changes_made(state: Appointment, record: RecordedEvent, tz: tzinfo) -> list[Change]:
    """Fold `record` into `state`, and say what that changed. Only the fields whose values
    changed are worded: a rebuild passes every event of the log here."""
    before = _values(state)
    state.apply(record.event)
    after = _values(state)
    changes: list[Change] = []
    for field, value in after.items():
        if before[field] != value:
            old, new = _raw(before[field]), _raw(value)
            if old != new:
                changes.append((field, old, new))
    reason = getattr(record.event, "reason", "")
    if isinstance(record.event, AppointmentCancelled | AppointmentRescheduled) and reason:
        changes.append(("reason", None, reason))
    return changes


def summary(record: RecordedEvent) -> str:
    """What happened, as the row keeps it: the event's type ('AppointmentRescheduled')."""
    return record.event_type


def _timeline_tags(row: Row, tz: tzinfo) -> list[Tag]:
    return [("timeline", row["appointment_id"])]


# Version 2: rows keep field keys and raw values, worded by the pages (issue 15).
timeline = Projection(
    "timeline", version=2, tables=(t.timeline,), taggers={t.timeline: _timeline_tags}
)


def _previous(record: RecordedEvent) -> list[tuple[Any, Key]]:
    """The entry before this event's, which holds the state the event applies to."""
    if record.version == 1:
        return []
    return [(t.timeline, (record.stream_id, record.version - 1))]


def _state_before(view: View, record: RecordedEvent) -> Appointment:
    if record.version == 1:
        return Appointment(id=record.stream_id)
    row = view.require(t.timeline, (record.stream_id, record.version - 1))
    return Appointment(
        id=record.stream_id,
        version=record.version - 1,
        patient_id=row["patient_id"],
        doctor_id=row["doctor_id"],
        # Rows read back from SQLite hold naive UTC times.
        starts_at=to_utc(row["starts_at"]) if row["starts_at"] else None,
        ends_at=to_utc(row["ends_at"]) if row["ends_at"] else None,
        title=row["title"],
        status=Status(row["status"]) if row["status"] else None,
    )


def on_appointment_event(view: View, record: RecordedEvent) -> None:
    """Any event of an appointment: one more entry, worded from the state before it."""
    state = _state_before(view, record)
    changes = changes_made(state, record, view.tz)
    view.put(
        t.timeline,
        {
            "appointment_id": record.stream_id,
            "version": record.version,
            "recorded_at": record.recorded_at,
            "actor": record.actor,
            "summary": summary(record),
            "changes": [list(change) for change in changes],
            "status": state.status.value if state.status else None,
            "starts_at": state.starts_at,
            "ends_at": state.ends_at,
            "patient_id": state.patient_id,
            "doctor_id": state.doctor_id,
            "title": state.title,
        },
    )


for _event_type in APPOINTMENT_EVENTS:
    timeline.on(_event_type, loads=_previous)(on_appointment_event)
