"""A clinic of each test's own, registered through the real command bus; the stack's worker
projects it, as it would anything staff enter."""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.commands import (
    CommandBus,
    CreateAppointment,
    RegisterDoctor,
    RegisterPatient,
    SetWorkingHours,
)
from app.projections import tables as rm

from ..integration.projecting import wait_until
from .clock import CLINIC_TZ

# Every day, around the clock: a test books today (to check the patient in) whatever the
# hour the suite runs at, and tomorrow whatever today is.
OPEN_EVERY_DAY = {
    d: [["00:00", "23:59"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
}


@dataclass(frozen=True)
class Person:
    id: UUID
    name: str


@dataclass
class Clinic:
    """Two doctors (15- and 30-minute slots) and two patients, named for this test alone."""

    bus: CommandBus
    read_engine: Engine
    tag: str
    doctors: list[Person]
    patients: list[Person]
    appointments: list[UUID] = field(default_factory=list)

    def book(
        self,
        starts_at: datetime,
        minutes: int = 30,
        *,
        doctor: int = 0,
        patient: int = 0,
        title: str = "Check-up",
    ) -> UUID:
        """Book through the bus (not the UI); wait_for_read_models() then shows it."""
        appointment_id = self.bus.handle(
            CreateAppointment(
                patient_id=self.patients[patient].id,
                doctor_id=self.doctors[doctor].id,
                starts_at=starts_at,
                duration_minutes=minutes,
                title=title,
            )
        ).stream_id
        self.appointments.append(appointment_id)
        return appointment_id

    def wait_for_read_models(self, timeout: float = 20) -> None:
        """Until rm_doctors and rm_patients show everything made here, and rm_appointments
        every appointment as its latest event left it (a confirmation through the bus, not
        only the booking: a page drawn before it is projected offers Confirm, not Check in)."""
        wanted = [
            (rm.doctors.c.doctor_id, [d.id for d in self.doctors]),
            (rm.patients.c.patient_id, [p.id for p in self.patients]),
        ]
        latest = {a: self.bus.store.stream_version(a) for a in self.appointments}
        appointments = rm.appointments.c

        def shown() -> bool:
            with self.read_engine.connect() as conn:
                projected = dict(
                    conn.execute(
                        sa.select(appointments.appointment_id, appointments.version).where(
                            appointments.appointment_id.in_(latest)
                        )
                    ).all()
                )
                return projected == latest and all(
                    conn.scalar(sa.select(sa.func.count()).where(column.in_(ids))) == len(ids)
                    for column, ids in wanted
                    if ids
                )

        wait_until(shown, timeout=timeout, what=f"the read models to show clinic {self.tag}")

    def wait_for_everything_projected(self, timeout: float = 20) -> None:
        """Until every projection has passed the last event in the store (for what
        wait_for_read_models does not look at: the clinic's settings, visit types...)."""
        behind = sa.text(
            "SELECT count(*) FROM projection_checkpoints c, (SELECT tx_id, position FROM "
            "events ORDER BY tx_id DESC, position DESC LIMIT 1) e "
            "WHERE (c.tx_id, c.position) < (e.tx_id, e.position)"
        )

        def level() -> bool:
            with self.read_engine.connect() as conn:
                return conn.scalar(behind) == 0

        wait_until(level, timeout=timeout, what="every projection to reach the last event")


def search_for(person: Person) -> str:
    """What to type in a patient search to find `person`: the end of their name, which is
    this test's tag. A shared first name would list every test's namesake before them (the
    picker shows ten matches), and the stack keeps every test's patients."""
    return person.name.split()[-1]


def open_clinic(bus: CommandBus, read_engine: Engine) -> Clinic:
    """Register the doctors, their hours and the patients, under a fresh tag."""
    tag = "".join(random.choices(string.ascii_lowercase, k=6)).capitalize()
    doctors = []
    for name, specialty, slot in (
        (f"Dr Ada Martin {tag}", "General practice", 15),
        (f"Dr Louis Bernard {tag}", "Cardiology", 30),
    ):
        doctor_id = bus.handle(
            RegisterDoctor(full_name=name, specialty=specialty, slot_minutes=slot)
        ).stream_id
        bus.handle(SetWorkingHours(doctor_id=doctor_id, hours=OPEN_EVERY_DAY, slot_minutes=slot))
        doctors.append(Person(doctor_id, name))
    patients = []
    for name, born, phone in (
        (f"Camille Durand {tag}", "1984-05-17", "0612345678"),
        (f"Hugo Lefebvre {tag}", "1979-11-02", "0698765432"),
    ):
        patient_id = bus.handle(
            RegisterPatient(full_name=name, date_of_birth=born, phone=phone)
        ).stream_id
        patients.append(Person(patient_id, name))
    return Clinic(bus, read_engine, tag, doctors, patients)


def upcoming(hhmm: str, *, days: int = 1) -> datetime:
    """`hhmm` in the clinic's time zone `days` from today (tomorrow by default): the server
    runs on the real clock, so bookings must lie ahead of it."""
    day = datetime.now(CLINIC_TZ).date() + timedelta(days=days)
    return datetime.combine(day, datetime.strptime(hhmm, "%H:%M").time(), tzinfo=CLINIC_TZ)
