"""What a patient's own page shows of their appointment, read from the event store: the
page is rare (one per reminder), must never be stale (the patient acts on it), and shows
one record, so folding its few streams beats a read model."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from app.domain.appointment import Appointment, Status
from app.domain.clinic import CLINIC_ID, Clinic, ClinicContact
from app.domain.doctor import Doctor
from app.domain.events import AppointmentRescheduled
from app.domain.patient import Patient
from app.domain.staff import PATIENT_ACTOR
from app.eventstore import EventStore, RecordedEvent


@dataclass(frozen=True)
class PatientVisit:
    appointment_id: UUID
    version: int
    status: Status
    starts_at: datetime
    ends_at: datetime
    doctor_name: str
    title: str
    clinic: ClinicContact
    # Rescheduled since the version the link names: the link's time is not this one.
    moved: bool
    language: str  # the patient's, "" for the clinic's
    # The patient's own last answer from the page ("confirmed" | "cancelled"), if any.
    answered: str | None
    cancel_reason: str


def patient_visit(
    store: EventStore, appointment_id: UUID, link_version: int
) -> PatientVisit | None:
    """The appointment as its link may show it, or None when there is none to show (an
    id that names no appointment, a version it never had)."""
    history = store.load(appointment_id)
    if not history or history[0].stream_type != "appointment" or link_version > len(history):
        return None
    appointment = Appointment.from_history(appointment_id, [r.event for r in history])
    assert appointment.starts_at and appointment.ends_at and appointment.doctor_id
    assert appointment.patient_id and appointment.status is not None
    moved = any(
        isinstance(r.event, AppointmentRescheduled) and r.version > link_version for r in history
    )
    answered = None
    cancel_reason = ""
    for record in history:
        if record.event_type == "AppointmentRescheduled":
            answered = None
        elif record.event_type in ("AppointmentConfirmed", "AppointmentCancelled"):
            if record.actor == PATIENT_ACTOR:
                answered = (
                    "confirmed" if record.event_type == "AppointmentConfirmed" else "cancelled"
                )
            if record.event_type == "AppointmentCancelled":
                cancel_reason = getattr(record.event, "reason", "")
    streams = store.load_many([appointment.doctor_id, appointment.patient_id, CLINIC_ID])
    doctor = Doctor.from_history(
        appointment.doctor_id, [r.event for r in streams[appointment.doctor_id]]
    )
    clinic = Clinic.from_history(CLINIC_ID, [r.event for r in streams[CLINIC_ID]])
    patient = patient_now(store, appointment.patient_id, streams[appointment.patient_id])
    return PatientVisit(
        appointment_id=appointment_id,
        version=appointment.version,
        status=appointment.status,
        starts_at=appointment.starts_at,
        ends_at=appointment.ends_at,
        doctor_name=doctor.full_name,
        title=appointment.title,
        clinic=clinic.contact,
        moved=moved,
        language=patient.language,
        answered=answered,
        cancel_reason=cancel_reason,
    )


@dataclass(frozen=True)
class ConsentChange:
    channel: str
    given: bool
    at: datetime
    actor: str


def consent_history(store: EventStore, patient_id: UUID) -> list[ConsentChange]:
    """Each consent given or withdrawn on the record, oldest first, with when and by whom:
    what the staff's patient page shows beside the current choice."""
    return [
        ConsentChange(
            getattr(record.event, "channel", ""),
            record.event_type == "ConsentGiven",
            record.recorded_at,
            record.actor,
        )
        for record in store.load(patient_id)
        if record.event_type in ("ConsentGiven", "ConsentWithdrawn")
    ]


def clinic_now(store: EventStore) -> Clinic:
    return Clinic.from_history(CLINIC_ID, [r.event for r in store.load(CLINIC_ID)])


def clinic_contact(store: EventStore) -> ClinicContact:
    """What messages to patients say of the clinic, as its stream has it now."""
    return clinic_now(store).contact


def patient_now(
    store: EventStore, patient_id: UUID, history: list[RecordedEvent] | None = None
) -> Patient:
    """The patient's record, or the one it was merged into (followed to the end): its
    consents, language and address are the person's now. `history`: the record's stream,
    when the caller has read it already."""
    found = store.load(patient_id) if history is None else history
    patient = Patient.from_history(patient_id, [r.event for r in found])
    for _ in range(10):  # a merge chain is short; a cycle cannot be recorded, but bound it
        if patient.merged_into is None:
            break
        kept = patient.merged_into
        patient = Patient.from_history(kept, [r.event for r in store.load(kept)])
    return patient
