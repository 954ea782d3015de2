"""Demo data made through the real command handlers, with the clock set back where history
needs it, so the demo store is a real history."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from app.bootstrap import Services
from app.commands import CommandBus
from app.commands.bus import run_batch

from .people import DOCTORS, FIRST, LAST, WEEKDAY_HOURS, demo_id
from .planner import DoctorPlan, Planner, register_people


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
    register_people(planner, now - timedelta(days=30), doctors, [(p, n) for p, n in patients])
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
    if services.store.stream_version(doctors[0].doctor_id) > 0:
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
            run_batch(services.store, services.tz, chunk)
            bar.update(len(chunk))
    return services.store.count() - before


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
