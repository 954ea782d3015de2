"""A doctor's agenda for a day or a week, and their free slots for a day."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, tzinfo
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from app.domain.appointment import HOLDS_TIME
from app.domain.availability import Schedule
from app.domain.clinic_time import day_bounds, local_day
from app.metrics import timed
from app.projections import tables as t

from .appointments import AppointmentRow
from .availability import schedules
from .rows import row_to
from .slots import Slot, free_slots, free_starts, slot_grid

NO_SCHEDULE = Schedule("", {})


@dataclass(frozen=True)
class DoctorRow:
    doctor_id: UUID
    full_name: str
    specialty: str
    slot_minutes: int
    hours: dict[str, Any] | None
    registered_at: datetime
    changed_at: datetime
    version: int
    # When they work, by the one availability rule; joined in by `with_schedules`.
    schedule: Schedule = field(default=NO_SCHEDULE, compare=False)

    @classmethod
    def from_row(cls, row: Any) -> DoctorRow:
        return row_to(cls, row)


def with_schedules(conn: Connection, doctors: list[DoctorRow]) -> list[DoctorRow]:
    """The doctors with their schedules (one-off hours, absences, the clinic's days)."""
    found = schedules(conn, [(d.doctor_id, d.full_name, d.hours) for d in doctors])
    return [replace(d, schedule=found[d.doctor_id]) for d in doctors]


def doctors_by_id(engine: Engine, doctor_ids: Iterable[UUID]) -> dict[UUID, DoctorRow]:
    """The doctors named, with their schedules: three queries however many they are."""
    wanted = set(doctor_ids)
    if not wanted:
        return {}
    query = sa.select(t.doctors).where(t.doctors.c.doctor_id.in_(wanted))
    with engine.connect() as conn:
        rows = [DoctorRow.from_row(row) for row in conn.execute(query).mappings()]
        return {found.doctor_id: found for found in with_schedules(conn, rows)}


@timed("doctor_detail")
def doctor(engine: Engine, doctor_id: UUID) -> DoctorRow | None:
    query = sa.select(t.doctors).where(t.doctors.c.doctor_id == doctor_id)
    with engine.connect() as conn:
        row = conn.execute(query).mappings().first()
        return with_schedules(conn, [DoctorRow.from_row(row)])[0] if row is not None else None


HOLDING = tuple(sorted(s.value for s in HOLDS_TIME))


def overlapping(
    doctor_ids: Sequence[UUID],
    start: datetime,
    end: datetime,
    *columns: Any,
    holding_only: bool = False,
) -> sa.Select[Any]:
    """The doctors' appointments that overlap [start, end), by start: every column unless
    `columns` are named, only those that hold time if `holding_only`. One query for any
    number of doctors (agendas, the calendar, first available)."""
    a = t.appointments
    query = sa.select(*(columns or (a,))).where(
        a.c.doctor_id.in_(doctor_ids),
        a.c.starts_at < end,
        a.c.ends_at > start,
        # An appointment never lasts more than a day: bound the index scan from below too.
        a.c.starts_at >= start - timedelta(days=1),
    )
    if holding_only:
        query = query.where(a.c.status.in_(HOLDING))
    return query.order_by(a.c.starts_at, a.c.appointment_id)


def _between(
    engine: Engine, doctor_id: UUID, start: datetime, end: datetime, *, holding_only: bool
) -> list[AppointmentRow]:
    query = overlapping([doctor_id], start, end, holding_only=holding_only)
    with engine.connect() as conn:
        return [AppointmentRow.from_row(row) for row in conn.execute(query).mappings()]


def agenda_for_day(
    engine: Engine, doctor_id: UUID, day: date, *, tz: tzinfo
) -> list[AppointmentRow]:
    """The doctor's appointments on a clinic-local day, cancelled ones included, by time."""
    start, end = day_bounds(day, tz)
    return _between(engine, doctor_id, start, end, holding_only=False)


def birth_dates(engine: Engine, patient_ids: set[UUID]) -> dict[UUID, date | None]:
    """The patients' dates of birth, for the doctor's printed day."""
    # Read from the directory by primary key, not copied into the cached agenda rows: a
    # corrected date of birth shows at once, with no agenda entry to invalidate.
    if not patient_ids:
        return {}
    p = t.patients
    query = sa.select(p.c.patient_id, p.c.date_of_birth).where(p.c.patient_id.in_(patient_ids))
    with engine.connect() as conn:
        return {row.patient_id: row.date_of_birth for row in conn.execute(query)}


def agenda_for_week(
    engine: Engine, doctor_id: UUID, monday: date, *, tz: tzinfo
) -> dict[date, list[AppointmentRow]]:
    """Seven days from `monday`, each with its appointments by time."""
    days = [monday + timedelta(days=n) for n in range(7)]
    start, end = day_bounds(days[0], tz)[0], day_bounds(days[-1], tz)[1]
    week: dict[date, list[AppointmentRow]] = {day: [] for day in days}
    for row in _between(engine, doctor_id, start, end, holding_only=False):
        week.setdefault(local_day(row.starts_at, tz), []).append(row)
    return week


def free_slots_for_day(
    engine: Engine,
    doctor_id: UUID,
    day: date,
    *,
    tz: tzinfo,
    now: datetime,
    minutes: int | None = None,
) -> list[Slot]:
    """The doctor's free times on `day` (`free_slots_of`), by the doctor's id."""
    found = doctor(engine, doctor_id)
    if found is None:
        return []
    return free_slots_of(engine, found, day, tz=tz, now=now, minutes=minutes)


@timed("free_slots")
def free_slots_of(
    engine: Engine,
    found: DoctorRow,
    day: date,
    *,
    tz: tzinfo,
    now: datetime,
    minutes: int | None = None,
) -> list[Slot]:
    """Effective hours minus appointments that hold time, in the doctor's slot length; with
    `minutes`, the visits of that length starting on the slot grid (`free_starts`). For a
    page that has the doctor's row already (with its schedule): no second read of it."""
    grid = slot_grid(day, found.schedule, found.slot_minutes, tz)
    if not grid:
        return []
    start, end = day_bounds(day, tz)
    busy = _between(engine, found.doctor_id, start, end, holding_only=True)
    if minutes is not None and minutes != found.slot_minutes:
        return free_starts(
            day, found.schedule, found.slot_minutes, busy, now=now, tz=tz, minutes=minutes
        )
    return free_slots(grid, busy, now=now)
