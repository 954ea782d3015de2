"""Commands: what staff ask for, as imperative dataclasses. Fields are coerced on creation,
so a malformed id, time or number is refused before anything is read or written."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import UUID, uuid4

from app.domain.errors import ValidationError
from app.domain.messages import N_, Message, phrase
from app.domain.staff import PATIENT_ACTOR, REMINDERS_ACTOR
from app.domain.waitlist import waitlist_key

from .parsing import (
    to_date,
    to_datetime,
    to_flag,
    to_int,
    to_maybe_flag,
    to_maybe_uuid,
    to_text,
    to_uuid,
)

Parser = Callable[[Any, str], Any]


def _field(parse: Parser, **kwargs: Any) -> Any:
    return field(metadata={"parse": parse}, **kwargs)


def ident(label: str, *, new: bool = False) -> Any:
    """A UUID field; `new` ones default to a fresh id made by the client."""
    extra: dict[str, Any] = {"default_factory": uuid4} if new else {}
    return _field(lambda v, f: to_uuid(v, f, label), **extra)


def maybe_ident(label: str) -> Any:
    """A UUID field that may be left out (None)."""
    return _field(lambda v, f: to_maybe_uuid(v, f, label), default=None)


def moment() -> Any:
    return _field(to_datetime)


def day(label: str) -> Any:
    return _field(lambda v, f: to_date(v, f, label), default=None)


def number(label: str, *, low: int = 0, high: int = 2**31 - 1, **kwargs: Any) -> Any:
    return _field(lambda v, f: to_int(v, f, label, low=low, high=high), **kwargs)


def text(label: str, **kwargs: Any) -> Any:
    return _field(lambda v, f: to_text(v, f, label), **kwargs)


def flag(label: str) -> Any:
    return _field(lambda v, f: to_flag(v, f, label), default=False)


def maybe_flag(label: str) -> Any:
    """Yes, no, or not said (None)."""
    return _field(lambda v, f: to_maybe_flag(v, f, label), default=None)


def _version(value: Any, field_name: str) -> int | None:
    if value is None or value == "":
        return None
    return to_int(value, field_name, N_("The version"), low=0)


def _hours(value: Any, field_name: str) -> dict[str, list[list[str]]]:
    """Weekly hours shaped as {"mon": [["09:00", "12:00"], ...]}; the domain checks the times."""
    shaped = isinstance(value, dict) and all(
        isinstance(day, str)
        and isinstance(ranges, list | tuple)
        and all(isinstance(pair, list | tuple) and len(pair) == 2 for pair in ranges)
        for day, ranges in value.items()
    )
    if not shaped:
        raise ValidationError(
            {field_name: phrase("Working hours must list, for each day, start and end times.")}
        )
    return {day: [[str(start), str(end)] for start, end in ranges] for day, ranges in value.items()}


def _maybe_minutes(value: Any, field_name: str) -> int | None:
    if value is None or value == "":
        return None
    return to_int(value, field_name, N_("The duration"), low=1, high=24 * 60)


def _labelled_days(value: Any, field_name: str) -> dict[date, str]:
    """{"2027-12-25": "Christmas Day", …}: each day read as a date; the domain checks labels."""
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ValidationError({"day": phrase("Choose a day and give it a label.")})
    days: dict[date, str] = {}
    for raw, label in value.items():
        found = to_date(raw, "day", N_("The day"))
        if found is None:
            raise ValidationError({"day": phrase("Choose a day.")})
        days[found] = label
    return days


@dataclass(frozen=True, kw_only=True)
class Command:
    """Base of all commands: a client-made id (for idempotency) and who asks."""

    command_id: UUID = ident(N_("command"), new=True)
    actor: str = "system"
    correlation_id: str | None = None

    def __post_init__(self) -> None:
        errors: dict[str, Message] = {}
        for spec in dataclasses.fields(self):
            parse = spec.metadata.get("parse")
            if parse is None:
                continue
            try:
                object.__setattr__(self, spec.name, parse(getattr(self, spec.name), spec.name))
            except ValidationError as exc:
                errors.update(exc.said_errors)
        if errors:
            raise ValidationError(errors)

    @property
    def name(self) -> str:
        return type(self).__name__


@dataclass(frozen=True, kw_only=True)
class RegisterPatient(Command):
    patient_id: UUID = ident(N_("patient"), new=True)
    full_name: str = text(N_("The patient's name"))
    date_of_birth: date | None = day(N_("The date of birth"))
    phone: str = text(N_("The phone number"), default="")
    email: str = text(N_("The email address"), default="")


@dataclass(frozen=True, kw_only=True)
class ChangePatientDetails(Command):
    patient_id: UUID = ident(N_("patient"))
    full_name: str = text(N_("The patient's name"))
    date_of_birth: date | None = day(N_("The date of birth"))
    phone: str = text(N_("The phone number"), default="")
    email: str = text(N_("The email address"), default="")
    expected_version: int | None = _field(_version, default=None)


@dataclass(frozen=True, kw_only=True)
class MergePatients(Command):
    """`merged_id` is a second record of the person `patient_id` is: merge it into that one,
    each at the version the admin saw."""

    patient_id: UUID = ident(N_("patient"))
    merged_id: UUID = ident(N_("patient"))
    expected_version: int | None = _field(_version, default=None)
    merged_version: int | None = _field(_version, default=None)


def _channels(value: Any, field_name: str) -> frozenset[str]:
    """The channels ticked ("email", "sms"), as a list or one of them; the domain checks."""
    if value is None or value == "":
        return frozenset()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list | tuple | set | frozenset) or not all(
        isinstance(item, str) for item in items
    ):
        raise ValidationError({field_name: phrase("Choose e-mail, text message, or both.")})
    return frozenset(items)


@dataclass(frozen=True, kw_only=True)
class SetPatientReminders(Command):
    """The patient's consents to reminders, the channel they prefer and their language."""

    patient_id: UUID = ident(N_("patient"))
    consents: frozenset[str] = _field(_channels, default=frozenset())
    preferred_channel: str = text(N_("The preferred channel"), default="email")
    language: str = text(N_("The language"), default="")
    expected_version: int | None = _field(_version, default=None)


