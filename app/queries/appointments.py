"""Appointment queries over the appointments read model: list, detail, a patient's visits,
and the dashboard's day counters."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta
from sqlalchemy.engine import Engine

from app.domain.appointment import Status
from app.domain.clinic_time import day_bounds, local_day, to_utc
from app.metrics import timed
from app.projections import tables as t
from app.projections.keys import search_key

from .rows import row_to

TRIGRAM = 3  # shortest text a trigram index can look up


@dataclass(frozen=True)
class AppointmentRow:
    """An appointment as the list and detail pages show it."""

    appointment_id: UUID
    patient_id: UUID
    doctor_id: UUID
    patient_name: str
    patient_phone: str
    doctor_name: str
    doctor_specialty: str
    title: str
    status: Status
    starts_at: datetime
    ends_at: datetime
    local_day: date
    booked_at: datetime
    booked_by: str
    changed_at: datetime
    changed_by: str
    version: int
    cancel_reason: str | None
    reschedules: int
    checked_in_at: datetime | None
    completed_at: datetime | None
    visit_type_id: UUID | None = None  # its label from rm_visit_types (availability.py)
    series_id: UUID | None = None  # one visit of a series, number `occurrence` (from 1)
    occurrence: int | None = None
    # The patient's own answer from their page ("confirmed" | "cancelled"), until a move.
    patient_answer: str | None = None

    @classmethod
    def from_row(cls, row: Any) -> AppointmentRow:
        return row_to(cls, row, status=Status)

    @property
    def duration_minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)


@dataclass(frozen=True)
class AppointmentFilter:
    """What the list is narrowed to; every part is optional."""

    statuses: Sequence[Status] = ()
    doctor_id: UUID | None = None
    patient_id: UUID | None = None
    day_from: date | None = None  # clinic-local days, inclusive
    day_to: date | None = None
    text: str = ""  # part of the patient's name


@dataclass(frozen=True)
class Page:
    items: list[AppointmentRow]
    next_cursor: str | None  # pass back as `after` for the following page


class BadCursorError(ValueError):
    """A pagination cursor that this app did not make."""


def encode_cursor(row: AppointmentRow) -> str:
    raw = f"{row.starts_at.isoformat()}|{row.appointment_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment, appointment_id = raw.split("|")
        return to_utc(datetime.fromisoformat(moment)), UUID(appointment_id)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadCursorError("This page link is damaged; start from the first page.") from None


def like_pattern(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, with its own wildcards taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@timed("appointment_list")
def list_appointments(
    engine: Engine,
    where: AppointmentFilter,
    *,
    tz: tzinfo,
    after: str | None = None,
    limit: int = 50,
) -> Page:
    """A page of appointments in start order, narrowed by `where`, after cursor `after`."""
    a = t.appointments
    query = _narrowed(where, tz)
    key = search_key(where.text)
    if after:
        starts_at, appointment_id = decode_cursor(after)
        cursor = sa.tuple_(sa.literal(starts_at), sa.literal(appointment_id))
        query = query.where(sa.tuple_(a.c.starts_at, a.c.appointment_id) > cursor)
    if len(key) >= TRIGRAM and engine.dialect.name == "postgresql":
        # Left alone, the planner walks the start-time index hoping for early matches,
        # and reads the whole table when a name is rare. Matching through the trigram
        # index first, then sorting the matches, is fast for any name of 3+ letters.
        matches = query.cte("matches").prefix_with("MATERIALIZED")
        query = sa.select(matches).order_by(matches.c.starts_at, matches.c.appointment_id)
    else:
        query = query.order_by(a.c.starts_at, a.c.appointment_id)
    query = query.limit(limit + 1)
    with engine.connect() as conn:
        rows = [AppointmentRow.from_row(row) for row in conn.execute(query).mappings()]
    more = len(rows) > limit
    items = rows[:limit]
    return Page(items, encode_cursor(items[-1]) if more else None)


def export_appointments(
    engine: Engine, where: AppointmentFilter, *, tz: tzinfo, limit: int
) -> list[AppointmentRow] | None:
    """Every appointment the list's filters match, in start order, or None when more than
    `limit` do (the caller asks for narrower dates rather than send a partial file)."""
    a = t.appointments
    query = _narrowed(where, tz).order_by(a.c.starts_at, a.c.appointment_id).limit(limit + 1)
    with engine.connect() as conn:
        rows = [AppointmentRow.from_row(row) for row in conn.execute(query).mappings()]
    return rows if len(rows) <= limit else None


def _narrowed(where: AppointmentFilter, tz: tzinfo) -> sa.Select[Any]:
    a = t.appointments
    query = sa.select(a)
    if where.statuses:
        query = query.where(a.c.status.in_([s.value for s in where.statuses]))
    if where.doctor_id:
        query = query.where(a.c.doctor_id == where.doctor_id)
    if where.patient_id:
        query = query.where(a.c.patient_id == where.patient_id)
    if where.day_from:
        query = query.where(a.c.starts_at >= day_bounds(where.day_from, tz)[0])
    if where.day_to:
        query = query.where(a.c.starts_at < day_bounds(where.day_to, tz)[1])
    key = search_key(where.text)
    if key:
        query = query.where(a.c.patient_name_key.like(like_pattern(key), escape="\\"))
    return query


def appointment_detail(engine: Engine, appointment_id: UUID) -> AppointmentRow | None:
    """One appointment with its patient's and doctor's names, or None."""
    query = sa.select(t.appointments).where(t.appointments.c.appointment_id == appointment_id)
    with engine.connect() as conn:
        row = conn.execute(query).mappings().first()
    return AppointmentRow.from_row(row) if row is not None else None


@dataclass(frozen=True)
class PatientVisits:
    upcoming: list[AppointmentRow]  # soonest first
    past: list[AppointmentRow]  # latest first


@timed("patient_appointments")
def appointments_for_patient(
    engine: Engine, patient_id: UUID, *, now: datetime, limit: int = 50
) -> PatientVisits:
    """A patient's appointments still to come and those already started."""
    a = t.appointments
    mine = sa.select(a).where(a.c.patient_id == patient_id)
    upcoming = mine.where(a.c.starts_at >= now).order_by(a.c.starts_at).limit(limit)
    past = mine.where(a.c.starts_at < now).order_by(a.c.starts_at.desc()).limit(limit)
    with engine.connect() as conn:
        return PatientVisits(
            [AppointmentRow.from_row(row) for row in conn.execute(upcoming).mappings()],
            [AppointmentRow.from_row(row) for row in conn.execute(past).mappings()],
        )


