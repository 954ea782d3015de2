"""First available: how long the search for the first free times takes, on PostgreSQL.

Builds a scratch database (its name must contain "bench"; default
`rendezvous_bench_first_free`, dropped and recreated) by `alembic upgrade`, then writes
read-model rows directly (the search reads only rm_doctors and rm_appointments): a
specialty of 10 doctors (weekdays 09:00-12:00 and 14:00-18:00, 30-minute slots) with every
slot booked for the next 60 days, and 40 doctors of other specialties half booked for 90
days, so the index holds other doctors' rows too. Then, in process, it times

  first free    first_free(specialty=..., count=10): the first free time is 60 days out,
                so it reads five 14-day windows of the 10 doctors' appointments
  one day       free_slots_for_day for one doctor and one day (what the booking form runs)
  SELECT 1      a plain round trip on the same engine

and prints the median and p99 of each, and first free's median over the others'.

    .venv/bin/python bench/first_free.py             # 200 calls each
    .venv/bin/python bench/first_free.py --quick     # 20 calls, 20 days booked: a smoke test
    .venv/bin/python bench/first_free.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/rendezvous_bench_first_free
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _pg  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/rendezvous_bench_first_free"
CLINIC_TZ = "Europe/Paris"
HOURS = {d: [["09:00", "12:00"], ["14:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
SPECIALTY = "Cardiology"


def build(url: str, *, booked_days: int, others: int) -> tuple[Any, uuid.UUID, date]:
    """The scratch database with its read models filled; the app, a doctor, the first day."""
    _pg.recreate_database(url, extensions=["btree_gist", "pg_trgm"])
    os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
    import flask_migrate
    import sqlalchemy as sa

    from app import create_app
    from app.domain.availability import Schedule
    from app.projections import tables as t
    from app.queries.slots import slot_grid

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "CLINIC_TIMEZONE": CLINIC_TZ})
    tz = ZoneInfo(CLINIC_TZ)
    with app.app_context():
        flask_migrate.upgrade(directory=str(ROOT / "migrations"))
    engine = app.extensions["rendezvous"].read_engine
    now = datetime.now(UTC)
    today = now.astimezone(tz).date()
    doctors, appointments = [], []
    for n in range(10 + others):
        doctor_id = uuid.uuid4()
        mine = n < 10
        name = f"Dr Bench {n:03d}"
        doctors.append(
            {
                "doctor_id": doctor_id, "full_name": name, "name_key": name.lower(),
                "specialty": SPECIALTY if mine else f"Specialty {n % 8}", "slot_minutes": 30,
                "hours": HOURS, "registered_at": now, "changed_at": now, "version": 2,
            }
        )  # fmt: skip
        for offset in range(booked_days if mine else 90):
            day = today + timedelta(days=offset)
            for i, slot in enumerate(
                slot_grid(day, Schedule.from_data("", HOURS, None, None), 30, tz)
            ):
                if not mine and i % 2:
                    continue
                appointments.append(
                    {
                        "appointment_id": uuid.uuid4(), "patient_id": uuid.uuid4(),
                        "doctor_id": doctor_id, "patient_name": "Bench Patient",
                        "patient_name_key": "bench patient", "patient_phone": "+33612345678",
                        "doctor_name": name, "doctor_specialty": SPECIALTY, "title": "Check-up",
                        "status": "confirmed", "starts_at": slot.starts_at,
                        "ends_at": slot.ends_at, "local_day": day, "booked_at": now,
                        "booked_by": "bench", "changed_at": now, "changed_by": "bench",
                        "version": 2, "reschedules": 0,
                    }
                )  # fmt: skip
    with engine.begin() as conn:
        conn.execute(sa.insert(t.doctors), doctors)
        for start in range(0, len(appointments), 5000):
            conn.execute(sa.insert(t.appointments), appointments[start : start + 5000])
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(sa.text("ANALYZE"))
    print(f"{len(doctors)} doctors, {len(appointments)} appointments; {booked_days} days booked")
    return app, doctors[0]["doctor_id"], today


def timings(call: Callable[[], Any], calls: int) -> tuple[float, float]:
    for _ in range(max(3, calls // 10)):  # warm up the pool and the plans
        call()
    spent = []
    for _ in range(calls):
        started = time.perf_counter()
        call()
        spent.append((time.perf_counter() - started) * 1000)
    spent.sort()
    return statistics.median(spent), spent[min(len(spent) - 1, int(len(spent) * 0.99))]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="20 calls, 20 days booked")
    args = parser.parse_args(argv)
    import sqlalchemy as sa

    from app.queries.agenda import free_slots_for_day
    from app.queries.first_free import first_free

    calls, days = (20, 20) if args.quick else (args.calls, 60)
    app, doctor_id, today = build(args.database_url, booked_days=days, others=40)
    engine, tz = app.extensions["rendezvous"].read_engine, ZoneInfo(CLINIC_TZ)
    now = datetime.now(UTC)
    found = first_free(engine, specialty=SPECIALTY, from_day=today, tz=tz, now=now)
    first = found.times[0].starts_at.astimezone(tz) if found.times else None
    print(f"first free time: {first} ({len(found.times)} found)")
    assert first is not None and first.date() >= today + timedelta(days=days)

    def select_one() -> None:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))

    rows = {
        "first free (10 doctors)": lambda: first_free(
            engine, specialty=SPECIALTY, from_day=today, tz=tz, now=now
        ),
        "one day (one doctor)": lambda: free_slots_for_day(
            engine, doctor_id, today + timedelta(days=1), tz=tz, now=now
        ),
        "SELECT 1": select_one,
    }
    results = {name: timings(call, calls) for name, call in rows.items()}
    print(f"\n{calls} calls each, in process\n")
    print("| query | median ms | p99 ms | first free's median / this |")
    print("| --- | --- | --- | --- |")
    ours = results["first free (10 doctors)"][0]
    for name, (median, p99) in results.items():
        print(f"| {name} | {median:.2f} | {p99:.2f} | {ours / median:.1f} |")
    engine.dispose()
    _pg.drop_database(args.database_url)


if __name__ == "__main__":
    main()
