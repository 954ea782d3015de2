"""Series as the desk sees them: a plan previewed before booking (each visit free or in
conflict, with an alternative), and a booked series with the state of each visit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.domain.availability import Schedule
from app.domain.clinic_time import to_utc
from app.domain.series import PlannedVisit, conflict_of
from app.projections import tables as t

from .agenda import overlapping
from .appointments import AppointmentRow
from .first_free import FreeTime, first_free

# How far from a visit in conflict an alternative is looked for: within its own week, so
# the course keeps its rhythm.
ALTERNATIVE_DAYS = 6


@dataclass(frozen=True)
class PreviewVisit:
    """One planned visit before booking: its conflict (None: free), who holds its time when
    taken, and the nearest free time instead (None: nothing free that week)."""

    occurrence: int
    day: date
    starts_at: datetime | None
    ends_at: datetime | None
    conflict: str | None
    holder: str | None
    alternative: FreeTime | None


def preview(
    engine: Engine,
    visits: list[PlannedVisit],
    *,
    doctor_id: UUID,
    schedule: Schedule,
    minutes: int,
    tz: tzinfo,
    now: datetime,
) -> list[PreviewVisit]:
    """Each visit judged by the same rules as a booking (the doctor's effective `schedule`,
    the clinic's closures, the time already held), in one query for the time held over the
    whole course; an alternative is searched for each conflict only."""
    if not visits:
        return []
    length = timedelta(minutes=minutes)
    starts = [v.starts_at for v in visits if v.starts_at is not None]
    held: list[tuple[datetime, datetime, str]] = []
    if starts:
        a = t.appointments
        query = overlapping(
            [doctor_id],
            min(starts),
            max(starts) + length,
            a.c.starts_at,
            a.c.ends_at,
            a.c.patient_name,
            holding_only=True,
        )
        with engine.connect() as conn:
            held = [(to_utc(s), to_utc(e), name) for s, e, name in conn.execute(query)]
    planned = [(v.starts_at, v.starts_at + length) for v in visits if v.starts_at is not None]
    result = []
    for visit in visits:
        end = visit.starts_at + length if visit.starts_at is not None else None
        holder = next(
            (
                name
                for s, e, name in held
                if visit.starts_at is not None
                and end is not None
                and s < end
                and e > visit.starts_at
            ),
            None,
        )
        conflict = conflict_of(
            visit.starts_at, end, schedule, tz, now=now, taken=holder is not None
        )
        alternative = None
        if conflict is not None:
            alternative = _alternative(
                engine, visit, doctor_id=doctor_id, minutes=minutes, tz=tz, now=now, avoid=planned
            )
        result.append(
            PreviewVisit(
                visit.occurrence, visit.day, visit.starts_at, end, conflict, holder, alternative
            )
        )
    return result


def _alternative(
    engine: Engine,
    visit: PlannedVisit,
    *,
    doctor_id: UUID,
    minutes: int,
    tz: tzinfo,
    now: datetime,
    avoid: list[tuple[datetime, datetime]],
) -> FreeTime | None:
    """The free time nearest the planned one: on its day, the closest clock time; else the
    first free time of the following days of its week. Never one another visit of the same
    course takes."""
    free = first_free(
        engine,
        doctor_id=doctor_id,
        from_day=visit.day,
        tz=tz,
        now=now,
        minutes=minutes,
        count=40,
        horizon_days=ALTERNATIVE_DAYS,
    ).times
    free = [f for f in free if not any(s < f.ends_at and e > f.starts_at for s, e in avoid)]
    if not free:
        return None
    wanted = visit.starts_at.astimezone(tz) if visit.starts_at is not None else None
    same_day = [f for f in free if f.starts_at.astimezone(tz).date() == visit.day]
    if same_day and wanted is not None:
        clock = wanted.hour * 60 + wanted.minute
        return min(
            same_day,
            key=lambda f: abs(
                f.starts_at.astimezone(tz).hour * 60 + f.starts_at.astimezone(tz).minute - clock
            ),
        )
    return free[0]


@dataclass(frozen=True)
class SeriesRow:
    series_id: UUID
    patient_id: UUID
    patient_name: str
    doctor_id: UUID
    doctor_name: str
    title: str
    every_weeks: int
    monthly: bool
    planned: list[dict[str, Any]]
    cancelled_from: int | None
    planned_at: datetime
    planned_by: str
    version: int
    visits: dict[int, AppointmentRow]

    @property
    def still_to_happen(self) -> list[AppointmentRow]:
        """The visits that can still be cancelled (pending or confirmed), in order."""
        return [
            row
            for _, row in sorted(self.visits.items())
            if row.status.value in ("pending", "confirmed")
        ]


def series(engine: Engine, series_id: UUID) -> SeriesRow | None:
    """A series with its visits' rows (by number), the patient and doctor named."""
    s, p, d = t.series, t.parties.alias("patient"), t.parties.alias("doctor")
    query = (
        sa.select(s, p.c.full_name.label("patient_name"), d.c.full_name.label("doctor_name"))
        .join(p, p.c.party_id == s.c.patient_id)
        .join(d, d.c.party_id == s.c.doctor_id)
        .where(s.c.series_id == series_id)
    )
    a = t.appointments
    with engine.connect() as conn:
        row = conn.execute(query).mappings().first()
        if row is None:
            return None
        visits = {
            found.occurrence: found
            for found in (
                AppointmentRow.from_row(r)
                for r in conn.execute(sa.select(a).where(a.c.series_id == series_id)).mappings()
            )
            if found.occurrence is not None
        }
    return SeriesRow(
        row["series_id"],
        row["patient_id"],
        row["patient_name"],
        row["doctor_id"],
        row["doctor_name"],
        row["title"],
        row["every_weeks"],
        row["monthly"],
        list(row["visits"]),
        row["cancelled_from"],
        to_utc(row["planned_at"]),
        row["planned_by"],
        row["version"],
        visits,
    )


def visit_count(engine: Engine, series_id: UUID) -> int:
    """How many visits the series planned (for "visit 3 of 6")."""
    query = sa.select(t.series.c.visits).where(t.series.c.series_id == series_id)
    with engine.connect() as conn:
        visits = conn.execute(query).scalar()
    return len(visits or [])
