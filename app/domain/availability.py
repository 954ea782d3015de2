"""When a doctor can be booked: the one rule that the booking check, the free times, the
calendar, the week's capacity, first-available search and the call list all ask.

A day's effective hours are the doctor's weekly periods for that weekday, or the one-off
hours set for that date instead; bounded by the clinic's opening hours for the weekday;
none at all on a day the clinic is closed; minus every absence, which is a span of instants
(it may start mid-afternoon and end days later, across midnight and clock changes). The
periods are written on the wall clock and become instants through `clinic_time`, so a
period whose start or end the clocks skip that day is left out.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from typing import Any
from uuid import UUID

from .clinic_time import local_day, local_moment
from .messages import Message, phrase
from .rules import WEEKDAYS

# One day's periods on the wall clock, as the events write them: (("09:00", "12:30"), …).
Clock = tuple[tuple[str, str], ...]
Span = tuple[datetime, datetime]

# Why a doctor is away, as the desk picks it; "other" is said by the free text beside it.
ABSENCE_REASONS = ("holiday", "training", "sick", "other")
REASON_WORDS = {
    "holiday": phrase("holiday"),
    "training": phrase("training"),
    "sick": phrase("sick leave"),
    "other": phrase("other reason"),
}


def clock(ranges: Iterable[Sequence[str]] | None) -> Clock:
    """Periods as stored ([["09:00", "12:00"], …]) as a hashable, sorted tuple."""
    return tuple(sorted((str(a), str(b)) for a, b in ranges or ()))


@dataclass(frozen=True)
class Absence:
    """A doctor away from one instant to another, for a reason ("holiday"…) and a note."""

    absence_id: UUID
    starts_at: datetime
    ends_at: datetime
    reason: str
    note: str = ""

    def overlaps(self, starts_at: datetime, ends_at: datetime) -> bool:
        return self.starts_at < ends_at and starts_at < self.ends_at

    def reason_words(self) -> Message:
        """ "holiday", or the note when the reason is "other" and says more."""
        if self.reason == "other" and self.note:
            # The desk's own words, as a parameter: shown as written, never looked up.
            return phrase("%(note)s", note=self.note)
        words = REASON_WORDS.get(self.reason, REASON_WORDS["other"])
        if self.note:
            return phrase("%(reason)s: %(note)s", reason=words, note=self.note)
        return words

    def span_words(self, tz: tzinfo) -> Message:
        """'from 14 to 18 December' as days when it covers whole days, else as moments."""
        start, end = self.starts_at.astimezone(tz), self.ends_at.astimezone(tz)
        if _is_midnight(start) and _is_midnight(end):
            last = end.date() - timedelta(days=1)
            if last == start.date():
                return phrase("on %(day)s", day=start.date())
            return phrase("from %(first)s to %(last)s", first=start.date(), last=last)
        return phrase("from %(starts)s to %(ends)s", starts=start, ends=end)


def _is_midnight(moment: datetime) -> bool:
    return moment.timetz().replace(tzinfo=None) == time()


@dataclass(frozen=True)
class ClinicDays:
    """What the whole clinic says: opening hours per weekday (None: no bound) and the
    days it is closed, each with its label ("Christmas Day")."""

    hours: Mapping[str, Clock] | None = None
    closures: Mapping[date, str] = field(default_factory=dict)


OPEN_CLINIC = ClinicDays()


def clinic_from_data(hours: Mapping[str, Any] | None, closures: Mapping[str, str]) -> ClinicDays:
    """The clinic's days from the shapes the events and read models store."""
    return ClinicDays(
        {day: clock(ranges) for day, ranges in hours.items()} if hours else None,
        {date.fromisoformat(day): label for day, label in closures.items()},
    )


