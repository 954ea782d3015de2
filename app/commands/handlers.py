"""Command handlers: load what the decision needs and decide. They write nothing: the bus
saves each Decision (events, doctor-time change, command record) in the same transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any, NoReturn
from uuid import UUID

from app import phones
from app.config import LOCALES
from app.domain.appointment import NO_SHOW_GRACE, RETAKES_TIME, UNDO_WINDOW, Appointment
from app.domain.availability import clock
from app.domain.clinic import CLINIC_ID, Clinic
from app.domain.clinic_time import local_day
from app.domain.diary import Booked, check_free
from app.domain.doctor import Doctor, as_text, parse_hours
from app.domain.errors import (
    AlreadyExistsError,
    ConflictError,
    NotFoundError,
    OutsideWorkingHoursError,
    SlotTakenError,
    ValidationError,
)
from app.domain.events import Event, ReminderParked, ReminderSent, ReminderSkipped
from app.domain.messages import N_, Message, phrase
from app.domain.patient import Patient, PatientDetails, merge
from app.domain.reminders import Reminders, reminders_stream_id
from app.domain.series import Series, checked_repeat, plan_visits, with_changes
from app.domain.staff import Principal
from app.domain.waitlist import WaitlistEntry
from app.eventstore import Decision, Hold, RecordedEvent, Release

from . import commands as c
from .access import authorize_doctor_record, authorize_undo, may_undo_any_time

if TYPE_CHECKING:
    # Only named, never built here: the handlers import without SQLAlchemy or a driver.
    from app.eventstore import StoreTransaction

# How to show events' actors, asked once for all the actors of a message.
ActorNames = Callable[[Iterable[str]], Mapping[str, str]]


def actors_as_recorded(actors: Iterable[str]) -> dict[str, str]:
    """Each actor as recorded (a user id, or a process such as "seed")."""
    return {actor: actor for actor in actors}


@dataclass
class Context:
    """What a handler reads: the open transaction, the time, the clinic's zone, who asks
    (None for the system itself), and how to name the people in a record's history."""

    tx: StoreTransaction
    now: datetime
    tz: tzinfo
    principal: Principal | None = None
    actor_names: ActorNames = actors_as_recorded
    region: str = "FR"  # CLINIC_REGION: how a phone number written without + is read
    no_show_grace: timedelta = NO_SHOW_GRACE  # NO_SHOW_GRACE_MINUTES
    undo_window: timedelta = UNDO_WINDOW  # UNDO_MINUTES

    @property
    def today(self) -> date:
        return local_day(self.now, self.tz)


def _fold(
    cls: Any, stream_id: UUID, history: list[RecordedEvent], noun: str, *, creating: bool = False
) -> Any:
    """Rebuild an aggregate, refusing an id that belongs to another kind of record."""
    if history and history[0].stream_type != noun:
        if creating:
            raise AlreadyExistsError(_ID_TAKEN[noun])
        raise NotFoundError(_NO_SUCH[noun], field=f"{noun}_id")
    return cls.from_history(stream_id, [record.event for record in history])


def checked_patient_details(
    cmd: c.RegisterPatient | c.ChangePatientDetails, today: date, region: str
) -> PatientDetails:
    """The details checked, the phone number read in the clinic's region and kept in E.164;
    every field's message at once, as the form shows them. Public for the registration
    form, which checks them before it looks for the patient among those registered."""
    errors: dict[str, Message | str] = {}
    try:
        phone = phones.for_storage(cmd.phone, region) if isinstance(cmd.phone, str) else ""
    except phones.InvalidPhone as exc:
        errors["phone"], phone = exc.said, ""
    try:
        details = PatientDetails.checked(
            full_name=cmd.full_name,
            date_of_birth=cmd.date_of_birth,
            phone=phone if isinstance(cmd.phone, str) else cmd.phone,
            email=cmd.email,
            today=today,
        )
    except ValidationError as exc:
        raise ValidationError({**exc.said_errors, **errors}) from None
    if errors:
        raise ValidationError(errors)
    return details


def register_patient(ctx: Context, cmd: c.RegisterPatient) -> Decision:
    patient = _fold(Patient, cmd.patient_id, ctx.tx.load(cmd.patient_id), "patient", creating=True)
    events = patient.register(checked_patient_details(cmd, ctx.today, ctx.region))
    return Decision("patient", cmd.patient_id, patient.version, events)


def change_patient_details(ctx: Context, cmd: c.ChangePatientDetails) -> Decision:
    history = ctx.tx.load(cmd.patient_id)
    patient = _load_existing(ctx, Patient, cmd.patient_id, history, "patient", cmd.expected_version)
    events = patient.change_details(checked_patient_details(cmd, ctx.today, ctx.region))
    return Decision("patient", cmd.patient_id, patient.version, events)


