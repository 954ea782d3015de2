"""Command handlers: load, decide, append, in one transaction; and the bus that runs them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any
from uuid import UUID

from app.domain.appointment import Appointment
from app.domain.doctor import Doctor, parse_hours
from app.domain.errors import ConflictError, NotFoundError, SlotTakenError
from app.domain.events import Event
from app.domain.patient import Patient, PatientDetails
from app.domain.rules import local_label
from app.eventstore import (
    EventMetadata,
    RecordedEvent,
    ReservationConflictError,
    StoreTransaction,
)

from . import commands as c


@dataclass
class Context:
    """What a handler needs besides the store: the time, the clinic's zone, the metadata."""

    tx: StoreTransaction
    now: datetime
    tz: tzinfo
    metadata: EventMetadata

    def append(self, stream_type: str, stream_id: UUID, version: int, events: list[Event]) -> int:
        return self.tx.append(
            stream_id,
            version,
            events,
            stream_type=stream_type,
            metadata=self.metadata,
            recorded_at=self.now,
        ).position


Outcome = tuple[UUID, int, int | None]  # stream id, version, position of the last event


def _unchanged(stream_id: UUID, version: int) -> Outcome:
    return stream_id, version, None


def _fold(cls: Any, stream_id: UUID, history: list[RecordedEvent]) -> Any:
    return cls.from_history(stream_id, [record.event for record in history])


def _patient_details(
    cmd: c.RegisterPatient | c.ChangePatientDetails, today: date
) -> PatientDetails:
    return PatientDetails.checked(
        full_name=cmd.full_name,
        date_of_birth=cmd.date_of_birth,
        phone=cmd.phone,
        email=cmd.email,
        today=today,
    )


def register_patient(ctx: Context, cmd: c.RegisterPatient) -> Outcome:
    patient = _fold(Patient, cmd.patient_id, ctx.tx.load(cmd.patient_id))
    events = patient.register(_patient_details(cmd, ctx.now.astimezone(ctx.tz).date()))
    position = ctx.append("patient", cmd.patient_id, patient.version, events)
    return cmd.patient_id, patient.version + len(events), position


def change_patient_details(ctx: Context, cmd: c.ChangePatientDetails) -> Outcome:
    history = ctx.tx.load(cmd.patient_id)
    patient = _load_existing(Patient, cmd.patient_id, history, "patient", cmd.expected_version)
    events = patient.change_details(_patient_details(cmd, ctx.now.astimezone(ctx.tz).date()))
    if not events:
        return _unchanged(cmd.patient_id, patient.version)
    position = ctx.append("patient", cmd.patient_id, patient.version, events)
    return cmd.patient_id, patient.version + len(events), position


def register_doctor(ctx: Context, cmd: c.RegisterDoctor) -> Outcome:
    doctor = _fold(Doctor, cmd.doctor_id, ctx.tx.load(cmd.doctor_id))
    events = doctor.register(
        full_name=cmd.full_name, specialty=cmd.specialty, slot_minutes=cmd.slot_minutes
    )
    position = ctx.append("doctor", cmd.doctor_id, doctor.version, events)
    return cmd.doctor_id, doctor.version + len(events), position


def set_working_hours(ctx: Context, cmd: c.SetWorkingHours) -> Outcome:
    history = ctx.tx.load(cmd.doctor_id)
    doctor = _load_existing(Doctor, cmd.doctor_id, history, "doctor", cmd.expected_version)
    events = doctor.set_working_hours(parse_hours(cmd.hours), cmd.slot_minutes)
    if not events:
        return _unchanged(cmd.doctor_id, doctor.version)
    position = ctx.append("doctor", cmd.doctor_id, doctor.version, events)
    return cmd.doctor_id, doctor.version + len(events), position


def create_appointment(ctx: Context, cmd: c.CreateAppointment) -> Outcome:
    streams = ctx.tx.load_many([cmd.appointment_id, cmd.patient_id, cmd.doctor_id])
    patient = _fold(Patient, cmd.patient_id, streams[cmd.patient_id])
    doctor = _fold(Doctor, cmd.doctor_id, streams[cmd.doctor_id])
    if not patient.exists:
        raise NotFoundError("No patient with that id is registered.", field="patient_id")
    if not doctor.exists:
        raise NotFoundError("No doctor with that id is registered.", field="doctor_id")
    appointment = _fold(Appointment, cmd.appointment_id, streams[cmd.appointment_id])
    ends_at = cmd.starts_at + timedelta(minutes=cmd.duration_minutes)
    events = appointment.book(
        patient=patient,
        doctor=doctor,
        starts_at=cmd.starts_at,
        ends_at=ends_at,
        title=cmd.title,
        now=ctx.now,
        tz=ctx.tz,
    )
    _hold_time(ctx, cmd.appointment_id, doctor, cmd.starts_at, ends_at, new=True)
    position = ctx.append("appointment", cmd.appointment_id, 0, events)
    return cmd.appointment_id, len(events), position