@dataclass(frozen=True, kw_only=True)
class RegisterDoctor(Command):
    doctor_id: UUID = ident(N_("doctor"), new=True)
    full_name: str = text(N_("The doctor's name"))
    specialty: str = text(N_("The specialty"))
    slot_minutes: int = number(N_("The slot length"), low=1, high=24 * 60, default=15)


@dataclass(frozen=True, kw_only=True)
class SetWorkingHours(Command):
    doctor_id: UUID = ident(N_("doctor"))
    # {"mon": [["09:00", "12:30"], ...], ...} in the clinic's local time
    hours: dict[str, list[list[str]]] = _field(_hours, default_factory=dict)
    slot_minutes: int = number(N_("The slot length"), low=1, high=24 * 60, default=15)
    expected_version: int | None = _field(_version, default=None)


@dataclass(frozen=True, kw_only=True)
class BookingCommand(Command):
    """What every booking names: the patient, the doctor, the time and the visit."""

    patient_id: UUID = ident(N_("patient"))
    doctor_id: UUID = ident(N_("doctor"))
    starts_at: datetime = moment()
    # None: the visit type's length (a booking names one or the other).
    duration_minutes: int | None = _field(_maybe_minutes, default=None)
    title: str = text(N_("The reason for the visit"))
    # Agreed with the patient as it was booked: recorded as the booking, then its confirmation.
    confirmed: bool = flag(N_("Confirmed with the patient"))
    visit_type_id: UUID | None = maybe_ident(N_("visit type"))


@dataclass(frozen=True, kw_only=True)
class CreateAppointment(BookingCommand):
    appointment_id: UUID = ident(N_("appointment"), new=True)
    # One visit of a series (its number, from 1), as BookSeries books them.
    series_id: UUID | None = maybe_ident(N_("series"))
    occurrence: int | None = _field(
        lambda v, f: None if v in (None, "") else to_int(v, f, N_("The visit"), low=1), default=None
    )
    # Booked for a patient on the waitlist: their entry leaves it in the same transaction.
    waitlist_id: UUID | None = maybe_ident(N_("waitlist entry"))


def _maybe_count(value: Any, field_name: str) -> int | None:
    if value is None or value == "":
        return None
    # Read as a number whatever its size: the series' rule says the cap, in its own words.
    return to_int(value, field_name, N_("The number of visits"), low=0)


def _changes(value: Any, field_name: str) -> dict[int, datetime | None]:
    """{visit number: its own start instead of the planned one, or None to leave it out}."""
    if not isinstance(value, dict):
        raise ValidationError({"visits": phrase("The changes to the visits are malformed.")})
    found: dict[int, datetime | None] = {}
    for number, start in value.items():
        key = to_int(number, "visits", N_("The visit"), low=1)
        found[key] = None if start is None else to_datetime(start, "visits")
    return found