def merge_patients(ctx: Context, cmd: c.MergePatients) -> Decision:
    """Both records at the versions the admin saw, in one transaction: the kept record's
    event is the command's, the merged record's rides along (Decision.also). Appointments'
    streams are not rewritten: the read models follow the merge (docs/architecture.md)."""
    streams = ctx.tx.load_many([cmd.patient_id, cmd.merged_id])
    kept_history = streams[cmd.patient_id]
    kept = _load_existing(
        ctx, Patient, cmd.patient_id, kept_history, "patient", cmd.expected_version
    )
    merged = _fold(Patient, cmd.merged_id, streams[cmd.merged_id], "patient")
    if not merged.exists:
        raise NotFoundError(_NO_SUCH["patient"], field="merged_id")
    merged = _checked(ctx, merged, streams[cmd.merged_id], "patient", cmd.merged_version)
    kept_events, merged_events = merge(kept, merged)
    into = Decision("patient", merged.id, merged.version, merged_events)
    return Decision("patient", kept.id, kept.version, kept_events, also=(into,))


def set_patient_reminders(ctx: Context, cmd: c.SetPatientReminders) -> Decision:
    history = ctx.tx.load(cmd.patient_id)
    patient = _load_existing(ctx, Patient, cmd.patient_id, history, "patient", cmd.expected_version)
    events = patient.set_reminders(
        consents=set(cmd.consents),
        preferred_channel=cmd.preferred_channel,
        language=cmd.language,
        languages=set(LOCALES),
    )
    return Decision("patient", cmd.patient_id, patient.version, events)


def register_doctor(ctx: Context, cmd: c.RegisterDoctor) -> Decision:
    doctor = _fold(Doctor, cmd.doctor_id, ctx.tx.load(cmd.doctor_id), "doctor", creating=True)
    events = doctor.register(
        full_name=cmd.full_name, specialty=cmd.specialty, slot_minutes=cmd.slot_minutes
    )
    return Decision("doctor", cmd.doctor_id, doctor.version, events)


def set_working_hours(ctx: Context, cmd: c.SetWorkingHours) -> Decision:
    history = ctx.tx.load(cmd.doctor_id)
    doctor = _load_existing(ctx, Doctor, cmd.doctor_id, history, "doctor", cmd.expected_version)
    events = doctor.set_working_hours(parse_hours(cmd.hours), cmd.slot_minutes)
    return Decision("doctor", cmd.doctor_id, doctor.version, events)


def _doctor_decision(
    ctx: Context, cmd: c.DoctorCommand, decide: Callable[[Doctor], list[Event]]
) -> Decision:
    """A change to a doctor's availability: by the front desk, or by the doctor themselves."""
    authorize_doctor_record(ctx.principal, cmd.doctor_id)
    history = ctx.tx.load(cmd.doctor_id)
    doctor = _load_existing(ctx, Doctor, cmd.doctor_id, history, "doctor", cmd.expected_version)
    return Decision("doctor", cmd.doctor_id, doctor.version, decide(doctor))


def record_absence(ctx: Context, cmd: c.RecordAbsence) -> Decision:
    return _doctor_decision(ctx, cmd, lambda doctor: _absence(ctx, cmd, doctor.record_absence))


def change_absence(ctx: Context, cmd: c.ChangeAbsence) -> Decision:
    return _doctor_decision(ctx, cmd, lambda doctor: _absence(ctx, cmd, doctor.change_absence))


def _absence(
    ctx: Context, cmd: c.RecordAbsence | c.ChangeAbsence, decide: Callable[..., list[Event]]
) -> list[Event]:
    return decide(
        cmd.absence_id,
        starts_at=cmd.starts_at,
        ends_at=cmd.ends_at,
        reason=cmd.reason,
        note=cmd.note,
        now=ctx.now,
        tz=ctx.tz,
    )


def cancel_absence(ctx: Context, cmd: c.CancelAbsence) -> Decision:
    return _doctor_decision(ctx, cmd, lambda doctor: doctor.cancel_absence(cmd.absence_id))


def set_day_hours(ctx: Context, cmd: c.SetDayHours) -> Decision:
    day = _required_day(cmd.day)
    return _doctor_decision(
        ctx, cmd, lambda doctor: doctor.set_day_hours(day, cmd.hours, today=ctx.today)
    )


def clear_day_hours(ctx: Context, cmd: c.ClearDayHours) -> Decision:
    day = _required_day(cmd.day)
    return _doctor_decision(ctx, cmd, lambda doctor: doctor.clear_day_hours(day))


