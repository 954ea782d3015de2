"""Domain events: what happened, in the past tense. Payloads hold only JSON-friendly types."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar
from uuid import UUID


@dataclass(frozen=True)
class Event:
    """Base of every domain event; SCHEMA_VERSION moves when the payload's shape changes."""

    SCHEMA_VERSION: ClassVar[int] = 1


@dataclass(frozen=True)
class PatientRegistered(Event):
    full_name: str
    date_of_birth: date
    phone: str
    email: str


@dataclass(frozen=True)
class PatientDetailsChanged(Event):
    full_name: str
    date_of_birth: date
    phone: str
    email: str


@dataclass(frozen=True)
class PatientMerged(Event):
    """On the kept record: another record of the same person was merged into it, and that
    record's appointments are now this one's."""

    merged_id: UUID
    merged_name: str


@dataclass(frozen=True)
class PatientMergedInto(Event):
    """On the record merged away: closed, it names the record it now lives on."""

    kept_id: UUID
    kept_name: str


@dataclass(frozen=True)
class DoctorRegistered(Event):
    full_name: str
    specialty: str
    slot_minutes: int


@dataclass(frozen=True)
class WorkingHoursSet(Event):
    # {"mon": [["09:00", "12:30"], ["14:00", "18:00"]], ...}, in the clinic's local time.
    hours: dict[str, Any]
    slot_minutes: int


@dataclass(frozen=True)
class AppointmentCreated(Event):
    # Version 1 stored a duration instead of ends_at; see the upcaster in the event store.
    SCHEMA_VERSION: ClassVar[int] = 2
    patient_id: UUID
    doctor_id: UUID
    starts_at: datetime
    ends_at: datetime
    title: str


@dataclass(frozen=True)
class AppointmentConfirmed(Event):
    pass


@dataclass(frozen=True)
class AppointmentCancelled(Event):
    reason: str


@dataclass(frozen=True)
class AppointmentRescheduled(Event):
    # Version 1 moved the time only, with the same doctor, and always back to pending; see
    # the upcaster in the event store (its doctors read as None: unchanged).
    SCHEMA_VERSION: ClassVar[int] = 2
    starts_at: datetime
    ends_at: datetime
    previous_starts_at: datetime
    previous_ends_at: datetime
    reason: str
    doctor_id: UUID | None
    previous_doctor_id: UUID | None
    # The patient is to confirm the new time: the appointment is pending again. False when
    # the desk agreed the move with the patient and a confirmed appointment stays confirmed.
    awaits_confirmation: bool


@dataclass(frozen=True)
class AppointmentCheckedIn(Event):
    pass


@dataclass(frozen=True)
class AppointmentCompleted(Event):
    pass


@dataclass(frozen=True)
class AppointmentMarkedNoShow(Event):
    pass


@dataclass(frozen=True)
class Undone(Event):
    """Base of the compensating events: a mistaken action taken back, never erased. The
    history keeps both the action and its undo."""

    undone_version: int  # the version of the appointment's event this takes back
    status: str  # the status the appointment returns to (the one it had before it)


@dataclass(frozen=True)
class AppointmentCheckInUndone(Undone):
    pass


@dataclass(frozen=True)
class AppointmentNoShowUndone(Undone):
    pass


@dataclass(frozen=True)
class AppointmentCompletionUndone(Undone):
    pass


@dataclass(frozen=True)
class AppointmentCancellationUndone(Undone):
    pass


# What can happen to an appointment: the events of its stream.
APPOINTMENT_EVENTS: tuple[type[Event], ...] = (
    AppointmentCreated,
    AppointmentConfirmed,
    AppointmentCancelled,
    AppointmentRescheduled,
    AppointmentCheckedIn,
    AppointmentCompleted,
    AppointmentMarkedNoShow,
    AppointmentCheckInUndone,
    AppointmentNoShowUndone,
    AppointmentCompletionUndone,
    AppointmentCancellationUndone,
)

ALL_EVENTS: tuple[type[Event], ...] = (
    PatientRegistered,
    PatientDetailsChanged,
    PatientMerged,
    PatientMergedInto,
    DoctorRegistered,
    WorkingHoursSet,
    *APPOINTMENT_EVENTS,
)
