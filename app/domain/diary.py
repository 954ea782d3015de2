"""A doctor's diary: the time other appointments hold, and why a requested time does not fit.

The write side knows the doctor's reservations and whose they are; this says, in staff
terms, which appointment a requested time runs into and how long a visit would fit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo

from .appointment import MIN_DURATION
from .errors import SlotTakenError
from .messages import Message, Param, phrase, phrase_n


@dataclass(frozen=True)
class Booked:
    """Time another appointment holds in the doctor's diary, and its patient's name."""

    starts_at: datetime
    ends_at: datetime
    patient_name: str | Message  # "another patient" when the record has no name


def _clock(moment: datetime, tz: tzinfo) -> time:
    return moment.astimezone(tz).timetz()


def _minutes(count: int) -> Message:
    return phrase_n("%(num)d minute", "%(num)d minutes", count)


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
            phrase(
                "That time is no longer free: %(doctor)s already has an appointment with "
                "%(patient)s from %(start)s to %(end)s.",
                doctor=doctor_name,
                patient=first.patient_name,
                start=_clock(first.starts_at, tz),
                end=_clock(first.ends_at, tz),
            )
        )
    minutes = (first.starts_at - starts_at) // timedelta(minutes=1)
    asked = (ends_at - starts_at) // timedelta(minutes=1)
    words: dict[str, Param] = {
        "asked": asked,
        "start": _clock(starts_at, tz),
        "patient": first.patient_name,
        "theirs": _clock(first.starts_at, tz),
        "free": _minutes(minutes),
    }
    if timedelta(minutes=minutes) < MIN_DURATION:
        raise SlotTakenError(
            phrase(
                "A %(asked)d-minute appointment from %(start)s would run into %(patient)s's "
                "appointment at %(theirs)s; only %(free)s free from %(start)s, too short for "
                "an appointment. Choose another time.",
                **words,
            )
        )
    raise SlotTakenError(
        phrase(
            "A %(asked)d-minute appointment from %(start)s would run into %(patient)s's "
            "appointment at %(theirs)s; at most %(free)s are free from %(start)s.",
            **words,
        )
    )