def _required_day(day: date | None) -> date:
    if day is None:
        raise ValidationError({"day": phrase("Choose a day.")})
    return day


def load_clinic(tx: StoreTransaction, history: list[RecordedEvent] | None = None) -> Clinic:
    """The clinic as its stream says (one stream per installation)."""
    found = tx.load(CLINIC_ID) if history is None else history
    return _fold(Clinic, CLINIC_ID, found, "clinic")


def _clinic_decision(
    ctx: Context, cmd: c.ClinicCommand, decide: Callable[[Clinic], list[Event]]
) -> Decision:
    history = ctx.tx.load(CLINIC_ID)
    clinic = _checked(ctx, load_clinic(ctx.tx, history), history, "clinic", cmd.expected_version)
    return Decision("clinic", CLINIC_ID, clinic.version, decide(clinic))


def set_clinic_hours(ctx: Context, cmd: c.SetClinicHours) -> Decision:
    hours = {day: clock(as_text(ranges)) for day, ranges in parse_hours(cmd.hours).items()}
    return _clinic_decision(ctx, cmd, lambda clinic: clinic.set_hours(hours))


def close_clinic(ctx: Context, cmd: c.CloseClinic) -> Decision:
    return _clinic_decision(ctx, cmd, lambda clinic: clinic.close(cmd.days, today=ctx.today))


def reopen_clinic(ctx: Context, cmd: c.ReopenClinic) -> Decision:
    day = _required_day(cmd.day)
    return _clinic_decision(ctx, cmd, lambda clinic: clinic.reopen(day))


def define_visit_type(ctx: Context, cmd: c.DefineVisitType) -> Decision:
    if cmd.doctor_id is not None:
        doctor = _fold(Doctor, cmd.doctor_id, ctx.tx.load(cmd.doctor_id), "doctor")
        if not doctor.exists:
            raise NotFoundError(_NO_SUCH["doctor"], field="doctor_id")
    return _clinic_decision(
        ctx,
        cmd,
        lambda clinic: clinic.define_visit_type(
            cmd.visit_type_id,
            label=cmd.label,
            minutes=cmd.minutes,
            doctor_id=cmd.doctor_id,
            specialty=cmd.specialty,
        ),
    )


def retire_visit_type(ctx: Context, cmd: c.RetireVisitType) -> Decision:
    return _clinic_decision(ctx, cmd, lambda clinic: clinic.retire_visit_type(cmd.visit_type_id))


def set_clinic_contact(ctx: Context, cmd: c.SetClinicContact) -> Decision:
    return _clinic_decision(
        ctx,
        cmd,
        lambda clinic: clinic.set_contact(
            name=cmd.clinic_name,
            address=cmd.address,
            phone=cmd.phone,
            what_to_bring=cmd.what_to_bring,
        ),
    )


def _duration(cmd: c.BookingCommand, doctor: Doctor, clinic: Clinic) -> int:
    """The booking's length: as given, else its visit type's."""
    if cmd.visit_type_id is not None:
        kind = clinic.visit_type_for(cmd.visit_type_id, doctor.id, doctor.specialty)
        return cmd.duration_minutes or kind.minutes
    if cmd.duration_minutes is None:
        raise ValidationError(
            {"duration_minutes": phrase("Give a duration, or choose a visit type.")}
        )
    return cmd.duration_minutes


def _booked_parties(
    streams: Mapping[UUID, list[RecordedEvent]], patient_id: UUID, doctor_id: UUID
) -> tuple[Patient, Doctor]:
    """The patient and doctor a booking names: both registered, the patient not merged."""
    patient = _fold(Patient, patient_id, streams[patient_id], "patient")
    doctor = _fold(Doctor, doctor_id, streams[doctor_id], "doctor")
    if not patient.exists:
        raise NotFoundError(phrase("No patient with that id is registered."), field="patient_id")
    patient.refuse_if_merged()
    if not doctor.exists:
        raise NotFoundError(phrase("No doctor with that id is registered."), field="doctor_id")
    return patient, doctor


