"""How far the read models trail the event store, and whether one record has caught up.

Pages built from read models say when those lag (so staff never act on stale data without
knowing), and a page shown right after a command waits until its own change is projected.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.domain.appointment import Appointment
from app.eventstore import START, EventStore
from app.projections import checkpoints as cp
from app.projections import tables as t
from app.projections.projector import Projector

# A lag shorter than this is the normal life of an asynchronous projection, not news.
STALE_AFTER_SECONDS = 3.0

_VERSIONED = {
    "appointment": (t.appointments, t.appointments.c.appointment_id),
    "patient": (t.patients, t.patients.c.patient_id),
    "doctor": (t.doctors, t.doctors.c.doctor_id),
    # A doctor's absences and one-off hours, as the call list and free times read them.
    "availability": (t.doctor_availability, t.doctor_availability.c.doctor_id),
    "clinic": (t.clinic_days, t.clinic_days.c.clinic_id),
    "series": (t.series, t.series.c.series_id),
    "waitlist": (t.waitlist, t.waitlist.c.waitlist_id),
}
# The stream each kind of expectation follows.
STREAM_OF = {"availability": "doctor"}


@dataclass(frozen=True)
class Recorded:
    """A record as the event store has it, whatever the read models show yet: its version
    and whose it is (for the access check of a record not projected yet)."""

    kind: str
    version: int
    doctor_id: UUID | None = None
    patient_id: UUID | None = None


@dataclass(frozen=True)
class Freshness:
    """`pending_since`: when the oldest event not yet in the read models was recorded (the
    read models show the book as it was just before then); None when they are up to date."""

    pending_since: datetime | None
    checked_at: datetime

    @property
    def behind_seconds(self) -> float:
        if self.pending_since is None:
            return 0.0
        return max((self.checked_at - self.pending_since).total_seconds(), 0.0)

    @property
    def stale(self) -> bool:
        return self.behind_seconds > STALE_AFTER_SECONDS


def freshness(projector: Projector, names: Iterable[str]) -> Freshness:
    """How current the read models of the projections `names` are: two index probes."""
    with projector.engine.connect() as conn:
        rows = cp.read_all(conn)
    marks = [rows[name].checkpoint if name in rows else START for name in names]
    pending = projector.store.first_after(min(marks, default=START))
    return Freshness(pending, projector.clock())


def projected_version(engine: Engine, kind: str, record_id: UUID) -> int | None:
    """The version of a patient, doctor or appointment that its read model shows (None: not
    projected yet)."""
    table, key = _VERSIONED[kind]
    with engine.connect() as conn:
        return conn.execute(sa.select(table.c.version).where(key == record_id)).scalar()


def recorded(store: EventStore, kind: str, record_id: UUID) -> Recorded | None:
    """The appointment, patient or doctor as the store has it (None: no such record)."""
    history = store.load(record_id)
    if not history or history[0].stream_type != STREAM_OF.get(kind, kind):
        return None
    version = history[-1].version
    if kind == "appointment":
        state = Appointment.from_history(record_id, (r.event for r in history))
        return Recorded(kind, version, state.doctor_id, state.patient_id)
    if kind == "patient":
        return Recorded(kind, version, patient_id=record_id)
    if kind in ("clinic", "series", "waitlist"):
        return Recorded(kind, version)
    return Recorded(kind, version, doctor_id=record_id)


def already_run(store: EventStore, command_id: UUID) -> bool:
    """Whether a command of this id has been run: a form sent a second time, whose answer
    the bus gives again (so a check made before the first run is not made again)."""
    return store.find_command(command_id) is not None


def versions(engine: Engine, names: Iterable[str]) -> tuple[tuple[Any, ...], ...]:
    """The named projections' checkpoints (code version, transaction and position), one
    small query. The projector moves a checkpoint in the same transaction as the rows it
    changes, so what was worked out from those tables still holds while these are equal:
    the key of the calendar's memo (app/web/calendar.py)."""
    c = t.checkpoints
    query = (
        sa.select(c.c.name, c.c.version, c.c.tx_id, c.c.position)
        .where(c.c.name.in_(sorted(names)))
        .order_by(c.c.name)
    )
    with engine.connect() as conn:
        return tuple(tuple(row) for row in conn.execute(query))
