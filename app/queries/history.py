"""History from the event store itself (the only queries that read it): the appointment as
it was at any version, and a doctor's day as it stood at any earlier moment, with what
changed since; pages ask them only for such explicit looks into the past. An appointment's
timeline is a read model (`app/queries/timeline.py`); folding its stream here is what the
detail page falls back to while that read model is behind."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.domain.appointment import HOLDS_TIME, Appointment
from app.domain.clinic_time import local_day
from app.eventstore import EventStore, RecordedEvent
from app.metrics import timed
from app.projections import tables as t
from app.projections.timeline import PARTY_FIELDS, changes_made, summary


@dataclass(frozen=True)
class Change:
    field: str
    before: str | None
    after: str | None


@dataclass(frozen=True)
class HistoryEntry:
    """One event of an appointment, phrased for people."""

    version: int
    recorded_at: datetime
    actor: str
    summary: str
    changes: list[Change]


Names = Callable[[UUID | None], str]


def named(field: str, before: str | None, after: str | None, names: Names) -> Change:
    """A change as shown: the people in it by name (the timeline keeps their ids)."""
    if field in PARTY_FIELDS:
        before = names(UUID(before)) if before else None
        after = names(UUID(after)) if after else None
    return Change(field, before, after)


@timed("appointment_history_from_store")
def appointment_history(
    store: EventStore, appointment_id: UUID, *, tz: tzinfo, names: Names = str
) -> list[HistoryEntry]:
    """Every event of the appointment, oldest first, with what each one changed, folded
    from its stream (the timeline read model holds the same entries)."""
    records = _appointment_stream(store, appointment_id)
    state = Appointment(id=appointment_id)
    return [
        HistoryEntry(
            record.version,
            record.recorded_at,
            record.actor,
            summary(record),
            [named(*change, names) for change in changes_made(state, record, tz)],
        )
        for record in records
    ]


@dataclass(frozen=True)
class PastState:
    """The appointment as it was just after one of its versions."""

    appointment: Appointment
    recorded_at: datetime
    latest_version: int


def appointment_at_version(
    store: EventStore, appointment_id: UUID, version: int
) -> PastState | None:
    """The appointment folded up to `version`, or None if there is no such version."""
    records = _appointment_stream(store, appointment_id)
    if not 1 <= version <= len(records):
        return None
    state = Appointment.from_history(appointment_id, (r.event for r in records[:version]))
    return PastState(state, records[version - 1].recorded_at, len(records))


def _appointment_stream(store: EventStore, appointment_id: UUID) -> list[RecordedEvent]:
    records = store.load(appointment_id)
    if records and records[0].stream_type != "appointment":
        return []
    return records


@dataclass(frozen=True)
class ChangeSince:
    appointment_id: UUID
    version: int
    position: int
    recorded_at: datetime
    actor: str
    summary: str


@dataclass(frozen=True)
class AgendaAsOf:
    """A doctor's day as it stood at `at`, and every change to it after that."""

    at: datetime
    appointments: list[Appointment]  # active then, by start time
    changes_since: list[ChangeSince]  # oldest first


def agenda_as_of(
    store: EventStore,
    engine: Engine,
    doctor_id: UUID,
    day: date,
    at: datetime,
    *,
    tz: tzinfo,
) -> AgendaAsOf:
    """Replay, as of `at`, every appointment that was ever on the doctor's `day`.

    The read model only says which streams to look at (`rm_agenda_touches`); the answer
    itself comes from the events, so it is exactly what the clinic's record said then.
    """
    touches = t.agenda_touches
    query = sa.select(touches.c.appointment_id).where(
        touches.c.doctor_id == doctor_id, touches.c.day == day
    )
    with engine.connect() as conn:
        ids = list(conn.execute(query).scalars())
    then: list[Appointment] = []
    since: list[ChangeSince] = []
    for appointment_id, records in store.load_many(ids).items():
        known = [r.event for r in records if r.recorded_at <= at]
        state = Appointment.from_history(appointment_id, known)
        # Touched once: the appointment may have moved to another doctor or day since.
        held = state.exists and state.status in HOLDS_TIME and state.doctor_id == doctor_id
        if held and _on(state, day, tz):
            then.append(state)
        since.extend(
            ChangeSince(
                appointment_id,
                r.version,
                r.position,
                r.recorded_at,
                r.actor,
                summary(r),
            )
            for r in records
            if r.recorded_at > at
        )
    then.sort(key=lambda a: (a.starts_at, str(a.id)))
    since.sort(key=lambda c: (c.recorded_at, c.position))
    return AgendaAsOf(at, then, since)


def _on(state: Appointment, day: date, tz: tzinfo) -> bool:
    return state.starts_at is not None and local_day(state.starts_at, tz) == day


def names_from(rows: Mapping[UUID, str]) -> Names:
    """A name look-up for timelines, falling back to the id for someone unknown."""
    return lambda key: rows.get(key, str(key)) if key else ""