def create_appointment(ctx: Context, cmd: c.CreateAppointment) -> Decision:
    wanted = [cmd.appointment_id, cmd.patient_id, cmd.doctor_id, CLINIC_ID]
    if cmd.waitlist_id is not None:
        wanted.append(cmd.waitlist_id)
    streams = ctx.tx.load_many(wanted)
    patient, doctor = _booked_parties(streams, cmd.patient_id, cmd.doctor_id)
    appointment = _fold(
        Appointment,
        cmd.appointment_id,
        streams[cmd.appointment_id],
        "appointment",
        creating=True,
    )
    clinic = load_clinic(ctx.tx, streams[CLINIC_ID])
    ends_at = cmd.starts_at + timedelta(minutes=_duration(cmd, doctor, clinic))
    events = appointment.book(
        patient=patient,
        doctor=doctor,
        starts_at=cmd.starts_at,
        ends_at=ends_at,
        title=cmd.title,
        now=ctx.now,
        tz=ctx.tz,
        confirmed=cmd.confirmed,
        schedule=doctor.schedule(clinic.days),
        visit_type_id=cmd.visit_type_id,
        series_id=cmd.series_id,
        occurrence=cmd.occurrence,
    )
    hold = Hold(
        cmd.appointment_id,
        doctor.id,
        cmd.starts_at,
        ends_at,
        new=True,
        refusal=_taken(doctor, cmd.starts_at, ctx.tz),
    )
    also: tuple[Decision, ...] = ()
    if cmd.waitlist_id is not None:
        also = (_leave_waitlist_booked(ctx, cmd, streams[cmd.waitlist_id], doctor),)
    return Decision("appointment", cmd.appointment_id, 0, events, hold, also)


def _leave_waitlist_booked(
    ctx: Context, cmd: c.CreateAppointment, history: list[RecordedEvent], doctor: Doctor
) -> Decision:
    """The waitlist entry the booking is for, off the list in the same transaction."""
    assert cmd.waitlist_id is not None
    entry = _fold(WaitlistEntry, cmd.waitlist_id, history, "waitlist")
    if not entry.exists or entry.patient_id != cmd.patient_id:
        raise NotFoundError(_NO_SUCH["waitlist"], field="waitlist_id")
    events = entry.book(
        cmd.appointment_id,
        doctor_id=doctor.id,
        specialty=doctor.specialty,
        starts_at=cmd.starts_at,
        tz=ctx.tz,
    )
    return Decision("waitlist", entry.id, entry.version, events)


def book_series(ctx: Context, cmd: c.BookSeries) -> Decision:
    """The plan of a series: its visits as the rule and the desk's changes make them. Each
    visit is booked afterwards as an appointment of its own (app.commands.series)."""
    streams = ctx.tx.load_many([cmd.series_id, cmd.patient_id, cmd.doctor_id, CLINIC_ID])
    patient, doctor = _booked_parties(streams, cmd.patient_id, cmd.doctor_id)
    series = _fold(Series, cmd.series_id, streams[cmd.series_id], "series", creating=True)
    # Checked once for all the visits, which would each be refused the same way.
    _duration(cmd, doctor, load_clinic(ctx.tx, streams[CLINIC_ID]))
    kept, _ = series_visits(cmd, ctx.tz)
    events = series.plan(
        patient_id=patient.id,
        doctor_id=doctor.id,
        title=cmd.title,
        repeat=checked_repeat(cmd.every_weeks, cmd.monthly),
        visits=kept,
    )
    return Decision("series", cmd.series_id, series.version, events)


def series_visits(cmd: c.BookSeries, tz: tzinfo) -> tuple[list[Any], list[Any]]:
    """The series' visits to book and those left out (the rule, then the desk's changes);
    every field's message at once."""
    errors: dict[str, Message] = {}
    try:
        repeat = checked_repeat(cmd.every_weeks, cmd.monthly)
    except ValidationError as exc:
        errors.update(exc.said_errors)
        repeat = checked_repeat(1, False)
    try:
        visits = plan_visits(cmd.starts_at, tz, repeat, count=cmd.occurrences, until=cmd.until)
    except ValidationError as exc:
        errors.update(exc.said_errors)
        visits = []
    if errors:
        raise ValidationError(errors)
    return with_changes(visits, cmd.changes)


def cancel_series(ctx: Context, cmd: c.CancelSeries) -> Decision:
    """Stop a course from one visit on: the series' event and every cancelled visit's, in
    one transaction (a visit changed meanwhile makes the bus decide again on fresh state)."""
    history = ctx.tx.load(cmd.series_id)
    series = _load_existing(ctx, Series, cmd.series_id, history, "series", cmd.expected_version)
    streams = ctx.tx.load_many([visit for _, visit, _ in series.visits])
    booked = {
        visit: _fold(Appointment, visit, streams[visit], "appointment")
        for _, visit, _ in series.visits
    }
    for appointment in booked.values():
        if appointment.exists:
            authorize_doctor_record(ctx.principal, appointment.doctor_id)
    events, cancelled = series.cancel_from(
        cmd.from_occurrence, cmd.reason, {k: v for k, v in booked.items() if v.exists}
    )
    also = tuple(
        _appointment_decision(booked[visit], visit_events, Release(visit))
        for visit, visit_events in cancelled.items()
    )
    return Decision("series", series.id, series.version, events, also=also)