def reschedule_appointment(ctx: Context, cmd: c.RescheduleAppointment) -> Outcome:
    appointment = _load_appointment(ctx, cmd)
    assert appointment.doctor_id is not None
    doctor = _fold(Doctor, appointment.doctor_id, ctx.tx.load(appointment.doctor_id))
    ends_at = cmd.starts_at + timedelta(minutes=cmd.duration_minutes)
    events = appointment.reschedule(
        doctor=doctor,
        starts_at=cmd.starts_at,
        ends_at=ends_at,
        reason=cmd.reason,
        now=ctx.now,
        tz=ctx.tz,
    )
    _hold_time(ctx, appointment.id, doctor, cmd.starts_at, ends_at, new=False)
    return _append_appointment(ctx, appointment, events)


def confirm_appointment(ctx: Context, cmd: c.ConfirmAppointment) -> Outcome:
    appointment = _load_appointment(ctx, cmd)
    return _append_appointment(ctx, appointment, appointment.confirm())


def cancel_appointment(ctx: Context, cmd: c.CancelAppointment) -> Outcome:
    appointment = _load_appointment(ctx, cmd)
    events = appointment.cancel(cmd.reason)
    ctx.tx.release(appointment.id)
    return _append_appointment(ctx, appointment, events)


def check_in_appointment(ctx: Context, cmd: c.CheckInAppointment) -> Outcome:
    appointment = _load_appointment(ctx, cmd)
    return _append_appointment(ctx, appointment, appointment.check_in(now=ctx.now, tz=ctx.tz))


def complete_appointment(ctx: Context, cmd: c.CompleteAppointment) -> Outcome:
    appointment = _load_appointment(ctx, cmd)
    return _append_appointment(ctx, appointment, appointment.complete())


def mark_no_show(ctx: Context, cmd: c.MarkNoShow) -> Outcome:
    appointment = _load_appointment(ctx, cmd)
    events = appointment.mark_no_show(now=ctx.now, tz=ctx.tz)
    ctx.tx.release(appointment.id)
    return _append_appointment(ctx, appointment, events)


def _load_existing(
    cls: Any, stream_id: UUID, history: list[RecordedEvent], noun: str, expected: int | None
) -> Any:
    aggregate = _fold(cls, stream_id, history)
    if not aggregate.exists:
        raise NotFoundError(f"No {noun} with that id exists.", field=f"{noun}_id")
    if expected is not None and expected != aggregate.version:
        raise stale_version_error(noun, expected, history)
    return aggregate


def _load_appointment(ctx: Context, cmd: c.AppointmentCommand) -> Appointment:
    history = ctx.tx.load(cmd.appointment_id)
    return _load_existing(
        Appointment, cmd.appointment_id, history, "appointment", cmd.expected_version
    )


def _append_appointment(ctx: Context, appointment: Appointment, events: list[Event]) -> Outcome:
    position = ctx.append("appointment", appointment.id, appointment.version, events)
    return appointment.id, appointment.version + len(events), position


def _hold_time(
    ctx: Context,
    appointment_id: UUID,
    doctor: Doctor,
    starts_at: datetime,
    ends_at: datetime,
    *,
    new: bool,
) -> None:
    """Reserve the doctor's time, or say plainly that it is no longer free."""
    try:
        ctx.tx.reserve(appointment_id, doctor.id, starts_at, ends_at, new=new)
    except ReservationConflictError:
        raise SlotTakenError(
            f"That time is no longer free: {doctor.full_name} already has an appointment "
            f"overlapping {local_label(starts_at, ctx.tz)}."
        ) from None


def describe_change(record: RecordedEvent) -> str:
    """'AppointmentRescheduled by alice at 2027-01-14 09:30 UTC', for conflict messages."""
    words = "".join(f" {ch.lower()}" if ch.isupper() else ch for ch in record.event_type).strip()
    actor = record.metadata.get("actor", "someone")
    return f"{words} by {actor} at {record.recorded_at:%Y-%m-%d %H:%M} UTC"


def stale_version_error(noun: str, expected: int, history: list[RecordedEvent]) -> ConflictError:
    """The record moved on since the user saw it: say what happened in between."""
    changes = [describe_change(record) for record in history if record.version > expected]
    return ConflictError(
        f"This {noun} was changed by someone else after you opened it "
        f"({'; '.join(changes) or 'its history is shorter than the version you saw'}). "
        "Reload to see the current state.",
        changes,
    )


HANDLERS: dict[type[c.Command], Callable[[Context, Any], Outcome]] = {
    c.RegisterPatient: register_patient,
    c.ChangePatientDetails: change_patient_details,
    c.RegisterDoctor: register_doctor,
    c.SetWorkingHours: set_working_hours,
    c.CreateAppointment: create_appointment,
    c.ConfirmAppointment: confirm_appointment,
    c.CancelAppointment: cancel_appointment,
    c.RescheduleAppointment: reschedule_appointment,
    c.CheckInAppointment: check_in_appointment,
    c.CompleteAppointment: complete_appointment,
    c.MarkNoShow: mark_no_show,
}
