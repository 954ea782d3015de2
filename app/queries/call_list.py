"""The call list: appointments needing a new time since their doctor's availability shrank
over them (an absence, a closure, shorter hours), each with why, and a proposed new time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from functools import partial
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.domain.availability import Schedule
from app.domain.messages import Message, phrase
from app.projections import tables as t

from . import first_free as ff
from .agenda import NO_SCHEDULE, doctors_by_id
from .appointments import AppointmentRow
from .rows import row_to


def _waiting(now: datetime, doctor_id: UUID | None) -> list[sa.ColumnElement[bool]]:
    c = t.call_list
    found = [c.c.starts_at > now]
    if doctor_id is not None:
        found.append(c.c.doctor_id == doctor_id)
    return found


def count(engine: Engine, *, now: datetime, doctor_id: UUID | None = None) -> int:
    """How many appointments still ahead need a new time (Today shows it)."""
    query = sa.select(sa.func.count()).select_from(t.call_list).where(*_waiting(now, doctor_id))
    with engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


@dataclass(frozen=True)
class Proposal:
    """A free time to offer the patient instead."""

    starts_at: datetime
    doctor_id: UUID
    doctor_name: str


@dataclass(frozen=True)
class Entry:
    """One appointment to call about: the appointment, why its time is gone, and the next
    free time with the same doctor and with another doctor of the same specialty."""

    appointment: AppointmentRow
    listed_at: datetime
    why: Message
    same_doctor: Proposal | None
    other_doctor: Proposal | None

    @property
    def minutes(self) -> int:
        return (self.appointment.ends_at - self.appointment.starts_at) // timedelta(minutes=1)


def entries(
    engine: Engine,
    *,
    now: datetime,
    today: date,
    tz: tzinfo,
    doctor_id: UUID | None = None,
    limit: int = 100,
) -> list[Entry]:
    """The appointments still ahead that need a new time, soonest first, at most `limit`
    (each proposal is a first-available search: a page of them is enough to work through)."""
    a, c = t.appointments, t.call_list
    query = (
        sa.select(a, c.c.listed_at)
        .join(c, c.c.appointment_id == a.c.appointment_id)
        .where(*_waiting(now, doctor_id))
        .order_by(c.c.starts_at, c.c.appointment_id)
        .limit(limit)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
    appointments = [(AppointmentRow.from_row(row), row_to(_Listed, row)) for row in rows]
    doctors = doctors_by_id(engine, {a.doctor_id for a, _ in appointments})
    schedules = {doctor_id: found.schedule for doctor_id, found in doctors.items()}
    proposals = _proposals(engine, [a for a, _ in appointments], today, tz, now)
    return [
        Entry(
            appointment,
            listed.listed_at,
            why(schedules.get(appointment.doctor_id, NO_SCHEDULE), appointment, tz),
            *proposals[appointment.appointment_id],
        )
        for appointment, listed in appointments
    ]


@dataclass(frozen=True)
class _Listed:
    listed_at: datetime


def why(schedule: Schedule, appointment: AppointmentRow, tz: tzinfo) -> Message:
    """Why the appointment's time is gone, as booking it now would be refused."""
    refused = schedule.refusal(appointment.starts_at, appointment.ends_at, tz)
    return refused or phrase("Its time is available again: it can stay as it is.")


def _proposals(
    engine: Engine, appointments: list[AppointmentRow], today: date, tz: tzinfo, now: datetime
) -> dict[UUID, tuple[Proposal | None, Proposal | None]]:
    """For each appointment, the next free time of the same length with the same doctor and
    with another doctor of the same specialty. Appointments of one doctor and length share
    one search each way, and each is offered a different time, in order: forty patients of
    an absent doctor are not all offered the same slot."""
    groups: dict[tuple[UUID, str, int], list[AppointmentRow]] = {}
    for appointment in appointments:
        minutes = (appointment.ends_at - appointment.starts_at) // timedelta(minutes=1)
        key = (appointment.doctor_id, appointment.doctor_specialty, minutes)
        groups.setdefault(key, []).append(appointment)
    found: dict[UUID, tuple[Proposal | None, Proposal | None]] = {}
    for (doctor_id, specialty, minutes), group in groups.items():
        search = partial(
            ff.first_free,
            engine,
            from_day=max(today, group[0].local_day),
            tz=tz,
            now=now,
            minutes=minutes,
            count=len(group),
        )
        same = search(doctor_id=doctor_id).times
        other = search(specialty=specialty, exclude=doctor_id).times
        for n, appointment in enumerate(group):
            found[appointment.appointment_id] = (
                _offer(same, n),
                _offer(other, n),
            )
    return found


def _offer(times: list[ff.FreeTime], n: int) -> Proposal | None:
    if n >= len(times):
        return None
    free = times[n]
    return Proposal(free.starts_at, free.doctor_id, free.doctor_name)