def join_waitlist(ctx: Context, cmd: c.JoinWaitlist) -> Decision:
    assert cmd.waitlist_id is not None
    wanted = [cmd.waitlist_id, cmd.patient_id, *([cmd.doctor_id] if cmd.doctor_id else [])]
    streams = ctx.tx.load_many(wanted)
    patient = _fold(Patient, cmd.patient_id, streams[cmd.patient_id], "patient")
    if not patient.exists:
        raise NotFoundError(phrase("No patient with that id is registered."), field="patient_id")
    patient.refuse_if_merged()
    whom: Message | str = phrase("any doctor in %(specialty)s", specialty=cmd.specialty.strip())
    if cmd.doctor_id is not None:
        doctor = _fold(Doctor, cmd.doctor_id, streams[cmd.doctor_id], "doctor")
        if not doctor.exists:
            raise NotFoundError(phrase("No doctor with that id is registered."), field="doctor_id")
        whom = doctor.full_name
    entry = _fold(WaitlistEntry, cmd.waitlist_id, streams[cmd.waitlist_id], "waitlist")
    events = entry.join(
        patient_id=patient.id,
        patient_name=patient.name or "",
        doctor_id=cmd.doctor_id,
        specialty=cmd.specialty,
        from_day=cmd.from_day,
        until_day=cmd.until_day,
        part_of_day=cmd.part_of_day,
        title=cmd.title,
        note=cmd.note,
        today=ctx.today,
        whom=whom,
    )
    return Decision("waitlist", entry.id, entry.version, events)


def leave_waitlist(ctx: Context, cmd: c.LeaveWaitlist) -> Decision:
    history = ctx.tx.load(cmd.waitlist_id)
    entry = _load_existing(
        ctx, WaitlistEntry, cmd.waitlist_id, history, "waitlist", cmd.expected_version
    )
    return Decision("waitlist", entry.id, entry.version, entry.remove())


def reschedule_appointment(ctx: Context, cmd: c.RescheduleAppointment) -> Decision:
    appointment = _load_appointment(ctx, cmd)
    assert appointment.doctor_id is not None
    doctor_id = cmd.doctor_id or appointment.doctor_id
    streams = ctx.tx.load_many([doctor_id, CLINIC_ID])
    doctor = _fold(Doctor, doctor_id, streams[doctor_id], "doctor")
    if not doctor.exists:
        raise NotFoundError(phrase("No doctor with that id is registered."), field="doctor_id")
    ends_at = cmd.starts_at + timedelta(minutes=cmd.duration_minutes)
    events = appointment.reschedule(
        doctor=doctor,
        starts_at=cmd.starts_at,
        ends_at=ends_at,
        reason=cmd.reason,
        now=ctx.now,
        tz=ctx.tz,
        confirmed=cmd.confirmed,
        schedule=doctor.schedule(load_clinic(ctx.tx, streams[CLINIC_ID]).days),
    )
    hold = Hold(
        appointment.id,
        doctor.id,
        cmd.starts_at,
        ends_at,
        new=False,
        refusal=_taken(doctor, cmd.starts_at, ctx.tz),
    )
    return _appointment_decision(appointment, events, hold)


def confirm_appointment(ctx: Context, cmd: c.ConfirmAppointment) -> Decision:
    appointment = _load_appointment(ctx, cmd)
    return _appointment_decision(appointment, appointment.confirm())


def cancel_appointment(ctx: Context, cmd: c.CancelAppointment) -> Decision:
    appointment = _load_appointment(ctx, cmd)
    return _appointment_decision(
        appointment, appointment.cancel(cmd.reason), Release(appointment.id)
    )


def confirm_as_patient(ctx: Context, cmd: c.ConfirmAsPatient) -> Decision:
    appointment = _load_appointment(ctx, cmd)
    return _appointment_decision(appointment, appointment.confirm())


def cancel_as_patient(ctx: Context, cmd: c.CancelAsPatient) -> Decision:
    appointment = _load_appointment(ctx, cmd)
    return _appointment_decision(
        appointment, appointment.cancel(cmd.reason, required=False), Release(appointment.id)
    )


def _reminder_decision(
    ctx: Context, cmd: c.ReminderCommand, event: ReminderSent | ReminderSkipped | ReminderParked
) -> Decision:
    stream_id = reminders_stream_id(cmd.appointment_id)
    reminders = _fold(Reminders, stream_id, ctx.tx.load(stream_id), "reminders")
    return Decision("reminders", stream_id, reminders.version, reminders.record(event))


