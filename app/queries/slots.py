"""Free slots: a doctor's working hours cut into slots, minus the time already booked.

Pure functions (the read repository in `agenda` feeds them rows), so the calendar rules are
tested without a database: slot length, periods, daylight-saving days, the past.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from typing import Any

from app.domain.clinic_time import local_moment
from app.domain.rules import WEEKDAYS


@dataclass(frozen=True, order=True, slots=True)
class Slot:
    starts_at: datetime
    ends_at: datetime


Hours = Mapping[str, Sequence[Sequence[str]]]


Periods = tuple[tuple[str, str], ...]  # one weekday's working periods, as the hours say


def _periods(day: date, hours: Hours | None) -> Periods:
    return tuple((a, b) for a, b in (hours or {}).get(WEEKDAYS[day.weekday()], []))


# The grids below depend only on the day, that weekday's periods, the lengths and the zone,
# and most doctors share their hours: a week's capacity for 30 doctors, or a first-available
# search over 600 doctor-days, works each one out once instead of once per doctor and day.
# Bounded: a year of days for a few patterns of hours (an entry is a day's slots, a few KB).


@lru_cache(maxsize=2048)
def _working(day: date, periods: Periods, tz: tzinfo) -> tuple[Slot, ...]:
    found = []
    for start_text, end_text in periods:
        start, end = local_moment(day, start_text, tz), local_moment(day, end_text, tz)
        if start is not None and end is not None:
            found.append(Slot(start, end))
    return tuple(found)


@lru_cache(maxsize=2048)
def _grid(day: date, periods: Periods, slot_minutes: int, tz: tzinfo) -> tuple[Slot, ...]:
    length = timedelta(minutes=slot_minutes)
    grid = []
    for period in _working(day, periods, tz):
        start, end = period.starts_at, period.ends_at
        while start + length <= end:
            grid.append(Slot(start, start + length))
            start += length
    return tuple(grid)


@lru_cache(maxsize=2048)
def _visits(
    day: date, periods: Periods, slot_minutes: int, minutes: int, tz: tzinfo
) -> tuple[Slot, ...]:
    """The visits of `minutes` from each start of the slot grid that lie inside one
    working period on the wall clock, as the booking checks them (`_fits_hours`)."""
    length = timedelta(minutes=minutes)
    clock_periods = [(time.fromisoformat(a), time.fromisoformat(b)) for a, b in periods]
    return tuple(
        Slot(slot.starts_at, slot.starts_at + length)
        for slot in _grid(day, periods, slot_minutes, tz)
        if _fits_hours(slot.starts_at, slot.starts_at + length, clock_periods, tz)
    )


def working_periods(day: date, hours: Hours | None, tz: tzinfo) -> list[Slot]:
    """The doctor's working periods on `day`, as instants (a period whose start or end the
    clocks skip that day is left out, as the booking check would refuse times in it)."""
    return list(_working(day, _periods(day, hours), tz))


def slot_grid(day: date, hours: Hours | None, slot_minutes: int, tz: tzinfo) -> list[Slot]:
    """Every whole slot of the doctor's working periods on `day`."""
    return list(_grid(day, _periods(day, hours), slot_minutes, tz))


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


def _fits_hours(
    start: datetime, end: datetime, periods: list[tuple[time, time]], tz: tzinfo
) -> bool:
    """Whether [start, end) lies inside one working period, compared on the wall clock
    exactly as the booking does (`Doctor.check_works`): on the day the clocks go back, a
    grid start in the repeated hour can fall before its period on the wall clock, and a
    time booking would refuse must not be offered."""
    local_start, local_end = start.astimezone(tz), end.astimezone(tz)
    if local_start.date() != local_end.date():
        return False
    begins, ends = local_start.time(), local_end.time()
    return any(p_start <= begins and ends <= p_end for p_start, p_end in periods)


def free_starts(
    day: date,
    hours: Mapping[str, Sequence[Sequence[str]]] | None,
    slot_minutes: int,
    busy: Iterable[Any],
    *,
    now: datetime,
    tz: tzinfo,
    minutes: int | None = None,
) -> list[Slot]:
    """The visits of `minutes` (default: the slot length) that could be booked on `day`:
    each starts on the doctor's slot grid, after `now`, lies inside one working period and
    overlaps no busy period (rows with starts_at and ends_at: the appointments that hold
    time). With `minutes` equal to the slot length these are `free_slots`' slots.

    `busy` may hold the doctor's whole search window, unsorted; the overlap test bisects,
    so a day costs its grid times log(busy), not grid times busy."""
    periods = _periods(day, hours)
    if not periods:
        return []
    length = slot_minutes if minutes is None else minutes
    return free_slots(_visits(day, periods, slot_minutes, length, tz), busy, now=now)
