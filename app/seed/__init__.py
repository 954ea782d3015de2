"""Demo data made through the real command handlers, with the clock set back where history
needs it, so the demo store is a real history."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from uuid import UUID

from app.bootstrap import Services
from app.commands import Command, CommandBus, CreateAppointment
from app.commands.bus import run_batch
from app.commands.commands import SetClinicContact, SetPatientReminders
from app.domain.errors import DomainError
from app.eventstore import CommandRecord

from .people import DOCTORS, FIRST, LAST, RECEPTION, SPECIALTIES_FR, WEEKDAY_HOURS, demo_id
from .planner import DoctorPlan, Planner, register_people


def _demo_people(locale: str = "en") -> tuple[list[DoctorPlan], list[tuple[UUID, str]]]:
    doctors = []
    for n, (name, specialty, slot, hours) in enumerate(DOCTORS):
        if locale == "fr":
            specialty = SPECIALTIES_FR[specialty]
        doctors.append(DoctorPlan(demo_id("demo", "doctor", n), slot, hours, name, specialty))
    patients = [(demo_id("demo", "patient", n), f"{FIRST[n]} {LAST[n]}") for n in range(24)]
    return doctors, patients


def demo_plan(tz: tzinfo, now: datetime, locale: str = "en") -> list[tuple[datetime, Command]]:
    """The demo clinic's history relative to `now`, as timed commands in order; what the
    desk types (specialties, reasons) in the clinic's language."""
    doctors, patients = _demo_people(locale)
    planner = Planner(random.Random(20270111), now, tz, "demo", locale=locale)
    register_people(planner, now - timedelta(days=30), doctors, patients)
    agree_to_reminders(planner, now - timedelta(days=29), patients, locale)
    planner.calendar(
        doctors, [p for p, _ in patients], range(-7, 8), lambda: planner.rng.uniform(0.25, 0.45)
    )
    return planner.ordered()


def agree_to_reminders(
    planner: Planner, at: datetime, patients: list[tuple[UUID, str]], locale: str
) -> None:
    """What the demo clinic says of itself in messages, and its patients' consents: most
    agreed to e-mails, some to text messages, one in four to nothing (so reminders show
    both what is sent and what is not)."""
    planner.add(
        at,
        SetClinicContact(
            command_id=planner.cid("clinic", "contact"),
            actor="admin",
            clinic_name="Centre médical du Parc" if locale == "fr" else "Park Medical Centre",
            address="12 rue des Lilas, 75011 Paris",
            phone="01 43 55 00 00",
            what_to_bring="Carte Vitale, ordonnances en cours"
            if locale == "fr"
            else "Your health card and current prescriptions",
        ),
    )
    for n, (patient_id, _) in enumerate(patients):
        channel = ("email", "email", "sms", "")[n % 4]
        planner.add(
            at,
            SetPatientReminders(
                command_id=planner.cid(patient_id, "reminders"),
                actor=RECEPTION[n % len(RECEPTION)],
                patient_id=patient_id,
                consents=frozenset([channel] if channel else []),
                preferred_channel=channel or "email",
            ),
        )


def seed_demo(
    services: Services,
    echo: Callable[[str], Any] = print,
    now: datetime | None = None,
    locale: str = "en",
) -> bool:
    """Load the demo clinic unless it is there already; returns whether it was loaded.

    Every command has a stable id, so a run that was interrupted is finished by the next
    one: what was done is replayed as done, the rest is carried out.
    """
    first_doctor = _demo_people()[0][0].doctor_id
    if _finished(services, "demo"):
        return False
    resuming = services.store.stream_version(first_doctor) > 0
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    clock = _StepClock(now)
    bus = CommandBus(
        services.store,
        tz=services.tz,
        clock=clock,
        after_commit=services.bus.after_commit,
        region=services.region,
    )
    skipped = 0
    plan = demo_plan(services.tz, now, locale)
    for at, command in plan:
        clock.at = at
        try:
            bus.handle(command)
        except DomainError:
            if not resuming:
                raise
            skipped += 1  # planned for another day than the interrupted run's
    _finish(services, "demo", first_doctor, now)
    booked = sum(isinstance(command, CreateAppointment) for _, command in plan)
    echo(f"{len(DOCTORS)} doctors, {len(FIRST)} patients, {booked} appointments.")
    if skipped:
        echo(f"Finished an interrupted run; {skipped} steps no longer fitted and were left out.")
    return True


def _marker(key: str) -> UUID:
    return demo_id(key, "finished")


def _finished(services: Services, key: str) -> bool:
    """Whether a seed run with this key went to its end."""
    return services.store.find_command(_marker(key)) is not None


def _finish(services: Services, key: str, stream_id: UUID, now: datetime) -> None:
    """Note in the command log that the whole seed run is done, so a rerun does nothing."""
    with services.store.transaction() as tx:
        tx.record_command(CommandRecord(_marker(key), "SeedFinished", stream_id, 0, None), now)


@dataclass
class _StepClock:
    at: datetime

    def __call__(self) -> datetime:
        return self.at


def seed_scale(services: Services, events: int, progress: Callable[..., Any]) -> int:
    """Add about `events` events of generated history through the handlers, in batches.

    Many doctors over ninety days, most slots booked. Idempotent per size: a second run
    with the same `events` does nothing, and one after an interruption carries on.
    """
    key = f"scale-{events}"
    rng = random.Random(events)
    appointments = math.ceil(events / 2.9)  # a generated appointment averages 2.9 events
    per_doctor = 1300  # 65 working days x 25 twenty-minute slots, 80% booked
    doctors = [
        DoctorPlan(
            demo_id(key, "doctor", n),
            20,
            {d: WEEKDAY_HOURS for d in ("mon", "tue", "wed", "thu", "fri")},
            f"Dr {rng.choice(FIRST)} {rng.choice(LAST)} {n}",
        )
        for n in range(max(1, math.ceil(appointments / per_doctor)))
    ]
    if _finished(services, key):
        return 0
    patients = [
        (demo_id(key, "patient", n), f"{rng.choice(FIRST)} {rng.choice(LAST)}")
        for n in range(max(50, appointments // 20))
    ]
    now = datetime.now(UTC).replace(microsecond=0)
    planner = Planner(rng, now, services.tz, key)
    register_people(planner, now - timedelta(days=120), doctors, patients)
    planner.calendar(doctors, [p for p, _ in patients], range(-60, 31), lambda: 0.8)
    before = services.store.count()
    steps = planner.ordered()
    with progress(length=len(steps), label="Writing history") as bar:
        for chunk in _chunks(steps, 1000):
            done = services.store.processed({command.command_id for _, command in chunk})
            todo = [s for s in chunk if s[1].command_id not in done]
            run_batch(services.store, services.tz, todo, services.region)
            bar.update(len(chunk))
    _finish(services, key, doctors[0].doctor_id, now)
    return services.store.count() - before


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
