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
class ConsentGiven(Event):
    """The patient agreed to be sent reminders on `channel` ("email" | "sms"); when and by
    whom (the member of staff who recorded it) are the event's own."""

    channel: str


@dataclass(frozen=True)
class ConsentWithdrawn(Event):
    channel: str


@dataclass(frozen=True)
class ContactPreferenceSet(Event):
    """How the patient prefers to be reached ("email" | "sms"), and in which language
    ("" for the clinic's)."""

    preferred_channel: str
    language: str


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
class AbsenceRecorded(Event):
    """The doctor is away from one instant to another; `reason` is one of
    availability.ABSENCE_REASONS, `note` the desk's words beside it."""

    absence_id: UUID
    starts_at: datetime
    ends_at: datetime
    reason: str
    note: str


@dataclass(frozen=True)
class AbsenceChanged(Event):
    absence_id: UUID
    starts_at: datetime
    ends_at: datetime
    reason: str
    note: str


@dataclass(frozen=True)
class AbsenceCancelled(Event):
    absence_id: UUID


@dataclass(frozen=True)
class DayHoursSet(Event):
    """For one date, the doctor's periods instead of the weekly ones (none: not working)."""

    day: date
    hours: list[Any]  # [["09:00", "12:00"], ...] in the clinic's local time


@dataclass(frozen=True)
class DayHoursCleared(Event):
    """The date follows the weekly hours again."""

    day: date


@dataclass(frozen=True)
class ClinicHoursSet(Event):
    # {"mon": [["08:00", "19:00"]], ...}: the clinic's opening hours, bounding every
    # doctor's; an empty mapping lifts the bound.
    hours: dict[str, Any]


@dataclass(frozen=True)
class ClinicClosed(Event):
    """The whole clinic is closed on these days, each with its label (a public holiday)."""

    days: dict[str, str]  # {"2027-12-25": "Christmas Day"}


@dataclass(frozen=True)
class ClinicReopened(Event):
    day: date


@dataclass(frozen=True)
class VisitTypeDefined(Event):
    """A kind of visit (a motif) with its usual length, for one doctor, one specialty, or
    (both empty) any doctor."""

    visit_type_id: UUID
    label: str
    minutes: int
    doctor_id: UUID | None
    specialty: str


@dataclass(frozen=True)
class VisitTypeRetired(Event):
    """No longer offered; kept, so that history still names it."""

    visit_type_id: UUID


@dataclass(frozen=True)
class ClinicContactSet(Event):
    """What the messages to patients say of the clinic: its name, address and phone, and
    what to bring to a visit."""

    name: str
    address: str
    phone: str
    what_to_bring: str


@dataclass(frozen=True)
class AppointmentCreated(Event):
    # Version 1 stored a duration instead of ends_at; version 2 had no visit type; version
    # 3 no series. See the upcasters in the event store.
    SCHEMA_VERSION: ClassVar[int] = 4
    patient_id: UUID
    doctor_id: UUID
    starts_at: datetime
    ends_at: datetime
    title: str
    visit_type_id: UUID | None = None
    # One visit of a recurring series: the series, and which of its visits (from 1).
    series_id: UUID | None = None
    occurrence: int | None = None


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


@dataclass(frozen=True)
class SeriesPlanned(Event):
    """A course of visits decided in one go: each visit is then booked as an appointment of
    its own (`visits`: [{"occurrence", "appointment_id", "starts_at"}], in order; a visit
    the desk left out has no entry, and the others keep their numbers), so one that cannot be
    booked leaves the others booked. Every `every_weeks` weeks, or (`monthly`) every month
    on the same weekday of the month."""

    patient_id: UUID
    doctor_id: UUID
    title: str
    every_weeks: int
    monthly: bool
    visits: list[Any]


@dataclass(frozen=True)
class SeriesCancelled(Event):
    """The series' visits from `from_occurrence` on were cancelled, in the same transaction
    as this event (`cancelled`: the appointment ids, each with its own AppointmentCancelled)."""

    from_occurrence: int
    reason: str
    cancelled: list[Any]


@dataclass(frozen=True)
class WaitlistJoined(Event):
    """A patient waits for an earlier time with one doctor (`doctor_id`) or any doctor of a
    specialty, between two days, at a part of the day ("any", "morning", "afternoon")."""

    patient_id: UUID
    doctor_id: UUID | None
    specialty: str
    from_day: date
    until_day: date
    part_of_day: str
    title: str
    note: str


@dataclass(frozen=True)
class WaitlistLeft(Event):
    """Off the waitlist: booked (`appointment_id`, in the same transaction as the booking),
    or taken off by the desk."""

    reason: str  # "booked" | "removed"
    appointment_id: UUID | None


@dataclass(frozen=True)
class ReminderSent(Event):
    """A reminder of an appointment went out (its own stream per appointment: see
    app/domain/reminders.py). `key` names the appointment, the kind ("first" | "second") and
    the time it reminded of; `provider_id` is what the SMTP server or SMS provider called
    it, empty when the send was recovered after a crash past the point of hand-over."""

    appointment_id: UUID
    kind: str
    key: str
    channel: str
    provider_id: str
    starts_at: datetime
    recovered: bool


@dataclass(frozen=True)
class ReminderSkipped(Event):
    """A reminder was due and not sent, for `reason` (REMINDER_SKIPS)."""

    appointment_id: UUID
    kind: str
    key: str
    starts_at: datetime
    reason: str


@dataclass(frozen=True)
class ReminderParked(Event):
    """A reminder that kept failing was set aside after `attempts`, for staff to retry."""

    appointment_id: UUID
    kind: str
    key: str
    channel: str
    starts_at: datetime
    attempts: int
    error: str


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

DOCTOR_AVAILABILITY_EVENTS: tuple[type[Event], ...] = (
    AbsenceRecorded,
    AbsenceChanged,
    AbsenceCancelled,
    DayHoursSet,
    DayHoursCleared,
)
CLINIC_EVENTS: tuple[type[Event], ...] = (
    ClinicHoursSet,
    ClinicClosed,
    ClinicReopened,
    VisitTypeDefined,
    VisitTypeRetired,
    ClinicContactSet,
)

SERIES_EVENTS: tuple[type[Event], ...] = (SeriesPlanned, SeriesCancelled)
WAITLIST_EVENTS: tuple[type[Event], ...] = (WaitlistJoined, WaitlistLeft)
REMINDER_EVENTS: tuple[type[Event], ...] = (ReminderSent, ReminderSkipped, ReminderParked)

ALL_EVENTS: tuple[type[Event], ...] = (
    PatientRegistered,
    PatientDetailsChanged,
    PatientMerged,
    PatientMergedInto,
    ConsentGiven,
    ConsentWithdrawn,
    ContactPreferenceSet,
    DoctorRegistered,
    WorkingHoursSet,
    *DOCTOR_AVAILABILITY_EVENTS,
    *CLINIC_EVENTS,
    *APPOINTMENT_EVENTS,
    *SERIES_EVENTS,
    *WAITLIST_EVENTS,
    *REMINDER_EVENTS,
)