def count_for_patient(engine: Engine, patient_id: UUID) -> int:
    """How many appointments a patient has, past and to come, in any status."""
    a = t.appointments
    query = sa.select(sa.func.count()).where(a.c.patient_id == patient_id)
    with engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def day_counts(
    engine: Engine, day: date, *, doctor_id: UUID | None = None, tz: tzinfo | None = None
) -> dict[Status, int]:
    """How many of the day's appointments are in each status (zero included): the whole
    clinic's from its counters, or one doctor's counted from their day's appointments."""
    if doctor_id is None:
        c = t.day_counts.c
        query = sa.select(c.status, c.count).where(c.day == day)
    else:
        assert tz is not None, "a doctor's day is counted in the clinic's time zone"
        a = t.appointments.c
        start, end = day_bounds(day, tz)
        query = (
            sa.select(a.status, sa.func.count())
            .where(a.doctor_id == doctor_id, a.starts_at >= start, a.starts_at < end)
            .group_by(a.status)
        )
    counts = dict.fromkeys(Status, 0)
    with engine.connect() as conn:
        for status, count in conn.execute(query):
            counts[Status(status)] = count
    return counts


# Who is a doctor's patient (docs/accounts.md, the role table): someone who came to see
# them (checked in or completed) within the period, or who is expected (pending or
# confirmed, today or later). A cancelled booking or a no-show alone makes no patient.
VISITED = (Status.CHECKED_IN.value, Status.COMPLETED.value)
EXPECTED = (Status.PENDING.value, Status.CONFIRMED.value)


def is_patient_of(
    engine: Engine, patient_id: UUID, doctor_id: UUID, *, now: datetime, tz: tzinfo, months: int
) -> bool:
    """Whether the patient saw the doctor within `months` before `now` (counted in whole
    clinic days), or has a pending or confirmed appointment with them from today on."""
    today = local_day(now, tz)
    visits_from = day_bounds(today - relativedelta(months=months), tz)[0]
    today_from = day_bounds(today, tz)[0]
    a = t.appointments.c
    query = sa.select(a.appointment_id).where(
        a.patient_id == patient_id,
        # One range on the (patient_id, starts_at) index covers both kinds: today is later.
        a.starts_at >= visits_from,
        a.doctor_id == doctor_id,
        sa.or_(
            a.status.in_(VISITED),
            sa.and_(a.status.in_(EXPECTED), a.starts_at >= today_from),
        ),
    )
    with engine.connect() as conn:
        return conn.execute(query.limit(1)).first() is not None