def record_reminder_sent(ctx: Context, cmd: c.RecordReminderSent) -> Decision:
    event = ReminderSent(
        cmd.appointment_id,
        cmd.kind,
        cmd.key,
        cmd.channel,
        cmd.provider_id,
        cmd.starts_at,
        cmd.recovered,
    )
    return _reminder_decision(ctx, cmd, event)


def record_reminder_skipped(ctx: Context, cmd: c.RecordReminderSkipped) -> Decision:
    event = ReminderSkipped(cmd.appointment_id, cmd.kind, cmd.key, cmd.starts_at, cmd.reason)
    return _reminder_decision(ctx, cmd, event)


def record_reminder_parked(ctx: Context, cmd: c.RecordReminderParked) -> Decision:
    event = ReminderParked(
        cmd.appointment_id, cmd.kind, cmd.key, cmd.channel, cmd.starts_at, cmd.attempts, cmd.error
    )
    return _reminder_decision(ctx, cmd, event)


def check_in_appointment(ctx: Context, cmd: c.CheckInAppointment) -> Decision:
    appointment = _load_appointment(ctx, cmd)
    return _appointment_decision(appointment, appointment.check_in(now=ctx.now, tz=ctx.tz))


def complete_appointment(ctx: Context, cmd: c.CompleteAppointment) -> Decision:
    appointment = _load_appointment(ctx, cmd)
    return _appointment_decision(appointment, appointment.complete())


def mark_no_show(ctx: Context, cmd: c.MarkNoShow) -> Decision:
    appointment = _load_appointment(ctx, cmd)
    events = appointment.mark_no_show(now=ctx.now, tz=ctx.tz, grace=ctx.no_show_grace)
    return _appointment_decision(appointment, events, Release(appointment.id))


def undo_appointment_change(ctx: Context, cmd: c.UndoAppointmentChange) -> Decision:
    history = ctx.tx.load(cmd.appointment_id)
    appointment = _checked_appointment(ctx, cmd, history)
    last = history[-1]
    authorize_undo(ctx.principal, last.event_type)
    events = appointment.undo(
        done_at=last.recorded_at,
        now=ctx.now,
        tz=ctx.tz,
        window=ctx.undo_window,
        always=may_undo_any_time(ctx.principal),
    )
    if last.event_type not in RETAKES_TIME:
        return _appointment_decision(appointment, events)
    # A cancellation or no-show gave the doctor's time back: the undo takes it again, if
    # no one has booked it meanwhile (else refused as a booking would be).
    assert appointment.doctor_id and appointment.starts_at and appointment.ends_at
    streams = ctx.tx.load_many([appointment.doctor_id, CLINIC_ID])
    doctor = _fold(Doctor, appointment.doctor_id, streams[appointment.doctor_id], "doctor")
    # Nor into an absence or a closure recorded since the cancellation.
    away = doctor.schedule(load_clinic(ctx.tx, streams[CLINIC_ID]).days).refusal(
        appointment.starts_at, appointment.ends_at, ctx.tz
    )
    if away is not None:
        raise OutsideWorkingHoursError(away)
    hold = Hold(
        appointment.id,
        doctor.id,
        appointment.starts_at,
        appointment.ends_at,
        new=False,
        refusal=_taken(doctor, appointment.starts_at, ctx.tz),
    )
    return _appointment_decision(appointment, events, hold)


def _load_existing(
    ctx: Context,
    cls: Any,
    stream_id: UUID,
    history: list[RecordedEvent],
    noun: str,
    expected: int | None,
) -> Any:
    return _checked(ctx, _fold(cls, stream_id, history, noun), history, noun, expected)


def _checked(
    ctx: Context, aggregate: Any, history: list[RecordedEvent], noun: str, expected: int | None
) -> Any:
    """The aggregate, if it exists and is still at the version the user saw."""
    if not aggregate.exists:
        raise NotFoundError(_NO_SUCH[noun], field=f"{noun}_id")
    if expected is not None and expected != aggregate.version:
        raise stale_version_error(noun, expected, history, ctx.tz, ctx.actor_names)
    return aggregate


def _load_appointment(ctx: Context, cmd: c.AppointmentCommand) -> Appointment:
    return _checked_appointment(ctx, cmd, ctx.tx.load(cmd.appointment_id))


def _checked_appointment(
    ctx: Context, cmd: c.AppointmentCommand, history: list[RecordedEvent]
) -> Appointment:
    appointment = _fold(Appointment, cmd.appointment_id, history, "appointment")
    # Before the version check: a doctor learns nothing of another doctor's appointment.
    if appointment.exists:
        authorize_doctor_record(ctx.principal, appointment.doctor_id)
    return _checked(ctx, appointment, history, "appointment", cmd.expected_version)