def absence_data(absence: Absence) -> dict[str, str]:
    """An absence as a read model keeps it (JSON)."""
    return {
        "absence_id": str(absence.absence_id),
        "starts_at": absence.starts_at.isoformat(),
        "ends_at": absence.ends_at.isoformat(),
        "reason": absence.reason,
        "note": absence.note,
    }


def absence_from_data(data: Mapping[str, str]) -> Absence:
    return Absence(
        UUID(data["absence_id"]),
        datetime.fromisoformat(data["starts_at"]),
        datetime.fromisoformat(data["ends_at"]),
        data["reason"],
        data.get("note", ""),
    )


@dataclass(frozen=True)
class Schedule:
    """Everything that says when one doctor works, as the write side folds it from the
    doctor's and the clinic's streams and the read side from its rows."""

    doctor_name: str
    weekly: Mapping[str, Clock]
    day_hours: Mapping[date, Clock] = field(default_factory=dict)
    absences: tuple[Absence, ...] = ()
    clinic: ClinicDays = OPEN_CLINIC

    @classmethod
    def from_data(
        cls,
        doctor_name: str,
        hours: Mapping[str, Any] | None,
        day_hours: Mapping[str, Any] | None,
        absences: Iterable[Mapping[str, str]] | None,
        clinic: ClinicDays = OPEN_CLINIC,
    ) -> Schedule:
        """A schedule from the shapes the read models store (JSON)."""
        return cls(
            doctor_name=doctor_name,
            weekly={day: clock(ranges) for day, ranges in (hours or {}).items()},
            day_hours={date.fromisoformat(d): clock(r) for d, r in (day_hours or {}).items()},
            absences=tuple(
                sorted((absence_from_data(a) for a in absences or ()), key=lambda a: a.starts_at)
            ),
            clinic=clinic,
        )

    def clock_periods(self, day: date) -> Clock:
        """The day's periods on the wall clock, before absences: the one-off hours of that
        date or the weekly ones, within the clinic's opening hours, none when it is closed."""
        if day in self.clinic.closures:
            return ()
        weekday = WEEKDAYS[day.weekday()]
        own = self.day_hours[day] if day in self.day_hours else self.weekly.get(weekday, ())
        if self.clinic.hours is None:
            return own
        return _intersect(own, self.clinic.hours.get(weekday, ()))

    def periods(self, day: date, tz: tzinfo) -> list[Span]:
        """The effective hours of `day`, as instants: the spans in which a visit may lie."""
        spans = list(instants(day, self.clock_periods(day), tz))
        if not spans or not self.absences:
            return spans
        first, last = spans[0][0], spans[-1][1]
        for absence in self.absences:
            if absence.overlaps(first, last):
                spans = _cut(spans, absence.starts_at, absence.ends_at)
        return spans

    def fits(self, starts_at: datetime, ends_at: datetime, tz: tzinfo) -> bool:
        """Whether [starts_at, ends_at) lies inside one effective period of its day."""
        return any(
            start <= starts_at and ends_at <= end
            for start, end in self.periods(local_day(starts_at, tz), tz)
        )

    def away(self, starts_at: datetime, ends_at: datetime) -> Absence | None:
        """The first absence overlapping the time, if any."""
        found = [a for a in self.absences if a.overlaps(starts_at, ends_at)]
        return min(found, key=lambda a: a.starts_at) if found else None

    def refusal(self, starts_at: datetime, ends_at: datetime, tz: tzinfo) -> Message | None:
        """Why a visit cannot be booked then, in the desk's words; None when it fits."""
        if self.fits(starts_at, ends_at, tz):
            return None
        start, end = starts_at.astimezone(tz), ends_at.astimezone(tz)
        day = start.date()
        # A visit lasts at most 8 hours: its first and last days are all it touches.
        closed = next((d for d in (start.date(), end.date()) if d in self.clinic.closures), None)
        if closed is not None:
            return phrase(
                "The clinic is closed on %(day)s (%(label)s).",
                day=closed,
                label=self.clinic.closures[closed],
            )
        absence = self.away(starts_at, ends_at)
        if absence is not None:
            return phrase(
                "%(doctor)s is away %(span)s (%(reason)s).",
                doctor=self.doctor_name,
                span=absence.span_words(tz),
                reason=absence.reason_words(),
            )
        if start.date() != end.date():
            return phrase("An appointment must start and end on the same day.")
        weekday = WEEKDAYS[day.weekday()]
        if self.clinic.hours is not None:
            opening = self.clinic.hours.get(weekday, ())
            if not any(a <= f"{start:%H:%M}" and f"{end:%H:%M}" <= b for a, b in opening):
                if not opening:
                    return phrase(
                        "The clinic is closed %(on_days)s.", on_days=ON_DAYS[day.weekday()]
                    )
                return phrase(
                    "The clinic is open only %(spans)s %(on_days)s.",
                    spans=spans_words(opening),
                    on_days=ON_DAYS[day.weekday()],
                )
        periods = self.clock_periods(day)
        if day in self.day_hours:
            if not periods:
                return phrase(
                    "%(doctor)s does not work on %(day)s (hours set for that day).",
                    doctor=self.doctor_name,
                    day=day,
                )
            return phrase(
                "%(doctor)s works other hours on %(day)s: %(spans)s.",
                doctor=self.doctor_name,
                day=day,
                spans=spans_words(periods),
            )
        if not periods:
            return phrase(
                "%(doctor)s does not work then (%(starts)s to %(end)s); they do not work "
                "%(on_days)s.",
                doctor=self.doctor_name,
                starts=start,
                end=end.timetz(),
                on_days=ON_DAYS[day.weekday()],
            )
        return phrase(
            "%(doctor)s does not work then (%(starts)s to %(end)s); %(on_days)s they work "
            "%(spans)s.",
            doctor=self.doctor_name,
            starts=start,
            end=end.timetz(),
            on_days=ON_DAYS[day.weekday()],
            spans=spans_words(periods),
        )


