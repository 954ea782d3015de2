"""The Clinic aggregate: one stream for what the whole clinic decides: its opening hours,
the days it is closed, and the kinds of visit (motifs) that bookings pick from."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from uuid import UUID

from .availability import ClinicDays, Clock, clock
from .errors import AlreadyExistsError, NotFoundError, ValidationError
from .events import (
    ClinicClosed,
    ClinicContactSet,
    ClinicHoursSet,
    ClinicReopened,
    Event,
    VisitTypeDefined,
    VisitTypeRetired,
)
from .messages import Message, phrase
from .rules import WEEKDAYS, clean_text

# The clinic's own stream: there is one clinic per installation.
CLINIC_ID = UUID("c11a1c00-0000-4000-8000-000000000001")

MIN_VISIT, MAX_VISIT = 5, 8 * 60  # a visit type's length, as a booking's


@dataclass(frozen=True)
class VisitType:
    """A kind of visit: "Vaccination, 15 min", for one doctor, a specialty, or anyone."""

    visit_type_id: UUID
    label: str
    minutes: int
    doctor_id: UUID | None
    specialty: str
    retired: bool = False

    def applies_to(self, doctor_id: UUID, specialty: str) -> bool:
        if self.doctor_id is not None:
            return self.doctor_id == doctor_id
        return not self.specialty or self.specialty.casefold() == specialty.casefold()


@dataclass(frozen=True)
class ClinicContact:
    """What messages to patients say of the clinic."""

    name: str
    address: str
    phone: str
    what_to_bring: str


@dataclass
class Clinic:
    """The clinic, folded from its stream."""

    id: UUID = CLINIC_ID
    version: int = 0
    hours: dict[str, Clock] | None = None
    closures: dict[date, str] = field(default_factory=dict)
    visit_types: dict[UUID, VisitType] = field(default_factory=dict)
    contact: ClinicContact = field(default_factory=lambda: ClinicContact("", "", "", ""))

    @property
    def exists(self) -> bool:
        return True  # the clinic is there before anything is decided about it

    @classmethod
    def from_history(cls, clinic_id: UUID, events: Iterable[Event]) -> Clinic:
        clinic = cls(id=clinic_id)
        for event in events:
            clinic.apply(event)
        return clinic

    def apply(self, event: Event) -> None:
        match event:
            case ClinicHoursSet():
                self.hours = (
                    {day: clock(ranges) for day, ranges in event.hours.items()}
                    if event.hours
                    else None
                )
            case ClinicClosed():
                for day, label in event.days.items():
                    self.closures[date.fromisoformat(day)] = label
            case ClinicReopened():
                self.closures.pop(event.day, None)
            case VisitTypeDefined():
                self.visit_types[event.visit_type_id] = VisitType(
                    event.visit_type_id,
                    event.label,
                    event.minutes,
                    event.doctor_id,
                    event.specialty,
                )
            case ClinicContactSet():
                self.contact = ClinicContact(
                    event.name, event.address, event.phone, event.what_to_bring
                )
            case VisitTypeRetired():
                found = self.visit_types[event.visit_type_id]
                self.visit_types[event.visit_type_id] = VisitType(
                    found.visit_type_id,
                    found.label,
                    found.minutes,
                    found.doctor_id,
                    found.specialty,
                    retired=True,
                )
        self.version += 1

    @property
    def days(self) -> ClinicDays:
        """What the availability rule needs of the clinic."""
        return ClinicDays(self.hours, dict(self.closures))

    def set_hours(self, hours: Mapping[str, Clock]) -> list[Event]:
        """Decide the opening hours; an empty mapping lifts the bound."""
        if (dict(hours) or None) == self.hours:
            return []
        return [
            ClinicHoursSet(
                {day: [list(pair) for pair in hours[day]] for day in WEEKDAYS if day in hours}
            )
        ]

    def close(self, days: Mapping[date, str], *, today: date) -> list[Event]:
        """Decide that the clinic is closed on `days` (each with its label); days already
        closed are left as they are."""
        errors: dict[str, Message] = {}
        chosen: dict[str, str] = {}
        if not days:
            errors["day"] = phrase("Choose a day.")
        for day, label in sorted(days.items()):
            if day < today:
                errors["day"] = phrase("%(day)s has passed; choose today or later.", day=day)
            elif day > today + timedelta(days=3 * 366):
                errors["day"] = phrase("Closures are recorded at most three years ahead.")
            try:
                text = clean_text(
                    label, field="label", label=phrase("The label"), max_length=80, plain=True
                )
            except ValidationError as exc:
                errors.update(exc.said_errors)
                continue
            if day not in self.closures:
                chosen[day.isoformat()] = text
        if errors:
            raise ValidationError(errors)
        return [ClinicClosed(chosen)] if chosen else []

    def set_contact(
        self, *, name: str, address: str, phone: str, what_to_bring: str
    ) -> list[Event]:
        """Decide what messages to patients say of the clinic."""
        errors: dict[str, Message] = {}
        fields = (
            # Not plain: a name is shown escaped everywhere, and a test holds it to that.
            ("name", name, phrase("The clinic's name"), 120, False),
            ("address", address, phrase("The address"), 400, False),
            ("phone", phone, phrase("The phone number"), 40, True),
            ("what_to_bring", what_to_bring, phrase("What to bring"), 600, False),
        )
        cleaned: dict[str, str] = {}
        for key, value, label, most, plain in fields:
            try:
                cleaned[key] = clean_text(
                    value,
                    field=key,
                    label=label,
                    max_length=most,
                    required=key == "name",
                    plain=plain,
                )
            except ValidationError as exc:
                errors.update(exc.said_errors)
        if errors:
            raise ValidationError(errors)
        contact = ClinicContact(**cleaned)
        if contact == self.contact:
            return []
        return [ClinicContactSet(**cleaned)]

    def reopen(self, day: date) -> list[Event]:
        if day not in self.closures:
            raise ValidationError({"day": phrase("The clinic is not closed on that day.")})
        return [ClinicReopened(day)]

    def define_visit_type(
        self,
        visit_type_id: UUID,
        *,
        label: str,
        minutes: int,
        doctor_id: UUID | None,
        specialty: str,
    ) -> list[Event]:
        """Decide a new kind of visit."""
        if visit_type_id in self.visit_types:
            raise AlreadyExistsError(phrase("This visit type already exists."))
        errors: dict[str, Message] = {}
        try:
            label = clean_text(
                label, field="label", label=phrase("The label"), max_length=60, plain=True
            )
        except ValidationError as exc:
            errors.update(exc.said_errors)
        try:
            specialty = clean_text(
                specialty,
                field="specialty",
                label=phrase("The specialty"),
                max_length=80,
                required=False,
                plain=True,
            )
        except ValidationError as exc:
            errors.update(exc.said_errors)
        if not MIN_VISIT <= minutes <= MAX_VISIT:
            errors["minutes"] = phrase(
                "A visit lasts between %(least)d and %(most)d minutes.",
                least=MIN_VISIT,
                most=MAX_VISIT,
            )
        if doctor_id is not None and specialty:
            errors["specialty"] = phrase("Choose a doctor or a specialty, not both.")
        if errors:
            raise ValidationError(errors)
        for other in self.visit_types.values():
            same_scope = (other.doctor_id, other.specialty.casefold()) == (
                doctor_id,
                specialty.casefold(),
            )
            if not other.retired and same_scope and other.label.casefold() == label.casefold():
                raise ValidationError(
                    {"label": phrase("A visit type with that label already exists there.")}
                )
        return [VisitTypeDefined(visit_type_id, label, minutes, doctor_id, specialty)]

    def retire_visit_type(self, visit_type_id: UUID) -> list[Event]:
        found = self.visit_types.get(visit_type_id)
        if found is None:
            raise NotFoundError(phrase("No visit type with that id exists."), field="visit_type_id")
        if found.retired:
            return []
        return [VisitTypeRetired(visit_type_id)]

    def visit_type_for(self, visit_type_id: UUID, doctor_id: UUID, specialty: str) -> VisitType:
        """The visit type a booking picked, if it may be booked with that doctor."""
        found = self.visit_types.get(visit_type_id)
        if found is None:
            raise NotFoundError(phrase("No visit type with that id exists."), field="visit_type_id")
        if found.retired:
            raise ValidationError(
                {"visit_type_id": phrase("%(label)s is no longer offered.", label=found.label)}
            )
        if not found.applies_to(doctor_id, specialty):
            raise ValidationError(
                {
                    "visit_type_id": phrase(
                        "%(label)s is not a visit type of this doctor.", label=found.label
                    )
                }
            )
        return found
