"""Turns a clinic's doctors, patients and calendar into timed commands, in the order they
happened: bookings made days before the visit, confirmations, check-ins on the day,
cancellations, no-shows and reschedules."""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from uuid import UUID

from app.commands import (
    CancelAppointment,
    CheckInAppointment,
    Command,
    CompleteAppointment,
    ConfirmAppointment,
    CreateAppointment,
    MarkNoShow,
    RegisterDoctor,
    RegisterPatient,
    RescheduleAppointment,
    SetWorkingHours,
)
from app.domain.clinic_time import local_day, same_local_day
from app.domain.doctor import parse_hours
from app.domain.rules import WEEKDAYS

from .people import RECEPTION, demo_id, words


@dataclass
class DoctorPlan:
    doctor_id: UUID
    slot: int
    hours: dict[str, list[list[str]]]
    name: str = ""
    specialty: str = "General practice"


@dataclass
class Planner:
    """Turns a clinic's staff and calendar into timed commands, in the order they happened."""

    rng: random.Random
    now: datetime
    tz: tzinfo
    key: str
    steps: list[tuple[datetime, int, Command]] = field(default_factory=list)
    locale: str = "en"  # the language of what the desk types (reasons)

    def add(self, at: datetime, command: Command) -> None:
        self.steps.append((at, len(self.steps), command))

    def ordered(self) -> list[tuple[datetime, Command]]:
        return [(at, cmd) for at, _, cmd in sorted(self.steps, key=lambda s: (s[0], s[1]))]

    def cid(self, *parts: object) -> UUID:
        return demo_id(self.key, "command", *parts)

    def between(self, start: datetime, end: datetime) -> datetime:
        if end <= start:
            return start
        return start + (end - start) * self.rng.uniform(0.05, 0.95)

    def cells(self, doctor: DoctorPlan, day: date) -> list[datetime]:
        """The starts of every slot the doctor works that day, in UTC."""
        starts = []
        for start, end in parse_hours(doctor.hours).get(WEEKDAYS[day.weekday()], []):
            moment = datetime.combine(day, start, self.tz)
            while moment + timedelta(minutes=doctor.slot) <= datetime.combine(day, end, self.tz):
                starts.append(moment.astimezone(UTC))
                moment += timedelta(minutes=doctor.slot)
        return starts

    def appointment(
        self, n: str, doctor: DoctorPlan, patient: UUID, start: datetime, target: datetime | None
    ) -> None:
        """One appointment's life, from booking to its outcome, each step at its own time."""
        rng, now, length = self.rng, self.now, timedelta(minutes=doctor.slot)
        appointment_id = demo_id(self.key, "appointment", n)
        clerk = rng.choice(RECEPTION)
        first_visit = min(start, target or start)
        booked = min(first_visit, now) - timedelta(days=rng.uniform(1, 12))
        self.add(
            booked,
            CreateAppointment(
                command_id=self.cid(n, "book"),
                actor=clerk,
                appointment_id=appointment_id,
                patient_id=patient,
                doctor_id=doctor.doctor_id,
                starts_at=start.astimezone(self.tz),
                duration_minutes=doctor.slot,
                title=rng.choice(words(self.locale)[0]),
            ),
        )
        last = booked
        if target is not None:
            last = self.between(booked, min(first_visit, now))
            self.add(
                last,
                RescheduleAppointment(
                    command_id=self.cid(n, "move"),
                    actor=clerk,
                    appointment_id=appointment_id,
                    starts_at=target.astimezone(self.tz),
                    duration_minutes=doctor.slot,
                    reason="Patient asked for another time",
                ),
            )
            start = target
        roll = rng.random()
        if roll < 0.12:  # cancelled before the visit, pending or confirmed
            if roll < 0.06:
                last = self.confirm(n, appointment_id, last, start)
            self.add(
                self.between(last, min(start, now)),
                CancelAppointment(
                    command_id=self.cid(n, "cancel"),
                    actor=rng.choice(RECEPTION),
                    appointment_id=appointment_id,
                    reason=rng.choice(words(self.locale)[1]),
                ),
            )
            return
        if start - timedelta(minutes=10) > now:  # still ahead: pending or confirmed
            if roll < 0.6:
                self.confirm(n, appointment_id, last, start)
            return
        last = self.confirm(n, appointment_id, last, start)
        if roll > 0.92 and start + timedelta(minutes=20) <= now:
            self.add(
                start + timedelta(minutes=20),
                MarkNoShow(
                    command_id=self.cid(n, "no-show"), actor=clerk, appointment_id=appointment_id
                ),
            )
            return
        self.add(
            start - timedelta(minutes=rng.randint(1, 10)),
            CheckInAppointment(
                command_id=self.cid(n, "check-in"),
                actor=rng.choice(RECEPTION),
                appointment_id=appointment_id,
            ),
        )
        # Some of today's patients are still with the doctor (or not yet marked done).
        still_in = same_local_day(start, now, self.tz)
        if start + length <= now and not (still_in and 0.6 < roll < 0.75):
            self.add(
                start + length,
                CompleteAppointment(
                    command_id=self.cid(n, "complete"),
                    actor=doctor.name,
                    appointment_id=appointment_id,
                ),
            )

    def confirm(self, n: str, appointment_id: UUID, after: datetime, start: datetime) -> datetime:
        at = self.between(after, min(start, self.now))
        self.add(
            at,
            ConfirmAppointment(
                command_id=self.cid(n, "confirm"),
                actor=self.rng.choice(RECEPTION),
                appointment_id=appointment_id,
            ),
        )
        return at

    def calendar(
        self,
        doctors: list[DoctorPlan],
        patients: list[UUID],
        days: range,
        fill: Callable[[], float],
    ) -> None:
        """Book a share of every doctor's slots on each day; some are later moved."""
        count = 0
        today = local_day(self.now, self.tz)
        for offset in days:
            day = today + timedelta(days=offset)
            for doctor in doctors:
                cells = self.cells(doctor, day)
                self.rng.shuffle(cells)
                wanted = min(len(cells), round(len(cells) * fill()))
                chosen, spare = cells[:wanted], cells[wanted:]
                for start in chosen:
                    target = spare.pop() if spare and self.rng.random() < 0.08 else None
                    self.appointment(
                        f"{doctor.doctor_id}:{count}",
                        doctor,
                        self.rng.choice(patients),
                        start,
                        target,
                    )
                    count += 1


