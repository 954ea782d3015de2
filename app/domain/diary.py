"""A doctor's diary: the time other appointments hold, and why a requested time does not fit.

The write side knows the doctor's reservations and whose they are; this says, in staff
terms, which appointment a requested time runs into and how long a visit would fit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from .appointment import MIN_DURATION
from .errors import SlotTakenError


@dataclass(frozen=True)
class Booked:
    """Time another appointment holds in the doctor's diary, and its patient's name."""

    starts_at: datetime
    ends_at: datetime
    patient_name: str


def _clock(moment: datetime, tz: tzinfo) -> str:
    return f"{moment.astimezone(tz):%H:%M}"


def _minutes(count: int) -> str:
    return f"{count} minute" if count == 1 else f"{count} minutes"


def check_free(
    starts_at: datetime,
    ends_at: datetime,
    booked: Iterable[Booked],
    *,
    doctor_name: str,
    tz: tzinfo,
) -> None:
    """Refuse a time that overlaps any of `booked`, naming the first appointment in the way
    and, when the start itself is free, the longest visit that fits there."""
    overlapping = sorted(
        (b for b in booked if b.starts_at < ends_at and starts_at < b.ends_at),
        key=lambda b: b.starts_at,
    )
    if not overlapping:
        return
    first = overlapping[0]
    if first.starts_at <= starts_at:
        raise SlotTakenError(
            f"That time is no longer free: {doctor_name} already has an appointment with "
            f"{first.patient_name} from {_clock(first.starts_at, tz)} "
            f"to {_clock(first.ends_at, tz)}."
        )
    minutes = (first.starts_at - starts_at) // timedelta(minutes=1)
    asked = (ends_at - starts_at) // timedelta(minutes=1)
    start = _clock(starts_at, tz)
    into = (
        f"A {asked}-minute appointment from {start} would run into "
        f"{first.patient_name}'s appointment at {_clock(first.starts_at, tz)}"
    )
    if timedelta(minutes=minutes) < MIN_DURATION:
        raise SlotTakenError(
            f"{into}; only {_minutes(minutes)} free from {start}, too short for an "
            "appointment. Choose another time."
        )
    raise SlotTakenError(f"{into}; at most {_minutes(minutes)} are free from {start}.")
