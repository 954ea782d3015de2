"""A small clinic registered through the command bus: on a database (tests/integration) or
on the in-memory store (tests/unit)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from app.commands import (
    CommandBus,
    CreateAppointment,
    RegisterDoctor,
    RegisterPatient,
    SetWorkingHours,
)

from .conftest import CLINIC_TZ

WEEKDAYS = {
    d: [["09:00", "12:00"], ["14:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")
}


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CLINIC_TZ)


@dataclass
class Clinic:
    bus: CommandBus
    doctor_id: UUID
    patient_ids: list[UUID]

    def book(self, starts: str, minutes: int = 30, *, patient: int = 0, **extra) -> UUID:
        cmd = CreateAppointment(
            patient_id=self.patient_ids[patient],
            doctor_id=self.doctor_id,
            starts_at=local(starts),
            duration_minutes=minutes,
            **{"title": "Check-up", **extra},
        )
        return self.bus.handle(cmd).stream_id


def open_clinic(bus: CommandBus, patients: int = 3) -> Clinic:
    doctor = bus.handle(RegisterDoctor(full_name="Dr Ada Martin", specialty="General practice"))
    bus.handle(SetWorkingHours(doctor_id=doctor.stream_id, hours=WEEKDAYS, slot_minutes=15))
    patient_ids = [
        bus.handle(
            RegisterPatient(
                full_name=f"Patient {n}", date_of_birth="1980-02-03", phone="0612345678"
            )
        ).stream_id
        for n in range(patients)
    ]
    return Clinic(bus, doctor.stream_id, patient_ids)


def monday_ahead(weeks: int = 2) -> str:
    """A Monday some weeks from today, as 'YYYY-MM-DD', for tests that run on the real clock."""
    today = datetime.now(CLINIC_TZ).date()
    return str(today + timedelta(days=7 * weeks - today.weekday()))
