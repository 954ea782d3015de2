"""Clinic time: instants are kept in UTC; staff think in the clinic's local days and clocks.

Every conversion between the two is written here, so a daylight-saving rule is decided once.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo


def to_utc(moment: datetime) -> datetime:
    """A zone-aware moment in UTC; naive values (SQLite hands them back) are UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def local_day(moment: datetime, tz: tzinfo) -> date:
    """The clinic-local day an instant falls on."""
    return moment.astimezone(tz).date()


def same_local_day(first: datetime, second: datetime, tz: tzinfo) -> bool:
    """Whether two instants fall on the same clinic-local day."""
    return local_day(first, tz) == local_day(second, tz)


def day_bounds(day: date, tz: tzinfo) -> tuple[datetime, datetime]:
    """The UTC instants where a clinic-local day starts and ends."""
    start = datetime.combine(day, time(), tz)
    end = datetime.combine(day + timedelta(days=1), time(), tz)
    return to_utc(start), to_utc(end)


def local_moment(day: date, clock_time: str, tz: tzinfo) -> datetime | None:
    """The instant (in UTC) a local 'HH:MM' on `day` happens, or None on a day it does not
    exist (the hour skipped when clocks go forward)."""
    naive = datetime.combine(day, time.fromisoformat(clock_time))
    aware = naive.replace(tzinfo=tz)
    if aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != naive:
        return None
    return aware.astimezone(UTC)