def _appointment_decision(
    appointment: Appointment, events: list[Event], reservation: Hold | Release | None = None
) -> Decision:
    return Decision("appointment", appointment.id, appointment.version, events, reservation)


def refuse_taken(tx: StoreTransaction, hold: Hold, tz: tzinfo) -> NoReturn:
    """Refuse the time `hold` asked for, naming the appointment in the way and the longest
    visit free at its start; with the hold's own message if the time was freed meanwhile.

    Only after the save was refused, in a transaction of its own: a booking that fits pays
    nothing for the wording. The store returns any one overlap: narrowing the window to
    before it finds the earliest, which bounds the time free at the start.
    """
    doctor = _fold(Doctor, hold.doctor_id, tx.load(hold.doctor_id), "doctor")
    booked: list[Booked] = []
    until = hold.ends_at
    while until > hold.starts_at and (
        found := tx.find_overlap(hold.doctor_id, hold.starts_at, until, exclude=hold.appointment_id)
    ):
        other = _fold(Appointment, found, tx.load(found), "appointment")
        assert other.starts_at is not None and other.ends_at is not None
        assert other.patient_id is not None
        patient = _fold(Patient, other.patient_id, tx.load(other.patient_id), "patient")
        booked.append(
            Booked(other.starts_at, other.ends_at, patient.name or phrase("another patient"))
        )
        until = other.starts_at
    check_free(hold.starts_at, hold.ends_at, booked, doctor_name=doctor.full_name, tz=tz)
    raise SlotTakenError(hold.refusal)


def _taken(doctor: Doctor, starts_at: datetime, tz: tzinfo) -> Message:
    """What staff read when another appointment takes the time meanwhile."""
    return phrase(
        "That time is no longer free: %(doctor)s already has an appointment overlapping "
        "%(starts)s.",
        doctor=doctor.full_name,
        starts=starts_at.astimezone(tz),
    )


def _actor(record: RecordedEvent) -> str:
    return record.actor or "someone"


# What happened to a record, inside a conflict's sentence ("appointment rescheduled by …").
CHANGES = {
    "AppointmentCreated": N_("appointment created"),
    "AppointmentConfirmed": N_("appointment confirmed"),
    "AppointmentCancelled": N_("appointment cancelled"),
    "AppointmentRescheduled": N_("appointment rescheduled"),
    "AppointmentCheckedIn": N_("appointment checked in"),
    "AppointmentCompleted": N_("appointment completed"),
    "AppointmentMarkedNoShow": N_("appointment marked no show"),
    "AppointmentCheckInUndone": N_("check-in undone"),
    "AppointmentNoShowUndone": N_("no-show undone"),
    "AppointmentCompletionUndone": N_("completion undone"),
    "AppointmentCancellationUndone": N_("cancellation undone"),
    "PatientRegistered": N_("patient registered"),
    "PatientDetailsChanged": N_("patient details changed"),
    "PatientMerged": N_("another record merged into this one"),
    "PatientMergedInto": N_("record merged into another"),
    "DoctorRegistered": N_("doctor registered"),
    "WorkingHoursSet": N_("working hours set"),
    "AbsenceRecorded": N_("absence recorded"),
    "AbsenceChanged": N_("absence changed"),
    "AbsenceCancelled": N_("absence cancelled"),
    "DayHoursSet": N_("hours of a day set"),
    "DayHoursCleared": N_("hours of a day cleared"),
    "ClinicHoursSet": N_("opening hours set"),
    "ClinicClosed": N_("closure recorded"),
    "ClinicReopened": N_("closure removed"),
    "VisitTypeDefined": N_("visit type added"),
    "VisitTypeRetired": N_("visit type retired"),
    "SeriesPlanned": N_("series booked"),
    "SeriesCancelled": N_("series cancelled from a visit on"),
    "WaitlistJoined": N_("added to the waitlist"),
    "WaitlistLeft": N_("taken off the waitlist"),
    "ConsentGiven": N_("consent to reminders given"),
    "ConsentWithdrawn": N_("consent to reminders withdrawn"),
    "ContactPreferenceSet": N_("reminder preferences changed"),
    "ClinicContactSet": N_("clinic details for patients changed"),
    "ReminderSent": N_("reminder sent"),
    "ReminderSkipped": N_("reminder not sent"),
    "ReminderParked": N_("reminder set aside after failures"),
}
_NO_SUCH = {
    "appointment": phrase("No appointment with that id exists."),
    "patient": phrase("No patient with that id exists."),
    "doctor": phrase("No doctor with that id exists."),
    "clinic": phrase("No record with that id exists."),
    "series": phrase("No series with that id exists."),
    "waitlist": phrase("That patient is not on the waitlist (any more); reload the page."),
    "reminders": phrase("No record with that id exists."),
    "record": phrase("No record with that id exists."),
}
_ID_TAKEN = {
    "appointment": phrase("That id is already in use; a new appointment needs a new id."),
    "patient": phrase("That id is already in use; a new patient needs a new id."),
    "doctor": phrase("That id is already in use; a new doctor needs a new id."),
    "series": phrase("That id is already in use; a new series needs a new id."),
}
# "This appointment was changed by someone else…": the record's noun, per kind of stream.
_CHANGED = {
    "appointment": N_(
        "This appointment was changed by someone else after you opened it (%(changes)s). "
        "Reload to see the current state."
    ),
    "patient": N_(
        "This patient was changed by someone else after you opened it (%(changes)s). "
        "Reload to see the current state."
    ),
    "doctor": N_(
        "This doctor was changed by someone else after you opened it (%(changes)s). "
        "Reload to see the current state."
    ),
    "clinic": N_(
        "The clinic's settings were changed by someone else after you opened them "
        "(%(changes)s). Reload to see the current state."
    ),
    "series": N_(
        "This series was changed by someone else after you opened it (%(changes)s). "
        "Reload to see the current state."
    ),
    "waitlist": N_(
        "This waitlist entry was changed by someone else after you opened it "
        "(%(changes)s). Reload to see the current state."
    ),
    "record": N_(
        "This record was changed by someone else after you opened it (%(changes)s). "
        "Reload to see the current state."
    ),
}


