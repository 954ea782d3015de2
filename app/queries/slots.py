"""Free slots: a doctor's working hours cut into slots, minus the time already booked.

Pure functions (the read repository in `agenda` feeds them rows), so the calendar rules are
tested without a database: slot length, periods, daylight-saving days, the past.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
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
