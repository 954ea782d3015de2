"""The waitlist: patients waiting for an earlier time with a doctor, or with any doctor of
a specialty, within a range of days and a part of the day.

An entry's stream id is worked out from the patient and whom they wait for
(`waitlist_key`), so "already waiting for that doctor" is the stream's own state: two desks
adding the same patient at the same moment write to one stream, and the second is refused
as a repeat, on either database, without a lock or a unique index. Booking from the
waitlist takes the entry off in the same transaction as the booking (CreateAppointment's
`waitlist_id`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from uuid import UUID, uuid5

from .errors import AlreadyExistsError, InvalidTransitionError, ValidationError
from .events import Event, WaitlistJoined, WaitlistLeft
from .messages import Message, phrase
from .rules import clean_text

_NAMESPACE = UUID("5b1f0c6e-8d7a-4c1e-9f3b-2a6d4e8c0b17")
PARTS_OF_DAY = ("any", "morning", "afternoon")
NOON_MINUTES = 12 * 60
# Waiting longer than this is a booking to make, not a wait.
MAX_WAIT_DAYS = 366


def waitlist_key(patient_id: UUID, doctor_id: UUID | None, specialty: str) -> UUID:
    """The entry of this patient waiting for this doctor (or this specialty)."""
    whom = f"doctor:{doctor_id}" if doctor_id else f"specialty:{specialty.strip().casefold()}"
    return uuid5(_NAMESPACE, f"{patient_id}:{whom}")


def in_part(moment: datetime, part: str, tz: tzinfo) -> bool:
    """Whether a start falls in the part of the day ("any", "morning", "afternoon"): the
    morning is what starts before noon. First-available searches by the same rule."""
    if part == "any":
        return True
    local = moment.astimezone(tz)
    morning = local.hour * 60 + local.minute < NOON_MINUTES
    return morning if part == "morning" else not morning


@dataclass
class WaitlistEntry:
    """A patient's wait, folded from its stream; `waiting` while on the list."""

    id: UUID
    version: int = 0
    waiting: bool = False
    patient_id: UUID | None = None
    doctor_id: UUID | None = None
    specialty: str = ""
    from_day: date | None = None
    until_day: date | None = None
    part_of_day: str = "any"
    title: str = ""

    @property
    def exists(self) -> bool:
        return self.version > 0

    @classmethod
    def from_history(cls, entry_id: UUID, events: Iterable[Event]) -> WaitlistEntry:
        entry = cls(id=entry_id)
        for event in events:
            entry.apply(event)
        return entry

    def apply(self, event: Event) -> None:
        match event:
            case WaitlistJoined():
                self.waiting = True
                self.patient_id, self.doctor_id = event.patient_id, event.doctor_id
                self.specialty, self.part_of_day = event.specialty, event.part_of_day
                self.from_day, self.until_day = event.from_day, event.until_day
                self.title = event.title
            case WaitlistLeft():
                self.waiting = False
        self.version += 1

    def join(
        self,
        *,
        patient_id: UUID,
        patient_name: str,
        doctor_id: UUID | None,
        specialty: str,
        from_day: date | None,
        until_day: date | None,
        part_of_day: str,
        title: str,
        note: str,
        today: date,
        whom: Message | str,
    ) -> list[Event]:
        """Decide a patient's wait; every field's message at once. `whom` names the doctor
        or specialty, for the refusal of a second wait for the same."""
        if self.waiting:
            raise AlreadyExistsError(
                phrase(
                    "%(patient)s is already on the waitlist for %(whom)s; change or remove "
                    "that entry instead.",
                    patient=patient_name,
                    whom=whom,
                )
            )
        errors: dict[str, Message] = {}
        first = from_day or today
        if until_day is None:
            errors["until_day"] = phrase("Choose the last day the patient could come.")
        elif until_day < today:
            errors["until_day"] = phrase(
                "That range is over: the last day is before today (%(today)s).", today=today
            )
        elif until_day < first:
            errors["until_day"] = phrase("The last day comes before the first.")
        elif (until_day - max(first, today)).days > MAX_WAIT_DAYS:
            errors["until_day"] = phrase(
                "A wait covers at most a year; choose an earlier last day."
            )
        if part_of_day not in PARTS_OF_DAY:
            errors["part_of_day"] = phrase("Choose the morning, the afternoon or any time.")
        if doctor_id is None and not specialty.strip():
            errors["doctor_id"] = phrase("Choose a doctor or a specialty.")
        cleaned = {}
        for name, value, label, required in (
            ("title", title, phrase("The reason for the visit"), True),
            ("note", note, phrase("The note"), False),
        ):
            try:
                cleaned[name] = clean_text(
                    value, field=name, label=label, max_length=200, required=required
                )
            except ValidationError as exc:
                errors.update(exc.said_errors)
        if errors:
            raise ValidationError(errors)
        assert until_day is not None
        return [
            WaitlistJoined(
                patient_id,
                doctor_id,
                "" if doctor_id else " ".join(specialty.split()),
                max(first, today),
                until_day,
                part_of_day,
                cleaned["title"],
                cleaned["note"],
            )
        ]

    def fits(self, doctor_id: UUID, specialty: str, starts_at: datetime, tz: tzinfo) -> bool:
        """Whether a free time with that doctor, from `starts_at`, is one this patient waits
        for."""
        if not self.waiting or self.from_day is None or self.until_day is None:
            return False
        whom = (
            self.doctor_id == doctor_id
            if self.doctor_id
            else self.specialty.casefold() == specialty.casefold()
        )
        day = starts_at.astimezone(tz).date()
        return (
            whom
            and self.from_day <= day <= self.until_day
            and in_part(starts_at, self.part_of_day, tz)
        )

    def book(
        self,
        appointment_id: UUID,
        *,
        doctor_id: UUID,
        specialty: str,
        starts_at: datetime,
        tz: tzinfo,
    ) -> list[Event]:
        """Decide the end of the wait by a booking of the time it waited for."""
        self._check_waiting()
        if not self.fits(doctor_id, specialty, starts_at, tz):
            raise ValidationError(
                {
                    "starts_at": phrase(
                        "That time is not one this patient is waiting for (another doctor, "
                        "day or part of the day)."
                    )
                }
            )
        return [WaitlistLeft("booked", appointment_id)]

    def remove(self) -> list[Event]:
        """Decide the end of the wait without a booking (the patient no longer needs it)."""
        self._check_waiting()
        return [WaitlistLeft("removed", None)]

    def _check_waiting(self) -> None:
        if not self.waiting:
            raise InvalidTransitionError(
                phrase("This patient is no longer on the waitlist for that; reload the page.")
            )


def last_day_default(today: date) -> date:
    """The range a new wait covers unless the desk says otherwise: four weeks."""
    return today + timedelta(weeks=4)