def describe_change(record: RecordedEvent, tz: tzinfo, actor: str | None = None) -> Message:
    """'appointment rescheduled by Alice Martin on Tuesday 12 January 2027 at 09:30', for
    conflicts; `actor` is who to name (by default, the actor as recorded)."""
    what = CHANGES.get(record.event_type)
    return phrase(
        "%(what)s by %(who)s on %(when)s",
        what=phrase(what) if what else record.description,
        who=actor or _actor(record),
        when=record.recorded_at.astimezone(tz),
    )


def stale_version_error(
    noun: str,
    expected: int,
    history: list[RecordedEvent],
    tz: tzinfo,
    actor_names: ActorNames = actors_as_recorded,
) -> ConflictError:
    """The record moved on since the user saw it: say what happened in between."""
    since = [record for record in history if record.version > expected]
    names = actor_names({_actor(record) for record in since})
    changes = [describe_change(record, tz, names[_actor(record)]) for record in since]
    listed: Message = (
        changes[0] if changes else phrase("its history is shorter than the version you saw")
    )
    for change in changes[1:]:
        listed = phrase("%(earlier)s; %(later)s", earlier=listed, later=change)
    return ConflictError(phrase(_CHANGED.get(noun, _CHANGED["record"]), changes=listed), changes)


HANDLERS: dict[type[c.Command], Callable[[Context, Any], Decision]] = {
    c.RegisterPatient: register_patient,
    c.ChangePatientDetails: change_patient_details,
    c.MergePatients: merge_patients,
    c.RegisterDoctor: register_doctor,
    c.SetWorkingHours: set_working_hours,
    c.RecordAbsence: record_absence,
    c.ChangeAbsence: change_absence,
    c.CancelAbsence: cancel_absence,
    c.SetDayHours: set_day_hours,
    c.ClearDayHours: clear_day_hours,
    c.SetClinicHours: set_clinic_hours,
    c.CloseClinic: close_clinic,
    c.ReopenClinic: reopen_clinic,
    c.DefineVisitType: define_visit_type,
    c.RetireVisitType: retire_visit_type,
    c.CreateAppointment: create_appointment,
    c.BookSeries: book_series,
    c.CancelSeries: cancel_series,
    c.JoinWaitlist: join_waitlist,
    c.LeaveWaitlist: leave_waitlist,
    c.ConfirmAppointment: confirm_appointment,
    c.CancelAppointment: cancel_appointment,
    c.RescheduleAppointment: reschedule_appointment,
    c.CheckInAppointment: check_in_appointment,
    c.CompleteAppointment: complete_appointment,
    c.MarkNoShow: mark_no_show,
    c.UndoAppointmentChange: undo_appointment_change,
    c.SetPatientReminders: set_patient_reminders,
    c.SetClinicContact: set_clinic_contact,
    c.ConfirmAsPatient: confirm_as_patient,
    c.CancelAsPatient: cancel_as_patient,
    c.RecordReminderSent: record_reminder_sent,
    c.RecordReminderSkipped: record_reminder_skipped,
    c.RecordReminderParked: record_reminder_parked,
}
