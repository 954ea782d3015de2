"""Demo data made through the real command handlers, with the clock set back where history
needs it, so the demo store is a real history: bookings made days before the visit,
confirmations, check-ins on the day, cancellations, no-shows and reschedules."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from app.bootstrap import Services
from app.commands import (
    CancelAppointment,
    CheckInAppointment,
    Command,
    CommandBus,
    CompleteAppointment,
    ConfirmAppointment,
    CreateAppointment,
    MarkNoShow,
    RegisterDoctor,
    RegisterPatient,
    RescheduleAppointment,
    SetWorkingHours,
)
from app.commands.bus import run_batch
from app.domain.doctor import parse_hours
from app.domain.rules import WEEKDAYS

NAMESPACE = uuid5(NAMESPACE_URL, "https://rendezvous.example/demo")
RECEPTION = ("amelie", "bruno", "chloe")

WEEKDAY_HOURS = [["08:30", "12:30"], ["14:00", "18:30"]]
DOCTORS: list[tuple[str, str, int, dict[str, list[list[str]]]]] = [
    (
        "Dr Camille Martin",
        "General practice",
        15,
        {d: WEEKDAY_HOURS for d in ("mon", "tue", "wed", "thu", "fri")},
    ),
    (
        "Dr Hugo Bernard",
        "Paediatrics",
        20,
        {
            **{d: [["09:00", "12:00"], ["13:30", "17:30"]] for d in ("mon", "tue", "wed", "thu")},
            "sat": [["09:00", "12:00"]],
        },
    ),
    (
        "Dr Léa Petit",
        "Dermatology",
        30,
        {d: [["09:00", "13:00"], ["14:00", "17:00"]] for d in ("tue", "wed", "thu", "fri")},
    ),
    (
        "Dr Samir Haddad",
        "Cardiology",
        30,
        {d: [["08:00", "12:00"], ["13:00", "16:00"]] for d in ("mon", "wed", "fri")},
    ),
]
FIRST = [
    "Jeanne",
    "Louis",
    "Inès",
    "Gabriel",
    "Chloé",
    "Nathan",
    "Manon",
    "Yanis",
    "Sarah",
    "Lucas",
    "Emma",
    "Adam",
    "Zoé",
    "Hugo",
    "Lina",
    "Arthur",
    "Jade",
    "Malo",
    "Rose",
    "Noah",
    "Alice",
    "Tom",
    "Léna",
    "Éric",
]
LAST = [
    "Dupont",
    "Moreau",
    "Lefebvre",
    "Garcia",
    "Roux",
    "Fournier",
    "Girard",
    "Bonnet",
    "Lambert",
    "Fontaine",
    "Chevalier",
    "Robin",
    "Mercier",
    "Blanc",
    "Guerin",
    "Muller",
    "Henry",
    "Perrin",
    "Morel",
    "Mathieu",
    "Clement",
    "Gauthier",
    "Dumont",
    "Lopez",
]
REASONS = [
    "Check-up",
    "Follow-up visit",
    "Vaccination",
    "Blood test results",
    "Back pain",
    "Skin rash",
    "Prescription renewal",
    "Chest pain follow-up",
    "Sore throat",
    "Annual review",
    "Allergy consultation",
    "Sports certificate",
]
CANCEL_REASONS = [
    "Patient called to cancel",
    "Patient is unwell",
    "Doctor unavailable",
    "Booked by mistake",
    "Patient found an earlier slot elsewhere",
]


def demo_id(*parts: object) -> UUID:
    """A stable id, so running the seed again finds what it made the first time."""
    return uuid5(NAMESPACE, ":".join(str(p) for p in parts))


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
                title=rng.choice(REASONS),
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
                    reason=rng.choice(CANCEL_REASONS),
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
        still_in = start.astimezone(self.tz).date() == now.astimezone(self.tz).date()
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
    ) -> int:
        """Book a share of every doctor's slots on each day; some are later moved."""
        count = 0
        today = self.now.astimezone(self.tz).date()
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
        return count


def _register(
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
                phone=f"06 {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} "
                f"{rng.randint(10, 99)}",
                email=f"{_ascii(first)}.{_ascii(last)}@example.org".lower(),
            ),
        )


def _ascii(text: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _demo_people() -> tuple[list[DoctorPlan], list[tuple[UUID, str]]]:
    doctors = []
    for n, (name, specialty, slot, hours) in enumerate(DOCTORS):
        doctors.append(DoctorPlan(demo_id("demo", "doctor", n), slot, hours, name, specialty))
    patients = [(demo_id("demo", "patient", n), f"{FIRST[n]} {LAST[n]}") for n in range(24)]
    return doctors, patients


def seed_demo(
    services: Services, echo: Callable[[str], Any] = print, now: datetime | None = None
) -> bool:
    """Load the demo clinic unless it is there already; returns whether it was loaded."""
    doctors, patients = _demo_people()
    if services.store.stream_version(doctors[0].doctor_id) > 0:
        return False
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    planner = Planner(random.Random(20270111), now, services.tz, "demo")
    _register(planner, now - timedelta(days=30), doctors, [(p, n) for p, n in patients])
    count = planner.calendar(
        doctors, [p for p, _ in patients], range(-7, 8), lambda: planner.rng.uniform(0.25, 0.45)
    )
    clock = _StepClock(now)
    bus = CommandBus(
        services.store, tz=services.tz, clock=clock, after_commit=services.bus.after_commit
    )
    for at, command in planner.ordered():
        clock.at = at
        bus.handle(command)
    echo(f"{len(doctors)} doctors, {len(patients)} patients, {count} appointments.")
    return True


@dataclass
class _StepClock:
    at: datetime

    def __call__(self) -> datetime:
        return self.at


def seed_scale(services: Services, events: int, progress: Callable[..., Any]) -> int:
    """Add about `events` events of generated history through the handlers, in batches.

    Many doctors over ninety days, most slots booked. Idempotent per size: a second run
    with the same `events` finds its first doctor and does nothing.
    """
    key = f"scale-{events}"
    rng = random.Random(events)
    appointments = math.ceil(events / 2.6)
    per_doctor = 1000  # about 64 working days of 20-minute slots, 80% booked
    doctors = [
        DoctorPlan(
            demo_id(key, "doctor", n),
            20,
            {d: WEEKDAY_HOURS for d in ("mon", "tue", "wed", "thu", "fri")},
            f"Dr {rng.choice(FIRST)} {rng.choice(LAST)} {n}",
        )
        for n in range(max(1, math.ceil(appointments / per_doctor)))
    ]
    if services.store.stream_version(doctors[0].doctor_id) > 0:
        return 0
    patients = [
        (demo_id(key, "patient", n), f"{rng.choice(FIRST)} {rng.choice(LAST)}")
        for n in range(max(50, appointments // 20))
    ]
    now = datetime.now(UTC).replace(microsecond=0)
    planner = Planner(rng, now, services.tz, key)
    _register(planner, now - timedelta(days=120), doctors, patients)
    planner.calendar(doctors, [p for p, _ in patients], range(-60, 31), lambda: 0.8)
    before = services.store.count()
    steps = planner.ordered()
    with progress(length=len(steps), label="Writing history") as bar:
        for chunk in _chunks(steps, 1000):
            run_batch(services.store, services.tz, chunk)
            bar.update(len(chunk))
    return services.store.count() - before


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
