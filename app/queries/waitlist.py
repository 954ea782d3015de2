"""The waitlist as the desk works it: who waits, in the order they joined, and who fits a
time that has just been freed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.domain.clinic_time import local_day, to_utc
from app.domain.waitlist import in_part
from app.projections import tables as t

from . import agenda
from .agenda import overlapping
from .appointments import AppointmentRow
from .first_free import FreeTime, first_free

# An entry's earliest fitting free time is searched this far ahead at most.
SEARCH_DAYS = 90


@dataclass(frozen=True)
class WaitRow:
    waitlist_id: UUID
    patient_id: UUID
    patient_name: str
    patient_phone: str
    doctor_id: UUID | None
    doctor_name: str | None
    specialty: str
    from_day: date
    until_day: date
    part_of_day: str
    title: str
    note: str
    joined_at: datetime
    joined_by: str
    version: int


def _query() -> sa.Select:
    w, p, d = t.waitlist, t.parties.alias("patient"), t.parties.alias("doctor")
    return (
        sa.select(
            w.c.waitlist_id,
            w.c.patient_id,
            p.c.full_name.label("patient_name"),
            p.c.detail.label("patient_phone"),
            w.c.doctor_id,
            d.c.full_name.label("doctor_name"),
            sa.func.coalesce(d.c.detail, w.c.specialty).label("specialty"),
            w.c.from_day,
            w.c.until_day,
            w.c.part_of_day,
            w.c.title,
            w.c.note,
            w.c.joined_at,
            w.c.joined_by,
            w.c.version,
        )
        .join(p, p.c.party_id == w.c.patient_id)
        .outerjoin(d, d.c.party_id == w.c.doctor_id)
        .where(w.c.waiting.is_(True))
        .order_by(w.c.joined_position)
    )


def _rows(engine: Engine, query: sa.Select) -> list[WaitRow]:
    with engine.connect() as conn:
        return [
            WaitRow(**{**row, "joined_at": to_utc(row["joined_at"])})
            for row in conn.execute(query).mappings()
        ]


def waiting(
    engine: Engine, *, doctor_id: UUID | None = None, today: date | None = None
) -> list[WaitRow]:
    """Everyone waiting, first joined first; narrowed to one doctor's (their own, and their
    specialty's) when `doctor_id` is given, and to waits not over by `today`."""
    query = _query()
    w = t.waitlist
    if today is not None:
        query = query.where(w.c.until_day >= today)
    if doctor_id is not None:
        d = t.doctors
        specialty = sa.select(d.c.specialty).where(d.c.doctor_id == doctor_id).scalar_subquery()
        query = query.where(
            sa.or_(
                w.c.doctor_id == doctor_id,
                sa.and_(w.c.doctor_id.is_(None), w.c.specialty == specialty),
            )
        )
    return _rows(engine, query)


def entry(engine: Engine, waitlist_id: UUID) -> WaitRow | None:
    found = _rows(engine, _query().where(t.waitlist.c.waitlist_id == waitlist_id))
    return found[0] if found else None


def fitting(
    engine: Engine,
    *,
    doctor_id: UUID,
    specialty: str,
    starts_at: datetime,
    tz: tzinfo,
    exclude_patient: UUID | None = None,
) -> list[WaitRow]:
    """Who waits for that time with that doctor (by name, or by specialty), in the order they
    joined: the day in their range, the start in their part of the day."""
    w = t.waitlist
    day = local_day(starts_at, tz)
    query = _query().where(
        sa.or_(
            w.c.doctor_id == doctor_id,
            sa.and_(w.c.doctor_id.is_(None), sa.func.lower(w.c.specialty) == specialty.lower()),
        ),
        w.c.from_day <= day,
        w.c.until_day >= day,
    )
    return [
        row
        for row in _rows(engine, query)
        if row.patient_id != exclude_patient and in_part(starts_at, row.part_of_day, tz)
    ]


def freed(engine: Engine, row: AppointmentRow, *, tz: tzinfo, now: datetime) -> list[WaitRow]:
    """For a cancelled or missed appointment whose time is still ahead and still free: who
    on the waitlist fits it. Empty when the time has passed, has been booked again, or is
    not the doctor's to give (away, the clinic closed: a cancellation from the call list)."""
    if row.status.value not in ("cancelled", "no_show") or row.starts_at <= now:
        return []
    a = t.appointments
    taken = overlapping(
        [row.doctor_id], row.starts_at, row.ends_at, a.c.appointment_id, holding_only=True
    )
    with engine.connect() as conn:
        if conn.execute(taken.limit(1)).first() is not None:
            return []
    doctor = agenda.doctor(engine, row.doctor_id)
    if doctor is None or not doctor.schedule.fits(row.starts_at, row.ends_at, tz):
        return []
    return fitting(
        engine,
        doctor_id=row.doctor_id,
        specialty=row.doctor_specialty,
        starts_at=row.starts_at,
        tz=tz,
        exclude_patient=row.patient_id,
    )


def earliest_fit(
    engine: Engine, row: WaitRow, *, tz: tzinfo, now: datetime, today: date
) -> FreeTime | None:
    """The first free time that fits the entry: its doctor or specialty, its days, its part of
    the day (each doctor's slot length)."""
    start = max(row.from_day, today)
    if start > row.until_day:
        return None
    days = min((row.until_day - start).days + 1, SEARCH_DAYS)
    part = None if row.part_of_day == "any" else row.part_of_day
    found = first_free(
        engine,
        doctor_id=row.doctor_id,
        specialty=None if row.doctor_id else row.specialty,
        from_day=start,
        tz=tz,
        now=now,
        part=part,  # type: ignore[arg-type]
        count=1,
        horizon_days=days,
    ).times
    return found[0] if found else None