def register_people(
    planner: Planner, at: datetime, doctors: list[DoctorPlan], patients: list[tuple[UUID, str]]
) -> None:
    rng = planner.rng
    for doctor in doctors:
        planner.add(
            at,
            RegisterDoctor(
                command_id=planner.cid(doctor.doctor_id, "register"),
                actor="admin",
                doctor_id=doctor.doctor_id,
                full_name=doctor.name,
                specialty=doctor.specialty,
                slot_minutes=doctor.slot,
            ),
        )
        planner.add(
            at,
            SetWorkingHours(
                command_id=planner.cid(doctor.doctor_id, "hours"),
                actor="admin",
                doctor_id=doctor.doctor_id,
                hours=doctor.hours,
                slot_minutes=doctor.slot,
            ),
        )
    for patient_id, name in patients:
        first, last = name.split(" ", 1)
        planner.add(
            at,
            RegisterPatient(
                command_id=planner.cid(patient_id, "register"),
                actor=rng.choice(RECEPTION),
                patient_id=patient_id,
                full_name=name,
                date_of_birth=date(rng.randint(1938, 2022), rng.randint(1, 12), rng.randint(1, 28)),
                # French mobiles: 06 10 to 06 38 are all allotted (06 39 and 06 9x are
                # not, or are overseas), so every generated number is a valid one.
                phone=f"06 {rng.randint(10, 38)} {rng.randint(10, 99)} {rng.randint(10, 99)} "
                f"{rng.randint(10, 99)}",
                email=f"{_ascii(first)}.{_ascii(last)}@example.org".lower(),
            ),
        )


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
