"""Doctors' schedules as the read side builds them: weekly hours from the directory, one-off
hours and absences and the clinic's days from the appointments projection's rows, judged by
the one availability rule (`app.domain.availability.Schedule`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from app.domain.availability import (
    Absence,
    ClinicDays,
    Schedule,
    clinic_from_data,
)
from app.domain.clinic import CLINIC_ID, VisitType
from app.domain.clinic_time import day_bounds
from app.projections import tables as t

from .rows import row_to


def clinic_days(conn: Connection) -> ClinicDays:
    """The clinic's opening hours and closures."""
    c = t.clinic_days
    row = conn.execute(sa.select(c.c.hours, c.c.closures).where(c.c.clinic_id == CLINIC_ID)).first()
    return clinic_from_data(row.hours, row.closures) if row else clinic_from_data(None, {})


def schedules(
    conn: Connection, doctors: Iterable[tuple[UUID, str, dict[str, Any] | None]]
) -> dict[UUID, Schedule]:
    """Each doctor's schedule, from (id, name, weekly hours): one query for all of them."""
    wanted = list(doctors)
    if not wanted:
        return {}
    clinic = clinic_days(conn)
    a = t.doctor_availability
    query = sa.select(a.c.doctor_id, a.c.day_hours, a.c.absences).where(
        a.c.doctor_id.in_([doctor_id for doctor_id, _, _ in wanted])
    )
    extra = {row.doctor_id: (row.day_hours, row.absences) for row in conn.execute(query)}
    return {
        doctor_id: Schedule.from_data(name, hours, *extra.get(doctor_id, ({}, [])), clinic)
        for doctor_id, name, hours in wanted
    }


@dataclass(frozen=True)
class DayNote:
    """Why a doctor does not work (all or part of) a day, for pages that say so rather than
    show "no free time": the clinic's closure, an absence, or the day's own hours."""

    closed: str | None  # the closure's label
    absences: list[Absence]
    own_hours: bool  # the day has one-off hours


def day_note(schedule: Schedule, day: date, tz: tzinfo) -> DayNote | None:
    """What the agenda, the calendar and the free times say of `day`; None for a usual day."""
    closed = schedule.clinic.closures.get(day)
    first, last = day_bounds(day, tz)
    absences = [a for a in schedule.absences if a.overlaps(first, last)]
    own = day in schedule.day_hours
    if closed is None and not absences and not own:
        return None
    return DayNote(closed, absences, own)


@dataclass(frozen=True)
class VisitTypeRow:
    visit_type_id: UUID
    label: str
    minutes: int
    doctor_id: UUID | None
    specialty: str
    retired: bool
    defined_at: datetime


def visit_types(engine: Engine, *, include_retired: bool = False) -> list[VisitTypeRow]:
    """Every visit type, by label (retired ones only when asked: the settings page)."""
    v = t.visit_types
    query = sa.select(v).order_by(v.c.retired, v.c.label, v.c.visit_type_id)
    if not include_retired:
        query = query.where(v.c.retired.is_(False))
    with engine.connect() as conn:
        return [row_to(VisitTypeRow, row) for row in conn.execute(query).mappings()]


def visit_types_for(
    types: Sequence[VisitTypeRow], doctor_id: UUID, specialty: str
) -> list[VisitTypeRow]:
    """The types a booking with that doctor may pick (as `VisitType.applies_to`)."""
    return [
        kind
        for kind in types
        if not kind.retired
        and VisitType(
            kind.visit_type_id, kind.label, kind.minutes, kind.doctor_id, kind.specialty
        ).applies_to(doctor_id, specialty)
    ]


def visit_type_labels(engine: Engine, ids: Iterable[UUID | None]) -> dict[UUID, VisitTypeRow]:
    """The visit types named by appointments (retired ones too: history names them)."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    v = t.visit_types
    with engine.connect() as conn:
        rows = conn.execute(sa.select(v).where(v.c.visit_type_id.in_(wanted))).mappings()
        return {row["visit_type_id"]: row_to(VisitTypeRow, row) for row in rows}


COMING_WEEKS = 6  # the doctor page's calendar of the coming weeks


@dataclass(frozen=True)
class ComingDay:
    """One day of a doctor's coming weeks, as its page marks it."""

    day: date
    kind: str  # "work", "part" (partly away or own hours), "away", "closed", "off", "past"
    periods: list[tuple[datetime, datetime]]
    note: DayNote | None


def coming_day(schedule: Schedule, day: date, tz: tzinfo, today: date) -> ComingDay:
    """How `day` looks for the doctor: working, away, closed, off, or changed."""
    note = day_note(schedule, day, tz)
    periods = schedule.periods(day, tz)
    if day < today:
        kind = "past"
    elif note is not None and note.closed is not None:
        kind = "closed"
    elif note is not None and note.absences and not periods:
        kind = "away"
    elif note is not None and periods:
        kind = "part"
    elif periods:
        kind = "work"
    else:
        kind = "off"
    return ComingDay(day, kind, periods, note)
