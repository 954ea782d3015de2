"""Recurring series: a course of visits with one doctor at the same clock time, every N
weeks or every month on the same weekday, a number of times or until a day.

Each visit is an ordinary appointment that knows its series (AppointmentCreated's
`series_id` and `occurrence`); the Series stream records what was planned and, when the
course stops early, which visits were cancelled with it. Planning is pure: the clinic's
local calendar decides the days, and the wall-clock time stays the same across daylight
saving changes (09:00 in winter is 09:00 in summer, an hour apart in UTC).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from uuid import UUID, uuid5

from .appointment import Appointment, Status
from .availability import Schedule
from .clinic_time import local_moment
from .errors import AlreadyExistsError, ValidationError
from .events import AppointmentCancelled, Event, SeriesCancelled, SeriesPlanned
from .messages import Message, phrase
from .rules import clean_text

# A course longer than a year of weekly visits is booked in parts: a typing slip (10000)
# must not lock a doctor's diary for decades.
MAX_VISITS = 52
MAX_EVERY_WEEKS = 26
# How far ahead the last visit may be.
MAX_SPAN_DAYS = 2 * 366


@dataclass(frozen=True)
class Repeat:
    """How a series recurs: every `every_weeks` weeks, or (`monthly`) every month on the
    same weekday of the month (the second Tuesday; the last Friday when the first visit is
    the month's last Friday)."""

    every_weeks: int = 1
    monthly: bool = False

    def words(self) -> Message:
        if self.monthly:
            return phrase("every month on the same weekday")
        if self.every_weeks == 1:
            return phrase("every week")
        return phrase("every %(num)d weeks", num=self.every_weeks)


@dataclass(frozen=True)
class PlannedVisit:
    """One visit of a plan: its number (from 1), its local day, and its start (None on the
    day the clocks skip that time)."""

    occurrence: int
    day: date
    starts_at: datetime | None
    # Moved by the desk to another start (a proposed alternative) than the rule's.
    moved: bool = False


def with_changes(
    visits: list[PlannedVisit], changes: Mapping[int, datetime | None]
) -> tuple[list[PlannedVisit], list[PlannedVisit]]:
    """The visits to book and those left out: a change gives a visit another start (None
    leaves it out); a visit whose time does not exist that day is left out unless moved."""
    kept: list[PlannedVisit] = []
    left: list[PlannedVisit] = []
    for visit in visits:
        if visit.occurrence in changes:
            start = changes[visit.occurrence]
            if start is None:
                left.append(visit)
                continue
            visit = PlannedVisit(visit.occurrence, visit.day, start, moved=True)
        (kept if visit.starts_at is not None else left).append(visit)
    return kept, left


def checked_repeat(every_weeks: int | None, monthly: bool) -> Repeat:
    """The recurrence asked for, or a message for the field that is wrong."""
    if monthly:
        return Repeat(every_weeks=0, monthly=True)
    if every_weeks is None or not 1 <= every_weeks <= MAX_EVERY_WEEKS:
        raise ValidationError(
            {
                "every_weeks": phrase(
                    "Choose how many weeks apart the visits are, from 1 to %(most)d.",
                    most=MAX_EVERY_WEEKS,
                )
            }
        )
    return Repeat(every_weeks=every_weeks)


def _month_day(first: date, year: int, month: int) -> date:
    """The day of (year, month) on `first`'s weekday and rank in its month; the month's last
    such weekday when `first` is the last of its own (so "the last Friday" stays last)."""
    days_in = calendar.monthrange(year, month)[1]
    first_weekday_of_month = date(year, month, 1).weekday()
    offset = (first.weekday() - first_weekday_of_month) % 7
    candidates = list(range(1 + offset, days_in + 1, 7))
    is_last = first.day + 7 > calendar.monthrange(first.year, first.month)[1]
    rank = (first.day - 1) // 7
    chosen = candidates[-1] if is_last or rank >= len(candidates) else candidates[rank]
    return date(year, month, chosen)


def _days(first: date, repeat: Repeat) -> Iterable[date]:
    number = 0
    while True:
        if repeat.monthly:
            month = first.month - 1 + number
            yield _month_day(first, first.year + month // 12, month % 12 + 1)
        else:
            yield first + timedelta(weeks=repeat.every_weeks * number)
        number += 1


def plan_visits(
    first: datetime,
    tz: tzinfo,
    repeat: Repeat,
    *,
    count: int | None = None,
    until: date | None = None,
    most: int = MAX_VISITS,
) -> list[PlannedVisit]:
    """The visits of a series starting at `first`: `count` of them, or as many as fall on or
    before `until` (a local day). Refuses a plan of more than `most` visits, or none, with
    the field to correct."""
    local = first.astimezone(tz)
    start_day, clock = local.date(), local.strftime("%H:%M")
    if (count is None) == (until is None):
        message = phrase("Give either a number of visits or a last day, not both.")
        if count is None:
            message = phrase("Give a number of visits or a last day.")
        raise ValidationError({"occurrences": message})
    if count is not None and count < 2:
        raise ValidationError(
            {"occurrences": phrase("A series has at least 2 visits; for one, book an appointment.")}
        )
    if count is not None and count > most:
        raise ValidationError(
            {
                "occurrences": phrase(
                    "A series has at most %(most)d visits (you asked for %(count)d): book a "
                    "longer course in parts.",
                    most=most,
                    count=count,
                )
            }
        )
    if until is not None and until <= start_day:
        raise ValidationError(
            {
                "until": phrase(
                    "The last day must come after the first visit (%(day)s).", day=start_day
                )
            }
        )
    if until is not None and (until - start_day).days > MAX_SPAN_DAYS:
        raise ValidationError(
            {"until": phrase("A series can run for at most two years; choose an earlier last day.")}
        )
    visits: list[PlannedVisit] = []
    for number, day in enumerate(_days(start_day, repeat), start=1):
        if count is not None and number > count:
            break
        if until is not None and day > until:
            break
        if len(visits) == most:
            raise ValidationError(
                {
                    "until": phrase(
                        "A series has at most %(most)d visits; up to %(day)s it would have "
                        "more. Choose an earlier last day or book it in parts.",
                        most=most,
                        day=until or day,
                    )
                }
            )
        visits.append(PlannedVisit(number, day, local_moment(day, clock, tz)))
    if len(visits) < 2:
        raise ValidationError(
            {"until": phrase("Up to that day the series has only one visit: choose a later day.")}
        )
    return visits


# Why a planned visit cannot be booked as it is, in the order the desk looks for them.
TAKEN, ABSENCE, CLOSURE, HOURS, PAST = "taken", "absence", "closure", "hours", "past"


def conflict_of(
    starts_at: datetime | None,
    ends_at: datetime | None,
    schedule: Schedule,
    tz: tzinfo,
    *,
    now: datetime,
    taken: bool,
) -> str | None:
    """Why this visit cannot be booked (one of CONFLICTS), or None when it can: the clinic
    closed, the doctor away, outside their hours, already held, or already past."""
    if starts_at is None or ends_at is None:
        return HOURS
    if starts_at <= now:
        return PAST
    if schedule.fits(starts_at, ends_at, tz):
        return TAKEN if taken else None
    start, end = starts_at.astimezone(tz).date(), ends_at.astimezone(tz).date()
    if start in schedule.clinic.closures or end in schedule.clinic.closures:
        return CLOSURE
    if schedule.away(starts_at, ends_at) is not None:
        return ABSENCE
    return HOURS


def visit_id(series_id: UUID, occurrence: int) -> UUID:
    """The appointment id of a series' visit: the same for every run of the same booking,
    so a form sent twice books each visit once."""
    return uuid5(series_id, f"visit:{occurrence}")


def step_id(command_id: UUID, what: str) -> UUID:
    """The command id of one step of a series command (a visit's booking): a repeat of the
    series command repeats each step, which the command log answers as it did the first."""
    return uuid5(command_id, what)


@dataclass
class Series:
    """A series folded from its stream: who, with whom, and its visits in order."""

    id: UUID
    version: int = 0
    patient_id: UUID | None = None
    doctor_id: UUID | None = None
    title: str = ""
    repeat: Repeat = field(default_factory=Repeat)
    # (number, appointment id, planned start), in order; numbers skip the visits left out.
    visits: list[tuple[int, UUID, datetime]] = field(default_factory=list)
    cancelled_from: int | None = None

    @property
    def exists(self) -> bool:
        return self.version > 0

    @classmethod
    def from_history(cls, series_id: UUID, events: Iterable[Event]) -> Series:
        series = cls(id=series_id)
        for event in events:
            series.apply(event)
        return series

    def apply(self, event: Event) -> None:
        match event:
            case SeriesPlanned():
                self.patient_id, self.doctor_id, self.title = (
                    event.patient_id,
                    event.doctor_id,
                    event.title,
                )
                self.repeat = Repeat(event.every_weeks, event.monthly)
                self.visits = [
                    (
                        int(v["occurrence"]),
                        UUID(v["appointment_id"]),
                        datetime.fromisoformat(v["starts_at"]),
                    )
                    for v in event.visits
                ]
            case SeriesCancelled():
                earlier = self.cancelled_from or event.from_occurrence
                self.cancelled_from = min(earlier, event.from_occurrence)
        self.version += 1

    def plan(
        self,
        *,
        patient_id: UUID,
        doctor_id: UUID,
        title: str,
        repeat: Repeat,
        visits: list[PlannedVisit],
    ) -> list[Event]:
        """Decide the plan: the visits to book, each with its number and appointment id."""
        if self.exists:
            raise AlreadyExistsError(phrase("This series has already been booked."))
        title = clean_text(
            title, field="title", label=phrase("The reason for the visit"), max_length=200
        )
        if not visits:
            raise ValidationError(
                {"occurrences": phrase("Every visit of the series was left out: nothing to book.")}
            )
        planned = [
            {
                "occurrence": visit.occurrence,
                "appointment_id": str(visit_id(self.id, visit.occurrence)),
                "starts_at": visit.starts_at.isoformat(),
            }
            for visit in visits
            if visit.starts_at is not None
        ]
        return [
            SeriesPlanned(patient_id, doctor_id, title, repeat.every_weeks, repeat.monthly, planned)
        ]

    def cancel_from(
        self, occurrence: int, reason: str, booked: Mapping[UUID, Appointment]
    ) -> tuple[list[Event], dict[UUID, list[Event]]]:
        """Decide the end of the course from visit `occurrence` on: every booked visit from
        there that is still to happen (pending or confirmed) is cancelled with the same
        reason; the others (done, missed, already cancelled, never booked) stay as they are.
        Returns the series' event and each cancelled appointment's."""
        if not any(number == occurrence for number, _, _ in self.visits):
            raise ValidationError({"from_occurrence": phrase("Choose one of the series' visits.")})
        reason = clean_text(
            reason, field="reason", label=phrase("The reason for cancelling"), max_length=500
        )
        cancelled: dict[UUID, list[Event]] = {}
        for number, visit, _ in self.visits:
            found = booked.get(visit)
            if number < occurrence or found is None:
                continue
            if found.status in (Status.PENDING, Status.CONFIRMED):
                cancelled[visit] = [AppointmentCancelled(reason)]
        if not cancelled:
            raise ValidationError(
                {
                    "from_occurrence": phrase(
                        "No visit of the series from that one on is still to happen: there "
                        "is nothing to cancel."
                    )
                }
            )
        series_event = SeriesCancelled(occurrence, reason, [str(key) for key in cancelled])
        return [series_event], cancelled
