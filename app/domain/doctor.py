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
from .rules import WEEKDAY_NAMES, WEEKDAYS, clean_text, local_label

MIN_SLOT, MAX_SLOT = 5, 240
_HH_MM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
Hours = dict[str, list[tuple[time, time]]]


def check_slot_minutes(value: int) -> int:
    """A slot length between 5 minutes and 4 hours."""
    if not isinstance(value, int) or isinstance(value, bool) or not MIN_SLOT <= value <= MAX_SLOT:
        raise ValidationError(
            {"slot_minutes": f"The slot length must be between {MIN_SLOT} and {MAX_SLOT} minutes."}
        )
    return value


def parse_hours(raw: Mapping[str, Sequence[Sequence[str]]]) -> Hours:
    """Turn {"mon": [["09:00", "12:00"]]} into sorted, non-overlapping time ranges per day."""
    errors: dict[str, str] = {}
    hours: Hours = {}
    for day, ranges in raw.items():
        if day not in WEEKDAYS:
            errors["hours"] = f"Unknown day {day!r}; use one of {', '.join(WEEKDAYS)}."
            continue
        label = WEEKDAY_NAMES[WEEKDAYS.index(day)]
        parsed: list[tuple[time, time]] = []
        for pair in ranges:
            try:
                if not all(_HH_MM.match(str(part)) for part in pair):
                    raise ValueError(pair)
                start, end = (time.fromisoformat(str(part)) for part in pair)
            except ValueError:
                errors[f"hours_{day}"] = f"{label}: write times as HH:MM, e.g. 09:00-12:30."
                break
            if end <= start:
                errors[f"hours_{day}"] = (
                    f"{label}: {start:%H:%M} to {end:%H:%M} ends before it starts."
                )
                break
            parsed.append((start, end))
        parsed.sort()
        for (_, end), (start, _) in itertools.pairwise(parsed):
            if start < end:
                errors[f"hours_{day}"] = f"{label}: two working periods overlap."
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
            raise AlreadyExistsError("This doctor is already registered.")
        errors: dict[str, str] = {}
        name = spec = ""
        try:
            name = clean_text(
                full_name, field="full_name", label="The doctor's name", max_length=120
            )
        except ValidationError as exc:
            errors.update(exc.errors)
        try:
            spec = clean_text(specialty, field="specialty", label="The specialty", max_length=80)
        except ValidationError as exc:
            errors.update(exc.errors)
        try:
            check_slot_minutes(slot_minutes)
        except ValidationError as exc:
            errors.update(exc.errors)
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
            raise OutsideWorkingHoursError(
                f"{self.full_name} does not work then ({local_label(starts_at, tz)} to "
                f"{end:%H:%M}); {self.describe_day(start.weekday())}"
            )

    def describe_day(self, weekday: int) -> str:
        """'on Tuesdays they work 09:00-12:00 and 14:00-18:00', for error messages."""
        periods = self.hours.get(WEEKDAYS[weekday], [])
        day = WEEKDAY_NAMES[weekday]
        if not periods:
            return f"they do not work on {day}s."
        spans = " and ".join(f"{s:%H:%M}-{e:%H:%M}" for s, e in periods)
        return f"on {day}s they work {spans}."
