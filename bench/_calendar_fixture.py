"""A clinic week for the calendar benchmarks, written into a copy of a bench store.

The issue measures "the day grid for 10 doctors on a full day and the week capacity for 30
doctors" on the ten-thousand- and the million-event stores. Neither store has that on one
screen (the small one has six doctors; the big one 270 of the seed's 20-minute doctors), so
the same week is added to each copy: 30 doctors of one specialty, 15- and 30-minute slots
(rows of 15 minutes), 08:00-12:30 and 13:30-19:00 on weekdays, 85% of their slots booked
in a week past the seeded calendar, with the seed's mix of outcomes (confirmed, moved,
cancelled). The same commands go to both stores, through the handlers the seed uses
(`run_batch`), then the projections catch up: the two copies differ only in the history
around that week.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from app import create_app
from app.commands.bus import run_batch
from app.domain.clinic_time import local_day
from app.extensions import services
from app.seed.people import FIRST, LAST, demo_id
from app.seed.planner import DoctorPlan, Planner, register_people

SPECIALTY = "Bench calendar"
DOCTORS = 30
PATIENTS = 300
WEEK_AHEAD = 42  # days: the seed books from 60 days back to 30 ahead
HOURS = [["08:00", "12:30"], ["13:30", "19:00"]]
FILL = 0.85
KEY = "bench-calendar"
BATCH = 1000


@dataclass(frozen=True)
class Fixture:
    day: date  # the week's Wednesday: a full day
    monday: date
    specialty: str
    doctors: int
    events: int


def add_week(url: str) -> Fixture:
    """Write the week into the store at `url` (a bench copy) and project it; the week is
    six weeks ahead; run again the same day on the same store, it writes nothing more."""
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": None, "CLINIC_TIMEZONE": "Europe/Paris"}
    )
    with app.app_context():
        found = services()
        rng = random.Random(KEY)
        now = datetime.now(UTC).replace(microsecond=0)
        today = local_day(now, found.tz)
        ahead = today + timedelta(days=WEEK_AHEAD)
        monday = ahead - timedelta(days=ahead.weekday())
        weekdays = {day: HOURS for day in ("mon", "tue", "wed", "thu", "fri")}
        doctors = [
            # Named so that the grid's first page (ten, by name) holds both slot lengths.
            DoctorPlan(
                demo_id(KEY, "doctor", n),
                15 if n % 3 else 30,
                weekdays,
                f"Dr {FIRST[n % len(FIRST)]} {LAST[n % len(LAST)]} {n:02d}",
                SPECIALTY,
            )
            for n in range(DOCTORS)
        ]
        patients = [
            (demo_id(KEY, "patient", n), f"{rng.choice(FIRST)} {rng.choice(LAST)}")
            for n in range(PATIENTS)
        ]
        planner = Planner(rng, now, found.tz, KEY)
        register_people(planner, now - timedelta(days=30), doctors, patients)
        first = (monday - today).days
        planner.calendar(doctors, [p for p, _ in patients], range(first, first + 5), lambda: FILL)
        before = found.store.count()
        steps = planner.ordered()
        for start in range(0, len(steps), BATCH):
            chunk = steps[start : start + BATCH]
            # A second run on the same store (--in-place) writes nothing again.
            done = found.store.processed({command.command_id for _, command in chunk})
            todo = [step for step in chunk if step[1].command_id not in done]
            run_batch(found.store, found.tz, todo, found.region)
        found.projector.run_all()
        events = found.store.count() - before
    return Fixture(monday + timedelta(days=2), monday, SPECIALTY, DOCTORS, events)
