"""The Doctor aggregate: who can be booked, and when they work."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, tzinfo
from typing import Any
from uuid import UUID

from .errors import AlreadyExistsError, OutsideWorkingHoursError, ValidationError
from .events import DoctorRegistered, Event, WorkingHoursSet
from .messages import Message, phrase
from .rules import WEEKDAYS, clean_text

# A day of the week as a label ("Tuesday: …") and as a habit ("on Tuesdays").
DAY_WORDS = (
    phrase("Monday"),
    phrase("Tuesday"),
    phrase("Wednesday"),
    phrase("Thursday"),
    phrase("Friday"),
    phrase("Saturday"),
    phrase("Sunday"),
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

MIN_SLOT, MAX_SLOT = 5, 240
_HH_MM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
Hours = dict[str, list[tuple[time, time]]]


def check_slot_minutes(value: int) -> int:
    """A slot length between 5 minutes and 4 hours."""
    if not isinstance(value, int) or isinstance(value, bool) or not MIN_SLOT <= value <= MAX_SLOT:
        raise ValidationError(
            {
                "slot_minutes": phrase(
                    "The slot length must be between %(least)d and %(most)d minutes.",
                    least=MIN_SLOT,
                    most=MAX_SLOT,
                )
            }
        )
    return value


def parse_hours(raw: Mapping[str, Sequence[Sequence[str]]]) -> Hours:
    """Turn {"mon": [["09:00", "12:00"]]} into sorted, non-overlapping time ranges per day."""
    errors: dict[str, Message] = {}
    hours: Hours = {}
    for day, ranges in raw.items():
        if day not in WEEKDAYS:
            errors["hours"] = phrase(
                "Unknown day %(day)s; use one of %(days)s.", day=repr(day), days=", ".join(WEEKDAYS)
            )
            continue
        label = DAY_WORDS[WEEKDAYS.index(day)]
        parsed: list[tuple[time, time]] = []
        for pair in ranges:
            try:
                if not all(_HH_MM.match(str(part)) for part in pair):
                    raise ValueError(pair)
                start, end = (time.fromisoformat(str(part)) for part in pair)
            except ValueError:
                errors[f"hours_{day}"] = phrase(
                    "%(day)s: write times as HH:MM, e.g. 09:00-12:30.", day=label
                )
                break
            if end <= start:
                errors[f"hours_{day}"] = phrase(
                    "%(day)s: %(start)s to %(end)s ends before it starts.",
                    day=label,
                    start=start,
                    end=end,
                )
                break
            parsed.append((start, end))
        parsed.sort()
        for (_, end), (start, _) in itertools.pairwise(parsed):
            if start < end:
                errors[f"hours_{day}"] = phrase("%(day)s: two working periods overlap.", day=label)
        if parsed:
            hours[day] = parsed
    if errors:
        raise ValidationError(errors)
    return hours


def hours_to_data(hours: Hours) -> dict[str, Any]:
    """The JSON shape stored in WorkingHoursSet."""
    return {
        day: [[f"{s:%H:%M}", f"{e:%H:%M}"] for s, e in hours[day]]
        for day in WEEKDAYS
        if day in hours
    }


@dataclass
class Doctor:
    """A doctor who can be booked, folded from its stream."""

    id: UUID
    version: int = 0
    full_name: str = ""
    specialty: str = ""
    slot_minutes: int = 15
    hours: Hours = field(default_factory=dict)
    registered: bool = False

    @property
    def exists(self) -> bool:
        return self.registered

    @classmethod
    def from_history(cls, doctor_id: UUID, events: Iterable[Event]) -> Doctor:
        doctor = cls(id=doctor_id)
        for event in events:
            doctor.apply(event)
        return doctor

    def apply(self, event: Event) -> None:
        """Fold one event into the state."""
        if isinstance(event, DoctorRegistered):
            self.full_name, self.specialty = event.full_name, event.specialty
            self.registered = True
            self.slot_minutes = event.slot_minutes
        elif isinstance(event, WorkingHoursSet):
            self.hours = parse_hours(event.hours)
            self.slot_minutes = event.slot_minutes
        self.version += 1

    def register(self, *, full_name: str, specialty: str, slot_minutes: int) -> list[Event]:
        """Decide the registration of a new doctor."""
        if self.version:
            raise AlreadyExistsError(phrase("This doctor is already registered."))
        errors: dict[str, Message] = {}
        name = spec = ""
        try:
            name = clean_text(
                full_name, field="full_name", label=phrase("The doctor's name"), max_length=120
            )
        except ValidationError as exc:
            errors.update(exc.said_errors)
        try:
            spec = clean_text(
                specialty, field="specialty", label=phrase("The specialty"), max_length=80
            )
        except ValidationError as exc:
            errors.update(exc.said_errors)
        try:
            check_slot_minutes(slot_minutes)
        except ValidationError as exc:
            errors.update(exc.said_errors)
        if errors:
            raise ValidationError(errors)
        return [DoctorRegistered(name, spec, slot_minutes)]

    def set_working_hours(self, hours: Hours, slot_minutes: int) -> list[Event]:
        """Decide new weekly working hours (and slot length)."""
        check_slot_minutes(slot_minutes)
        if hours == self.hours and slot_minutes == self.slot_minutes:
            return []
        return [WorkingHoursSet(hours_to_data(hours), slot_minutes)]

    def check_works(self, starts_at: datetime, ends_at: datetime, tz: tzinfo) -> None:
        """Refuse a time that does not fall inside one of the doctor's working periods."""
        start, end = starts_at.astimezone(tz), ends_at.astimezone(tz)
        periods = self.hours.get(WEEKDAYS[start.weekday()], [])
        fits = start.date() == end.date() and any(
            p_start <= start.time() and end.time() <= p_end for p_start, p_end in periods
        )
        if not fits:
            raise OutsideWorkingHoursError(self.not_working(start, end, periods))

    def not_working(
        self, start: datetime, end: datetime, periods: list[tuple[time, time]]
    ) -> Message:
        """'Dr Martin does not work then (…); on Tuesdays they work 09:00-12:00 and
        14:00-18:00.', for the desk; `start` and `end` in the clinic's zone."""
        on_days = ON_DAYS[start.weekday()]
        if not periods:
            return phrase(
                "%(doctor)s does not work then (%(starts)s to %(end)s); they do not work "
                "%(on_days)s.",
                doctor=self.full_name,
                starts=start,
                end=end.timetz(),
                on_days=on_days,
            )
        spans = [phrase("%(start)s-%(end)s", start=s, end=e) for s, e in periods]
        joined: Message = spans[0]
        for span in spans[1:]:
            joined = phrase("%(first)s and %(second)s", first=joined, second=span)
        return phrase(
            "%(doctor)s does not work then (%(starts)s to %(end)s); %(on_days)s they work "
            "%(spans)s.",
            doctor=self.full_name,
            starts=start,
            end=end.timetz(),
            on_days=on_days,
            spans=joined,
        )
