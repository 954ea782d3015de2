"""The first available times: for one doctor or any doctor of a specialty, from a day on.

Reads the read models only (doctors and appointments), in a bounded number of queries
whatever the horizon: one for the candidate doctors, then the time they hold in windows of
CHUNK_DAYS days, until enough free times are found or HORIZON_DAYS days are searched. The
free-time rule itself is `slots.free_starts`, the one booking is checked against.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any, Literal
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.domain.availability import Schedule
from app.domain.clinic_time import day_bounds, to_utc
from app.domain.waitlist import in_part
from app.metrics import timed
from app.projections import tables as t

from .agenda import overlapping
from .availability import schedules
from .slots import free_starts

HORIZON_DAYS = 90
CHUNK_DAYS = 14
DEFAULT_COUNT, MAX_COUNT = 10, 50
PartOfDay = Literal["morning", "afternoon"]


@dataclass(frozen=True)
class FreeTime:
    """One bookable visit: a doctor, its start and end, and its length in minutes."""

    starts_at: datetime
    ends_at: datetime
    minutes: int
    doctor_id: UUID
    doctor_name: str
    specialty: str


@dataclass(frozen=True)
class Candidate:
    doctor_id: UUID
    full_name: str
    name_key: str
    specialty: str
    slot_minutes: int
    hours: dict[str, Any] | None
    schedule: Schedule


@dataclass(frozen=True)
class FirstFree:
    """The answer: the free times found (earliest first), the doctors searched, and the
    days searched (`first_day` to `last_day`, both included)."""

    times: list[FreeTime]
    doctors: list[Candidate]
    first_day: date
    last_day: date


def candidates(
    engine: Engine, *, doctor_id: UUID | None = None, specialty: str | None = None
) -> list[Candidate]:
    """The doctors a search covers, by name: one doctor, or every doctor of a specialty."""
    d = t.doctors
    query = sa.select(
        d.c.doctor_id, d.c.full_name, d.c.name_key, d.c.specialty, d.c.slot_minutes, d.c.hours
    )
    if doctor_id is not None:
        query = query.where(d.c.doctor_id == doctor_id)
    elif specialty is not None:
        query = query.where(d.c.specialty == specialty)
    else:
        return []
    with engine.connect() as conn:
        rows = conn.execute(query.order_by(d.c.name_key, d.c.doctor_id)).all()
        found = schedules(conn, [(row.doctor_id, row.full_name, row.hours) for row in rows])
        return [
            Candidate(
                row.doctor_id,
                row.full_name,
                row.name_key,
                row.specialty,
                row.slot_minutes,
                row.hours,
                found[row.doctor_id],
            )
            for row in rows
        ]


@dataclass(frozen=True)
class _Held:
    starts_at: datetime
    ends_at: datetime


def _held(
    engine: Engine, doctor_ids: Sequence[UUID], start: datetime, end: datetime
) -> dict[UUID, list[_Held]]:
    """The time each doctor holds that overlaps [start, end), by start: one query for all."""
    a = t.appointments
    query = overlapping(
        doctor_ids, start, end, a.c.doctor_id, a.c.starts_at, a.c.ends_at, holding_only=True
    )
    held: dict[UUID, list[_Held]] = {doctor_id: [] for doctor_id in doctor_ids}
    with engine.connect() as conn:
        for doctor_id, starts_at, ends_at in conn.execute(query):
            # SQLite hands times back naive (in UTC).
            held[doctor_id].append(_Held(to_utc(starts_at), to_utc(ends_at)))
    return held


def _on_day(
    held: list[_Held], starts: list[datetime], start: datetime, end: datetime
) -> list[_Held]:
    """The held times that can touch [start, end): those starting from a day before."""
    return held[bisect_left(starts, start - timedelta(days=1)) : bisect_left(starts, end)]


@timed("first_free")
def first_free(
    engine: Engine,
    *,
    doctor_id: UUID | None = None,
    specialty: str | None = None,
    from_day: date,
    tz: tzinfo,
    now: datetime,
    part: PartOfDay | None = None,
    minutes: int | None = None,
    count: int = DEFAULT_COUNT,
    horizon_days: int = HORIZON_DAYS,
    chunk_days: int = CHUNK_DAYS,
    exclude: UUID | None = None,
) -> FirstFree:
    """The first `count` free times of one doctor (`doctor_id`) or of any doctor of
    `specialty`, from `from_day` for `horizon_days` days, earliest first (then by doctor
    name): visits of `minutes` (default: each doctor's slot length) starting on the
    doctor's slot grid after `now`, only in the morning (starting before 12:00) or the
    afternoon if `part` says so."""
    count = max(1, min(count, MAX_COUNT))
    # `exclude` leaves one doctor out of a specialty's search (the one who is away).
    doctors = [
        doc
        for doc in candidates(engine, doctor_id=doctor_id, specialty=specialty)
        if doc.doctor_id != exclude
    ]
    last_day = from_day + timedelta(days=horizon_days - 1)
    found: list[FreeTime] = []
    working = [doc for doc in doctors if doc.hours or doc.schedule.day_hours]
    day = from_day
    while working and day <= last_day and len(found) < count:
        chunk_end = min(day + timedelta(days=chunk_days - 1), last_day)
        window_start, window_end = day_bounds(day, tz)[0], day_bounds(chunk_end, tz)[1]
        held = _held(engine, [doc.doctor_id for doc in working], window_start, window_end)
        starts = {key: [h.starts_at for h in rows] for key, rows in held.items()}
        while day <= chunk_end and len(found) < count:
            # Each day's times all come before the next day's: the search can stop at the
            # end of the day on which `count` is reached.
            start, end = day_bounds(day, tz)
            today: list[tuple[datetime, str, UUID, FreeTime]] = []
            for doc in working:
                busy = _on_day(held[doc.doctor_id], starts[doc.doctor_id], start, end)
                length = minutes or doc.slot_minutes
                for slot in free_starts(
                    day, doc.schedule, doc.slot_minutes, busy, now=now, tz=tz, minutes=length
                ):
                    if in_part(slot.starts_at, part or "any", tz):
                        free = FreeTime(
                            slot.starts_at,
                            slot.ends_at,
                            length,
                            doc.doctor_id,
                            doc.full_name,
                            doc.specialty,
                        )
                        today.append((slot.starts_at, doc.name_key, doc.doctor_id, free))
            today.sort(key=lambda item: item[:3])
            found.extend(item[3] for item in today)
            day += timedelta(days=1)
    return FirstFree(found[:count], doctors, from_day, last_day)
