"""Free slots: a doctor's working hours cut into slots, minus the time already booked.

Pure functions (the read repository in `agenda` feeds them rows), so the calendar rules are
tested without a database: slot length, periods, daylight-saving days, the past.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from app.domain.clinic_time import local_moment
from app.domain.rules import WEEKDAYS


@dataclass(frozen=True, order=True)
class Slot:
    starts_at: datetime
    ends_at: datetime


Hours = Mapping[str, Sequence[Sequence[str]]]


def working_periods(day: date, hours: Hours | None, tz: tzinfo) -> list[Slot]:
    """The doctor's working periods on `day`, as instants (a period whose start or end the
    clocks skip that day is left out, as the booking check would refuse times in it)."""
    periods = []
    for start_text, end_text in (hours or {}).get(WEEKDAYS[day.weekday()], []):
        start, end = local_moment(day, start_text, tz), local_moment(day, end_text, tz)
        if start is not None and end is not None:
            periods.append(Slot(start, end))
    return periods


def slot_grid(day: date, hours: Hours | None, slot_minutes: int, tz: tzinfo) -> list[Slot]:
    """Every whole slot of the doctor's working periods on `day`."""
    length = timedelta(minutes=slot_minutes)
    grid = []
    for period in working_periods(day, hours, tz):
        start, end = period.starts_at, period.ends_at
        while start + length <= end:
            grid.append(Slot(start, start + length))
            start += length
    return grid


def free_slots(grid: Iterable[Slot], busy: Iterable[Any], *, now: datetime) -> list[Slot]:
    """The slots of `grid` still ahead of `now` that overlap no busy period (rows with
    starts_at and ends_at)."""
    taken = sorted((b.starts_at, b.ends_at) for b in busy)
    return [
        slot
        for slot in grid
        if slot.starts_at > now
        and not any(start < slot.ends_at and slot.starts_at < end for start, end in taken)
    ]


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
    length = timedelta(minutes=slot_minutes if minutes is None else minutes)
    periods = (hours or {}).get(WEEKDAYS[day.weekday()], [])
    if not periods:
        return []
    # Merged into disjoint spans (held times should never overlap, but a list given here
    # may), sorted by start and so by end too: the first span ending after a start is the
    # only one that can overlap a visit from there.
    taken: list[tuple[datetime, datetime]] = []
    for b_start, b_end in sorted((b.starts_at, b.ends_at) for b in busy):
        if taken and b_start <= taken[-1][1]:
            taken[-1] = (taken[-1][0], max(taken[-1][1], b_end))
        else:
            taken.append((b_start, b_end))
    ends = [end for _, end in taken]
    clock_periods = [(time.fromisoformat(a), time.fromisoformat(b)) for a, b in periods]
    found = []
    for slot in slot_grid(day, hours, slot_minutes, tz):
        start, end = slot.starts_at, slot.starts_at + length
        if start <= now:
            continue
        # The overlap first: on a busy day it refuses most starts, and costs less.
        first = bisect_right(ends, start)
        if first < len(taken) and taken[first][0] < end:
            continue
        if _fits_hours(start, end, clock_periods, tz):
            found.append(Slot(start, end))
    return found