ON_DAYS = (
    phrase("on Mondays"),
    phrase("on Tuesdays"),
    phrase("on Wednesdays"),
    phrase("on Thursdays"),
    phrase("on Fridays"),
    phrase("on Saturdays"),
    phrase("on Sundays"),
)


def spans_words(periods: Clock) -> Message:
    """'09:00-12:00 and 14:00-18:00'."""
    spans = [
        phrase("%(start)s-%(end)s", start=time.fromisoformat(s), end=time.fromisoformat(e))
        for s, e in periods
    ]
    joined: Message = spans[0]
    for span in spans[1:]:
        joined = phrase("%(first)s and %(second)s", first=joined, second=span)
    return joined


def _intersect(first: Clock, second: Clock) -> Clock:
    """The parts of the day both lists of periods cover (wall-clock text compares in order)."""
    found = []
    for (a_start, a_end), (b_start, b_end) in itertools.product(first, second):
        start, end = max(a_start, b_start), min(a_end, b_end)
        if start < end:
            found.append((start, end))
    return tuple(sorted(found))


@lru_cache(maxsize=4096)
def instants(day: date, periods: Clock, tz: tzinfo) -> tuple[Span, ...]:
    # Most doctors share their hours and most days have no exception: a week's capacity
    # for 30 doctors, or a 90-day search, works each pattern out once per day.
    found = []
    for start_text, end_text in periods:
        start, end = local_moment(day, start_text, tz), local_moment(day, end_text, tz)
        if start is not None and end is not None and start < end:
            found.append((start, end))
    return tuple(found)


def _cut(spans: list[Span], away_start: datetime, away_end: datetime) -> list[Span]:
    kept: list[Span] = []
    for start, end in spans:
        if away_end <= start or end <= away_start:
            kept.append((start, end))
            continue
        if start < away_start:
            kept.append((start, away_start))
        if away_end < end:
            kept.append((away_end, end))
    return kept
