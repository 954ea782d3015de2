"""Projection speed: a full rebuild of a million-event log, and lag under a steady load.

1. Rebuild. The log in BENCH_EVENTS_URL (default `rendezvous_bench_events`; fill it once
   with `flask seed-demo --scale 1000000`, see docs/benchmarks.md) is projected twice, into
   two scratch read databases on the same server:

     rendezvous     `Maintenance.rebuild` for each projection, as `flask projections rebuild
                    --all` runs it: shadow tables, replay, secondary indexes, swap.
     plain psycopg  bench/_plain_projector.py: one pass over the log in pages, rows kept in
                    dictionaries, each page's changed rows upserted in one statement per
                    table; then the same secondary indexes.

   Both build the same six tables; the script checks that their contents are identical
   (a checksum per table) before it prints the ratio.

2. Lag. A real Celery worker (`celery -A celery_worker worker -B`) on Redis projects a
   scratch database while this process commits bookings and confirmations at a steady rate
   through the real command bus. For each command: from the moment its transaction has
   committed (the bus's after-commit hook) to the moment its row, at its new version, is
   visible in the appointments read model (polled every millisecond).

Run from the repository root:

    .venv/bin/python bench/project.py                  # both parts
    .venv/bin/python bench/project.py --skip-lag       # rebuild only
    .venv/bin/python bench/project.py --skip-rebuild --rate 50 --seconds 30
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import _pg
import psycopg
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # see bench/append.py: the repo root must come first
    sys.path.insert(0, str(ROOT))

from _plain_projector import TABLES, PlainProjector  # noqa: E402

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
TZ = "Europe/Paris"


def app_config(write_url: str, read_url: str | None = None, **extra: object) -> dict:  # type: ignore[type-arg]
    from app.config import celery_config

    return {
        "SQLALCHEMY_DATABASE_URI": write_url,
        "READ_DATABASE_URI": read_url,
        "CLINIC_TIMEZONE": TZ,
        "SECRET_KEY": "bench",
        "CELERY": celery_config(None, "bench", 5.0),
        **extra,
    }


def build_app(write_url: str, read_url: str | None = None, **extra: object):  # type: ignore[no-untyped-def]
    from app import create_app

    return create_app(app_config(write_url, read_url, **extra))


def migrate(app) -> None:  # type: ignore[no-untyped-def]
    import flask_migrate

    with app.app_context():
        flask_migrate.upgrade()


# -- 1. rebuild --


def checksums(url: str) -> dict[str, tuple[int, str]]:
    """Row count and an order-independent digest of each read-model table."""
    found = {}
    with psycopg.connect(_pg.conninfo(url)) as conn:
        for table, (columns, keys, _) in TABLES.items():
            row = conn.execute(
                f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY "
                f"{', '.join(keys)}), '')) FROM (SELECT {', '.join(columns)} FROM {table}) t"
            ).fetchone()
            found[table] = (row[0], row[1])
    return found


def bench_rebuild(events_url: str, page: int, minimum: int, processes_count: int) -> None:
    from app import processes
    from app.ops.parallel import Workers, rebuild_costs, rebuild_in_processes
    from app.projections.tables import metadata

    events = _pg.count_rows(events_url, "events")
    if events < minimum:
        sys.exit(
            f"{_pg.database_name(events_url)} holds {events:,} events; at least {minimum:,} "
            "are needed. Fill it once (about 15 minutes):\n"
            f"  DATABASE_URL_WRITE={events_url} .venv/bin/flask --app app db upgrade\n"
            f"  DATABASE_URL_WRITE={events_url} .venv/bin/flask --app app seed-demo "
            "--scale 1000000"
        )
    read_url = _pg.sqlalchemy_url(SERVER, database="rendezvous_bench_read")
    plain_url = _pg.sqlalchemy_url(SERVER, database="rendezvous_bench_plain")
    for url in (read_url, plain_url):
        _pg.recreate_database(url, extensions=["pg_trgm"])
    print(f"Rebuilding from {events:,} events in {_pg.database_name(events_url)}")

    app = build_app(events_url, read_url)
    migrate(app)
    services = app.extensions["rendezvous"]
    _pg.checkpoint(read_url)
    names = services.projector.names
    cost = rebuild_costs(services.projector, names)
    print(f"  rendezvous: {len(names)} projections, {processes_count} at a time, as "
          "`flask projections rebuild --all` runs them")  # fmt: skip
    started = time.perf_counter()
    rebuilt = rebuild_in_processes(
        names,
        workers=Workers(processes.start, processes.rebuild),
        processes=processes_count,
        cost=cost,
        cache_rows=200_000,
        chunk=page,  # the plain loop reads pages of the same size
        config=app_config(events_url, read_url),
        done=lambda r: print(
            f"  rendezvous {r.name:<13} {r.events:>9,} events applied  {r.seconds:7.1f} s  "
            f"peak {r.peak_kib / 1024:,.0f} MiB",
            flush=True,
        ),
    )
    ours = time.perf_counter() - started
    peak = sum(sorted((r.peak_kib for r in rebuilt), reverse=True)[:processes_count]) / 1024

    engine = sa.create_engine(plain_url)
    tables = [metadata.tables[name] for name in TABLES]
    metadata.create_all(engine, tables=tables)
    with engine.begin() as conn:
        for table in tables:
            for index in table.indexes:
                conn.exec_driver_sql(f'DROP INDEX IF EXISTS "{index.name}"')
    _pg.checkpoint(plain_url)
    started = time.perf_counter()
    seen = PlainProjector(ZoneInfo(TZ), services.region).run(
        _pg.conninfo(events_url), _pg.conninfo(plain_url), page, lambda n: None
    )
    with engine.begin() as conn:
        for table in tables:
            for index in table.indexes:
                index.create(conn)
    plain = time.perf_counter() - started
    engine.dispose()
    print(f"  plain psycopg loop: {seen:,} events read")

    same = checksums(read_url) == checksums(plain_url)
    print()
    # The plain loop builds the read models it has tables for (TABLES); ours builds them all.
    built = f"full rebuild, {len(services.projector.names)} projections"
    print(f"{built:<34}{'seconds':>10}{'events/s':>12}{'ratio':>8}")
    print(f"{'rendezvous (rebuild --all)':<34}{ours:>10.1f}{events / ours:>12,.0f}"
          f"{plain / ours:>8.2f}")  # fmt: skip
    print(f"{'plain psycopg loop':<34}{plain:>10.1f}{events / plain:>12,.0f}{1:>8.2f}")
    print(f"identical read models: {'yes' if same else 'NO'}")
    print(f"peak memory of the rebuild: at most {peak:,.0f} MiB (the {processes_count} largest "
          "processes' peaks added up)")  # fmt: skip
    if not same:
        sys.exit(1)
    bench_queries(read_url)


def bench_queries(read_url: str) -> None:
    """How long each list and search takes on the rebuilt million-event read models."""
    from app.domain.appointment import Status
    from app.queries import agenda, directory
    from app.queries import appointments as q

    services = build_app(read_url).extensions["rendezvous"]
    engine, tz = services.read_engine, services.tz
    with engine.connect() as conn:
        busiest = conn.execute(
            sa.text(
                "SELECT doctor_id, patient_id, local_day FROM rm_appointments "
                "ORDER BY starts_at DESC LIMIT 1"
            )
        ).one()
    doctor, patient, day = busiest
    common = directory.patient(engine, patient).full_name.split()[-1][:4].lower()
    first = q.list_appointments(engine, q.AppointmentFilter(), tz=tz)
    cases = {
        "list, first page": lambda: q.list_appointments(engine, q.AppointmentFilter(), tz=tz),
        "list, a later page": lambda: q.list_appointments(
            engine, q.AppointmentFilter(), tz=tz, after=first.next_cursor
        ),
        "list, status confirmed": lambda: q.list_appointments(
            engine, q.AppointmentFilter(statuses=[Status.CONFIRMED]), tz=tz
        ),
        "list, one doctor and a week": lambda: q.list_appointments(
            engine,
            q.AppointmentFilter(doctor_id=doctor, day_from=day - timedelta(days=6), day_to=day),
            tz=tz,
        ),
        "list, name part (no match)": lambda: q.list_appointments(
            engine, q.AppointmentFilter(text="zzyx"), tz=tz
        ),
        f"list, name part ({common!r})": lambda: q.list_appointments(
            engine, q.AppointmentFilter(text=common), tz=tz
        ),
        "detail": lambda: q.appointment_detail(engine, first.items[0].appointment_id),
        "a patient's visits": lambda: q.appointments_for_patient(
            engine, patient, now=datetime.now(UTC)
        ),
        "doctor's week": lambda: agenda.agenda_for_week(
            engine, doctor, day - timedelta(days=day.weekday()), tz=tz
        ),
        "free slots for a day": lambda: agenda.free_slots_for_day(
            engine, doctor, day, tz=tz, now=datetime(2000, 1, 1, tzinfo=UTC)
        ),
        "patient search, name part": lambda: directory.search_patients(engine, "mart"),
        "patient search, phone digits": lambda: directory.search_patients(engine, "0612"),
        "day counters": lambda: q.day_counts(engine, day),
    }
    with engine.connect() as conn:
        appointments = conn.execute(sa.text("SELECT count(*) FROM rm_appointments")).scalar()
    print(f"\nRead queries on the rebuilt read models ({appointments:,} appointments), "
          "median of 30 calls:")  # fmt: skip
    for label, query in cases.items():
        query()  # warm
        times = []
        for _ in range(30):
            began = time.perf_counter()
            query()
            times.append(time.perf_counter() - began)
        print(f"  {label:<32}{statistics.median(times) * 1000:8.2f} ms")


# -- 2. lag --


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    args = [
        sys.executable, "-m", "celery", "-A", "celery_worker", "worker", "-B",
        "--schedule", str(log.with_suffix(".beat")), "--loglevel=WARNING",
        "--concurrency=2", "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]  # fmt: skip
    worker = subprocess.Popen(
        args, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    return worker


def bench_lag(redis_url: str, rate: float, seconds: float) -> None:
    from app.commands import (
        ConfirmAppointment,
        CreateAppointment,
        RegisterDoctor,
        RegisterPatient,
        SetWorkingHours,
    )
    from app.config import celery_config

    url = _pg.sqlalchemy_url(SERVER, database="rendezvous_bench_lag")
    _pg.recreate_database(url, extensions=["pg_trgm"])
    queue = f"rendezvous-bench-{uuid.uuid4().hex[:8]}"
    app = build_app(url, CELERY=celery_config(redis_url, queue, 5.0))
    migrate(app)
    services = app.extensions["rendezvous"]
    bus = services.bus

    hours = {d: [["07:00", "21:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    doctors = []
    for n in range(10):
        doctor = bus.handle(RegisterDoctor(full_name=f"Dr Bench {n}", specialty="General"))
        bus.handle(SetWorkingHours(doctor_id=doctor.stream_id, hours=hours, slot_minutes=10))
        doctors.append(doctor.stream_id)
    patients = [
        bus.handle(RegisterPatient(full_name=f"Patient {n}", date_of_birth="1980-01-01")).stream_id
        for n in range(50)
    ]

    env = {**os.environ, "DATABASE_URL_WRITE": url, "CELERY_BROKER_URL": redis_url,
           "CELERY_QUEUE": queue, "CLINIC_TIMEZONE": TZ, "SECRET_KEY": "bench"}  # fmt: skip
    env.pop("DATABASE_URL_READ", None)
    log = Path(tempfile.mkdtemp(prefix="rendezvous-bench-")) / "worker.log"
    worker = start_worker(env, log)
    try:
        lags = _steady_load(services, bus, doctors, patients, rate, seconds, url,
                            CreateAppointment, ConfirmAppointment)  # fmt: skip
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)
    lags.sort()
    ms = [lag * 1000 for lag in lags]
    q = statistics.quantiles(ms, n=100)
    print(
        f"\nProjection lag, commit to visible in the appointments read model ({len(ms)} "
        f"commands at {rate:g}/s for {seconds:g} s, real worker on Redis):"
    )
    print(f"  p50 {q[49]:.1f} ms   p90 {q[89]:.1f} ms   p99 {q[98]:.1f} ms   max {ms[-1]:.1f} ms")


def _steady_load(services, bus, doctors, patients, rate, seconds, url, Create, Confirm):  # type: ignore[no-untyped-def]
    committed: dict[uuid.UUID, tuple[int, float]] = {}
    visible: dict[uuid.UUID, float] = {}
    lock = threading.Lock()
    nudge = bus.after_commit

    def stamp(result):  # type: ignore[no-untyped-def]
        # The transaction has committed when the bus calls this; then the nudge goes out.
        with lock:
            committed[result.stream_id] = (result.version, time.perf_counter())
        nudge(result)

    done = threading.Event()

    def poll() -> None:
        with psycopg.connect(_pg.conninfo(url), autocommit=True) as conn:
            while not done.is_set() or len(visible) < len(committed):
                with lock:
                    waiting = {k: v for k, v in committed.items() if k not in visible}
                if waiting:
                    rows = conn.execute(
                        "SELECT appointment_id, version FROM rm_appointments "
                        "WHERE appointment_id = ANY(%s)",
                        (list(waiting),),
                    ).fetchall()
                    now = time.perf_counter()
                    for appointment_id, version in rows:
                        if version >= waiting[appointment_id][0]:
                            visible[appointment_id] = now - waiting[appointment_id][1]
                time.sleep(0.001)

    tomorrow = datetime.now(UTC).astimezone(ZoneInfo(TZ)).replace(
        hour=7, minute=0, second=0, microsecond=0
    ) + timedelta(days=1)
    # Warm up: the worker starts while these wait in the queue.
    # Each doctor's day holds 84 ten-minute slots; booking n takes the next free one.
    slots = iter(
        (doctors[n % 10], tomorrow + timedelta(days=n // 840, minutes=10 * (n // 10 % 84)))
        for n in range(10**6)
    )
    warm_up = []
    for _ in range(20):  # the worker starts and connects while these wait in the queue
        doctor, starts = next(slots)
        warm_up.append(bus.handle(Create(patient_id=patients[0], doctor_id=doctor,
                                         starts_at=starts, duration_minutes=10,
                                         title="Warm-up")).stream_id)  # fmt: skip
    deadline = time.monotonic() + 120
    with psycopg.connect(_pg.conninfo(url), autocommit=True) as conn:
        query = "SELECT count(*) FROM rm_appointments WHERE appointment_id = ANY(%s)"
        while conn.execute(query, (warm_up,)).fetchone()[0] < len(warm_up):
            if time.monotonic() > deadline:
                sys.exit("The worker did not project the warm-up bookings within 2 minutes.")
            time.sleep(0.05)
    bus.after_commit = stamp
    poller = threading.Thread(target=poll)
    poller.start()
    booked: list[uuid.UUID] = []
    interval, began = 1 / rate, time.perf_counter()
    for n in range(int(rate * seconds)):
        time.sleep(max(0.0, began + n * interval - time.perf_counter()))
        if n % 3 == 2 and booked:
            bus.handle(Confirm(appointment_id=booked.pop(0)))
        else:
            doctor, starts = next(slots)
            command = Create(
                patient_id=patients[n % len(patients)],
                doctor_id=doctor,
                starts_at=starts,
                duration_minutes=10,
                title="Check-up",
            )
            result = bus.handle(command)
            booked.append(result.stream_id)
    done.set()
    poller.join(timeout=60)
    bus.after_commit = nudge
    if len(visible) < len(committed):
        sys.exit(f"{len(committed) - len(visible)} commands never became visible")
    return list(visible.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    events = _pg.sqlalchemy_url(SERVER, database="rendezvous_bench_events")
    parser.add_argument("--events-url", default=os.environ.get("BENCH_EVENTS_URL", events))
    parser.add_argument("--min-events", type=int, default=1_000_000)
    parser.add_argument("--page", type=int, default=5000, help="events per read (both sides)")
    parser.add_argument(
        "--processes",
        type=int,
        default=os.cpu_count() or 1,
        help="projections rebuilt at once (rebuild --all's default: one per core)",
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
    )
    parser.add_argument("--rate", type=float, default=50, help="commands per second")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--skip-rebuild", action="store_true")
    parser.add_argument("--skip-lag", action="store_true")
    parser.add_argument(
        "--queries", action="store_true", help="only time the read queries of the last rebuild"
    )
    args = parser.parse_args()
    if args.queries:
        bench_queries(_pg.sqlalchemy_url(SERVER, database="rendezvous_bench_read"))
        return
    if not args.skip_rebuild:
        bench_rebuild(args.events_url, args.page, args.min_events, args.processes)
    if not args.skip_lag:
        bench_lag(args.redis_url, args.rate, args.seconds)


if __name__ == "__main__":
    main()