@dataclass(frozen=True, kw_only=True)
class BookSeries(BookingCommand):
    """A course of visits: the booking fields of its first visit, how it recurs
    (`every_weeks`, or `monthly`), and how long (`occurrences`, or `until` a local day).
    `changes` moves a planned visit to another start (a proposed alternative) or leaves it
    out (None). The bus records the plan; `app.commands.series.book_series` then books each
    visit as an appointment of its own."""

    series_id: UUID = ident(N_("series"), new=True)
    every_weeks: int | None = _field(
        lambda v, f: None if v in (None, "") else to_int(v, f, N_("The weeks between visits")),
        default=None,
    )
    monthly: bool = flag(N_("Every month"))
    occurrences: int | None = _field(_maybe_count, default=None)
    until: date | None = day(N_("The last day"))
    changes: dict[int, datetime | None] = _field(_changes, default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class CancelSeries(Command):
    """Cancel a series' visits from one of them on (the course stops there)."""

    series_id: UUID = ident(N_("series"))
    from_occurrence: int = number(N_("The visit"), low=1, high=1000)
    reason: str = text(N_("The reason for cancelling"))
    expected_version: int | None = _field(_version, default=None)


@dataclass(frozen=True, kw_only=True)
class JoinWaitlist(Command):
    """A patient waits for an earlier time with a doctor, or any doctor of `specialty`.
    The entry's id follows from the patient and whom they wait for (`waitlist_key`)."""

    patient_id: UUID = ident(N_("patient"))
    doctor_id: UUID | None = maybe_ident(N_("doctor"))
    specialty: str = text(N_("The specialty"), default="")
    from_day: date | None = day(N_("The first day"))
    until_day: date | None = day(N_("The last day"))
    part_of_day: str = text(N_("The part of the day"), default="any")
    title: str = text(N_("The reason for the visit"), default="")
    note: str = text(N_("The note"), default="")
    waitlist_id: UUID | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        key = waitlist_key(self.patient_id, self.doctor_id, self.specialty)
        object.__setattr__(self, "waitlist_id", key)


@dataclass(frozen=True, kw_only=True)
class LeaveWaitlist(Command):
    """Take a patient off the waitlist without booking (they no longer need it)."""

    waitlist_id: UUID = ident(N_("waitlist entry"))
    expected_version: int | None = _field(_version, default=None)


@dataclass(frozen=True, kw_only=True)
class DoctorCommand(Command):
    """A change to one doctor's availability, optionally at the version the user saw."""

    doctor_id: UUID = ident(N_("doctor"))
    expected_version: int | None = _field(_version, default=None)


@dataclass(frozen=True, kw_only=True)
class RecordAbsence(DoctorCommand):
    absence_id: UUID = ident(N_("absence"), new=True)
    starts_at: datetime = moment()
    ends_at: datetime = moment()
    reason: str = text(N_("The reason"), default="")
    note: str = text(N_("The note"), default="")


@dataclass(frozen=True, kw_only=True)
class ChangeAbsence(DoctorCommand):
    absence_id: UUID = ident(N_("absence"))
    starts_at: datetime = moment()
    ends_at: datetime = moment()
    reason: str = text(N_("The reason"), default="")
    note: str = text(N_("The note"), default="")


@dataclass(frozen=True, kw_only=True)
class CancelAbsence(DoctorCommand):
    absence_id: UUID = ident(N_("absence"))


@dataclass(frozen=True, kw_only=True)
class SetDayHours(DoctorCommand):
    """One date's own hours, as text: "09:00-12:00, 14:00-16:00" (empty: not working)."""

    day: date | None = day(N_("The day"))
    hours: str = text(N_("The hours"), default="")


@dataclass(frozen=True, kw_only=True)
class ClearDayHours(DoctorCommand):
    day: date | None = day(N_("The day"))


@dataclass(frozen=True, kw_only=True)
class ClinicCommand(Command):
    """A decision of the whole clinic (its stream is `app.domain.clinic.CLINIC_ID`)."""

    expected_version: int | None = _field(_version, default=None)


@dataclass(frozen=True, kw_only=True)
class SetClinicHours(ClinicCommand):
    hours: dict[str, list[list[str]]] = _field(_hours, default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class CloseClinic(ClinicCommand):
    """Closed on each day, with its label ("Christmas Day"): one day, or a year's holidays."""

    days: dict[date, str] = _field(_labelled_days, default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class ReopenClinic(ClinicCommand):
    day: date | None = day(N_("The day"))


@dataclass(frozen=True, kw_only=True)
class DefineVisitType(ClinicCommand):
    visit_type_id: UUID = ident(N_("visit type"), new=True)
    label: str = text(N_("The label"))
    minutes: int = number(N_("The duration"), low=0, high=100_000)
    doctor_id: UUID | None = maybe_ident(N_("doctor"))
    specialty: str = text(N_("The specialty"), default="")


@dataclass(frozen=True, kw_only=True)
class RetireVisitType(ClinicCommand):
    visit_type_id: UUID = ident(N_("visit type"))


@dataclass(frozen=True, kw_only=True)
class SetClinicContact(ClinicCommand):
    clinic_name: str = text(N_("The clinic's name"))
    address: str = text(N_("The address"), default="")
    phone: str = text(N_("The phone number"), default="")
    what_to_bring: str = text(N_("What to bring"), default="")


@dataclass(frozen=True, kw_only=True)
class AppointmentCommand(Command):
    """A command on an existing appointment, optionally with the version the user saw."""

    appointment_id: UUID = ident(N_("appointment"))
    expected_version: int | None = _field(_version, default=None)


@dataclass(frozen=True, kw_only=True)
class ConfirmAppointment(AppointmentCommand):
    pass


@dataclass(frozen=True, kw_only=True)
class CancelAppointment(AppointmentCommand):
    reason: str = text(N_("The reason for cancelling"))


@dataclass(frozen=True, kw_only=True)
class RescheduleAppointment(AppointmentCommand):
    starts_at: datetime = moment()
    duration_minutes: int = number(N_("The duration"), low=1, high=24 * 60)
    reason: str = text(N_("The reason for rescheduling"), default="")
    # Another doctor to move to; None keeps the appointment's own.
    doctor_id: UUID | None = maybe_ident(N_("doctor"))
    # The patient agreed the new time (confirmed after the move), or is to confirm it again
    # (pending); None keeps the status it has.
    confirmed: bool | None = maybe_flag(N_("Confirmed with the patient"))


@dataclass(frozen=True, kw_only=True)
class CheckInAppointment(AppointmentCommand):
    pass


@dataclass(frozen=True, kw_only=True)
class CompleteAppointment(AppointmentCommand):
    pass


@dataclass(frozen=True, kw_only=True)
class MarkNoShow(AppointmentCommand):
    pass


@dataclass(frozen=True, kw_only=True)
class UndoAppointmentChange(AppointmentCommand):
    """Take back the appointment's last check-in, no-show, completion or cancellation."""


@dataclass(frozen=True, kw_only=True)
class ConfirmAsPatient(AppointmentCommand):
    """The patient confirms from their own page (a reminder's link); no member of staff may
    send it (app/commands/access.py)."""

    actor: str = PATIENT_ACTOR


@dataclass(frozen=True, kw_only=True)
class CancelAsPatient(AppointmentCommand):
    """The patient cancels from their own page; saying why is theirs to choose."""

    actor: str = PATIENT_ACTOR
    reason: str = text(N_("The reason for cancelling"), default="")


@dataclass(frozen=True, kw_only=True)
class ReminderCommand(Command):
    """What the reminder sender records of one reminder: on the appointment's reminders
    stream, once per key (the command id is derived from it)."""

    actor: str = REMINDERS_ACTOR
    appointment_id: UUID = ident(N_("appointment"))
    kind: str = text(N_("The kind of reminder"))
    key: str = text(N_("The reminder"))
    starts_at: datetime = moment()


@dataclass(frozen=True, kw_only=True)
class RecordReminderSent(ReminderCommand):
    channel: str = text(N_("The channel"))
    provider_id: str = text(N_("The provider's id"), default="")
    recovered: bool = flag(N_("Recovered"))


@dataclass(frozen=True, kw_only=True)
class RecordReminderSkipped(ReminderCommand):
    reason: str = text(N_("The reason"))


@dataclass(frozen=True, kw_only=True)
class RecordReminderParked(ReminderCommand):
    channel: str = text(N_("The channel"))
    attempts: int = number(N_("The attempts"), low=1)
    error: str = text(N_("The error"), default="")
