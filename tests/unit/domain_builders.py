"""Builders for domain tests: a doctor, a patient and an appointment in any status."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

from app.domain.appointment import Appointment, Status
from app.domain.doctor import Doctor
from app.domain.events import (
    AppointmentCancelled,
    AppointmentCheckedIn,
    AppointmentCompleted,
    AppointmentConfirmed,
    AppointmentCreated,
    AppointmentMarkedNoShow,
    DoctorRegistered,
    Event,
    PatientRegistered,
    WorkingHoursSet,
)
from app.domain.patient import Patient

TZ = ZoneInfo("Europe/Paris")
WEEKDAY_HOURS = {
    d: [["09:00", "12:00"], ["14:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")
}


def local(text: str) -> datetime:
    """A clinic-local moment, e.g. local('2027-01-12 10:00')."""
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


def doctor(hours: dict | None = None) -> Doctor:
    return Doctor.from_history(
        uuid4(),
        [
            DoctorRegistered("Dr Ada Martin", "General practice", 15),
            WorkingHoursSet(WEEKDAY_HOURS if hours is None else hours, 15),
        ],
    )


def patient() -> Patient:
    return Patient.from_history(
        uuid4(), [PatientRegistered("Jean Dupont", date(1980, 2, 3), "0612345678", "j@d.fr")]
    )


# The events that bring a fresh appointment to each status.
PATH: dict[Status, list[Event]] = {
    Status.PENDING: [],
    Status.CONFIRMED: [AppointmentConfirmed()],
    Status.CHECKED_IN: [AppointmentConfirmed(), AppointmentCheckedIn()],
    Status.COMPLETED: [AppointmentConfirmed(), AppointmentCheckedIn(), AppointmentCompleted()],
    Status.CANCELLED: [AppointmentCancelled("Patient called")],
    Status.NO_SHOW: [AppointmentConfirmed(), AppointmentMarkedNoShow()],
}


def appointment(
    status: Status,
    *,
    doctor_id: UUID | None = None,
    starts: str = "2027-01-12 10:00",
    ends: str = "2027-01-12 10:30",
) -> Appointment:
    created = AppointmentCreated(
        uuid4(), doctor_id or uuid4(), local(starts), local(ends), "Check-up"
    )
    return Appointment.from_history(uuid4(), [created, *PATH[status]])
