"""Free slots: a doctor's effective hours cut into slots, minus the time already booked.

Pure functions (the read repository in `agenda` feeds them rows), so the calendar rules are
tested without a database: slot length, periods, daylight-saving days, the past.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Any

from app.domain.availability import Clock, Schedule, instants
from app.domain.clinic_time import day_bounds


@dataclass(frozen=True, order=True, slots=True)
class Slot:
    starts_at: datetime
    ends_at: datetime


Periods = Clock  # one day's working periods on the wall clock, as the hours say

# The grids below depend only on the day, that day's periods, the lengths and the zone, and
# most doctors share their hours: a week's capacity for 30 doctors, or a first-available
# search over 600 doctor-days, works each one out once instead of once per doctor and day.
# Bounded: a year of days for a few patterns of hours (an entry is a day's slots, a few KB).
# Absences are cut out afterwards (`_within`): they are a doctor's own and rarely on a day.


@lru_cache(maxsize=2048)
def _grid(day: date, periods: Periods, slot_minutes: int, tz: tzinfo) -> tuple[Slot, ...]:
    length = timedelta(minutes=slot_minutes)
    grid = []
    for start, end in instants(day, periods, tz):
        while start + length <= end:
            grid.append(Slot(start, start + length))
            start += length
    return tuple(grid)


@lru_cache(maxsize=2048)
def _visits(
    day: date, periods: Periods, slot_minutes: int, minutes: int, tz: tzinfo
) -> tuple[Slot, ...]:
    """The visits of `minutes` from each start of the slot grid that lie inside one of the
    day's periods, as the booking checks them (`Schedule.fits`)."""
    length = timedelta(minutes=minutes)
    spans = instants(day, periods, tz)
    return tuple(
        Slot(slot.starts_at, slot.starts_at + length)
        for slot in _grid(day, periods, slot_minutes, tz)
        if any(a <= slot.starts_at and slot.starts_at + length <= b for a, b in spans)
    )


def _within(slots: Iterable[Slot], day: date, schedule: Schedule, tz: tzinfo) -> list[Slot]:
    """The slots that also lie inside the day's effective periods (outside absences)."""
    spans = schedule.periods(day, tz)
    return [
        slot for slot in slots if any(a <= slot.starts_at and slot.ends_at <= b for a, b in spans)
    ]


def _has_absence(day: date, schedule: Schedule, tz: tzinfo) -> bool:
    if not schedule.absences:
        return False
    first, last = day_bounds(day, tz)
    return any(a.overlaps(first, last) for a in schedule.absences)


def working_periods(day: date, schedule: Schedule, tz: tzinfo) -> list[Slot]:
    """The doctor's effective periods on `day`, as instants (`Schedule.periods`)."""
    return [Slot(start, end) for start, end in schedule.periods(day, tz)]


def slot_grid(day: date, schedule: Schedule, slot_minutes: int, tz: tzinfo) -> list[Slot]:
    """Every whole slot of the doctor's effective periods on `day`, on the grid of the
    day's working periods (an absence ending at 10:50 leaves the 11:00 slot, not 10:50)."""
    grid = _grid(day, schedule.clock_periods(day), slot_minutes, tz)
    if _has_absence(day, schedule, tz):
        return _within(grid, day, schedule, tz)
    return list(grid)


def free_slots(grid: Iterable[Slot], busy: Iterable[Any], *, now: datetime) -> list[Slot]:
    """The slots of `grid` still ahead of `now` that overlap no busy period (rows with
    starts_at and ends_at)."""
    taken = _merged(busy)
    ends = [end for _, end in taken]
    found = []
    for slot in grid:
        if slot.starts_at <= now:
            continue
        first = bisect_right(ends, slot.starts_at)
        if first < len(taken) and taken[first][0] < slot.ends_at:
            continue
        found.append(slot)
    return found


def _merged(busy: Iterable[Any]) -> list[tuple[datetime, datetime]]:
    """Busy periods merged into disjoint spans, by start and so by end too: the first span
    that ends after a moment is the only one a visit from that moment can overlap, so one
    bisection per slot replaces a scan of every booking (held times should never overlap,
    but a list given here may)."""
    taken: list[tuple[datetime, datetime]] = []
    for b_start, b_end in sorted((b.starts_at, b.ends_at) for b in busy):
        if taken and b_start <= taken[-1][1]:
            taken[-1] = (taken[-1][0], max(taken[-1][1], b_end))
        else:
            taken.append((b_start, b_end))
    return taken


def free_starts(
    day: date,
    schedule: Schedule,
    slot_minutes: int,
    busy: Iterable[Any],
    *,
    now: datetime,
    tz: tzinfo,
    minutes: int | None = None,
) -> list[Slot]:
    """The visits of `minutes` (default: the slot length) that could be booked on `day`:
    each starts on the doctor's slot grid, after `now`, lies inside one effective period and
    overlaps no busy period (rows with starts_at and ends_at: the appointments that hold
    time). With `minutes` equal to the slot length these are `free_slots`' slots.

    `busy` may hold the doctor's whole search window, unsorted; the overlap test bisects,
    so a day costs its grid times log(busy), not grid times busy."""
    periods = schedule.clock_periods(day)
    if not periods:
        return []
    length = slot_minutes if minutes is None else minutes
    visits: Iterable[Slot] = _visits(day, periods, slot_minutes, length, tz)
    if _has_absence(day, schedule, tz):
        visits = _within(visits, day, schedule, tz)
    return free_slots(visits, busy, now=now)
