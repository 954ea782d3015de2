"""The Doctor aggregate: who can be booked, and when they work."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any
from uuid import UUID

from .availability import (
    ABSENCE_REASONS,
    OPEN_CLINIC,
    Absence,
    ClinicDays,
    Clock,
    Schedule,
    clock,
)
from .errors import AlreadyExistsError, NotFoundError, ValidationError
from .events import (
    AbsenceCancelled,
    AbsenceChanged,
    AbsenceRecorded,
    DayHoursCleared,
    DayHoursSet,
    DoctorRegistered,
    Event,
    WorkingHoursSet,
)
from .messages import Message, phrase
from .rules import WEEKDAYS, clean_text, require_aware

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
    absences: dict[UUID, Absence] = field(default_factory=dict)
    cancelled_absences: set[UUID] = field(default_factory=set)
    day_hours: dict[date, Clock] = field(default_factory=dict)

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
        elif isinstance(event, AbsenceRecorded | AbsenceChanged):
            self.absences[event.absence_id] = Absence(
                event.absence_id, event.starts_at, event.ends_at, event.reason, event.note
            )
        elif isinstance(event, AbsenceCancelled):
            self.absences.pop(event.absence_id, None)
            self.cancelled_absences.add(event.absence_id)
        elif isinstance(event, DayHoursSet):
            self.day_hours[event.day] = clock(event.hours)
        elif isinstance(event, DayHoursCleared):
            self.day_hours.pop(event.day, None)
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

    def schedule(self, clinic: ClinicDays = OPEN_CLINIC) -> Schedule:
        """When the doctor works, as the one availability rule reads it."""
        return Schedule(
            doctor_name=self.full_name,
            weekly={day: clock(as_text(ranges)) for day, ranges in self.hours.items()},
            day_hours=dict(self.day_hours),
            absences=tuple(sorted(self.absences.values(), key=lambda a: a.starts_at)),
            clinic=clinic,
        )

    def record_absence(
        self,
        absence_id: UUID,
        *,
        starts_at: datetime,
        ends_at: datetime,
        reason: str,
        note: str,
        now: datetime,
        tz: tzinfo,
    ) -> list[Event]:
        """Decide a new absence; it may not overlap another one of the doctor's."""
        if absence_id in self.absences or absence_id in self.cancelled_absences:
            raise AlreadyExistsError(phrase("This absence has already been recorded."))
        absence = self._checked_absence(absence_id, starts_at, ends_at, reason, note, now, tz)
        return [
            AbsenceRecorded(absence_id, absence.starts_at, absence.ends_at, reason, absence.note)
        ]

    def change_absence(
        self,
        absence_id: UUID,
        *,
        starts_at: datetime,
        ends_at: datetime,
        reason: str,
        note: str,
        now: datetime,
        tz: tzinfo,
    ) -> list[Event]:
        """Decide new times or a new reason for an absence still recorded."""
        current = self._absence(absence_id)
        absence = self._checked_absence(absence_id, starts_at, ends_at, reason, note, now, tz)
        if absence == current:
            return []
        return [
            AbsenceChanged(absence_id, absence.starts_at, absence.ends_at, reason, absence.note)
        ]

    def cancel_absence(self, absence_id: UUID) -> list[Event]:
        """Decide that the doctor is not away after all."""
        self._absence(absence_id)
        return [AbsenceCancelled(absence_id)]

    def set_day_hours(self, day: date, ranges: str, *, today: date) -> list[Event]:
        """Decide one date's own hours ("09:00-12:00, 14:00-16:00"; empty: not working)."""
        _check_future_day(day, today)
        periods = parse_day_periods(ranges)
        if self.day_hours.get(day) == periods:
            return []
        return [DayHoursSet(day, [list(pair) for pair in periods])]

    def clear_day_hours(self, day: date) -> list[Event]:
        """Decide that a date follows the weekly hours again."""
        if day not in self.day_hours:
            raise ValidationError({"day": phrase("That day already follows the weekly hours.")})
        return [DayHoursCleared(day)]

    def _absence(self, absence_id: UUID) -> Absence:
        found = self.absences.get(absence_id)
        if found is None:
            raise NotFoundError(
                phrase("This absence is not recorded (it may have been cancelled)."),
                field="absence_id",
            )
        return found

    def _checked_absence(
        self,
        absence_id: UUID,
        starts_at: datetime,
        ends_at: datetime,
        reason: str,
        note: str,
        now: datetime,
        tz: tzinfo,
    ) -> Absence:
        errors: dict[str, Message] = {}
        if reason not in ABSENCE_REASONS:
            errors["reason"] = phrase("Choose a reason from the list.")
        try:
            note = clean_text(
                note,
                field="note",
                label=phrase("The note"),
                max_length=200,
                required=reason == "other",
                plain=True,
            )
        except ValidationError as exc:
            errors.update(exc.said_errors)
        require_aware(starts_at, field="starts_at")
        require_aware(ends_at, field="ends_at")
        if ends_at <= starts_at:
            errors["ends_at"] = phrase("The absence must end after it starts.")
        elif ends_at - starts_at > MAX_ABSENCE:
            errors["ends_at"] = phrase(
                "An absence lasts at most a year; record a longer one in parts."
            )
        elif ends_at <= now:
            errors["ends_at"] = phrase("That absence would already be over; choose a later end.")
        elif starts_at > now + MAX_AHEAD:
            errors["starts_at"] = phrase("Absences are recorded at most three years ahead.")
        if errors:
            raise ValidationError(errors)
        absence = Absence(absence_id, starts_at, ends_at, reason, note)
        for other in sorted(self.absences.values(), key=lambda a: a.starts_at):
            if other.absence_id != absence_id and other.overlaps(starts_at, ends_at):
                raise ValidationError(
                    {
                        "starts_at": phrase(
                            "%(doctor)s is already away %(span)s (%(reason)s); change that "
                            "absence instead of recording another.",
                            doctor=self.full_name,
                            span=other.span_words(tz),
                            reason=other.reason_words(),
                        )
                    }
                )
        return absence


# An absence over a year is a leave to record in parts; three years ahead is as far as any
# clinic plans.
MAX_ABSENCE = timedelta(days=366)
MAX_AHEAD = timedelta(days=3 * 366)


def as_text(ranges: list[tuple[time, time]]) -> list[tuple[str, str]]:
    """Parsed periods back as the "HH:MM" text events store."""
    return [(f"{s:%H:%M}", f"{e:%H:%M}") for s, e in ranges]


def _check_future_day(day: date, today: date) -> None:
    if day < today:
        raise ValidationError({"day": phrase("That day has passed; choose today or later.")})
    if day > today + MAX_AHEAD:
        raise ValidationError({"day": phrase("Hours are set at most three years ahead.")})


def parse_day_periods(ranges: str) -> Clock:
    """'09:00-12:00, 14:00-16:00' for one date, checked as weekly hours are."""
    if not isinstance(ranges, str):
        raise ValidationError({"hours": phrase("Write times as HH:MM, e.g. 09:00-12:30.")})
    pairs = [part.strip() for part in ranges.split(",") if part.strip()]
    split = [pair.replace(" ", "").split("-") for pair in pairs]
    if any(len(pair) != 2 for pair in split):
        raise ValidationError({"hours": phrase("Write times as HH:MM, e.g. 09:00-12:30.")})
    try:
        parsed = parse_hours({"mon": split})
    except ValidationError as exc:
        # The weekly check names the day; a single date's form has one field.
        raise ValidationError({"hours": next(iter(exc.said_errors.values()))}) from None
    return clock(as_text(parsed.get("mon", [])))
