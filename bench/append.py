"""Append throughput: CreateAppointment commands per second on PostgreSQL, with baselines.

What it measures, for 1 and 4 concurrent writers (separate processes, started with the
'spawn' context so nothing is shared across a fork and no GIL is shared):

  no broker      the project's real command bus: `services.bus.handle(CreateAppointment(...))`
                 on an app built by `create_app()` from the environment an operator sets
                 (DATABASE_URL_WRITE; see `app_environment`): whatever the bus does per
                 command (load the patient, doctor and appointment streams, decide, hold the
                 doctor's time in `reservations`, append the event, record the command for
                 idempotency), in its own transaction per command; then, as in the embedded
                 default and any deployment without Redis, the projections run in the
                 request, after the commit.
  broker         the same app with REDIS_URL set as well: the projections run in a real
                 Celery worker (`celery -A celery_worker worker`, started for the run on a
                 queue of its own) and each command publishes the nudge. The table also
                 says how long after the last command the worker had every projection
                 caught up.
  plain psycopg  the same three rows the command writes (one in `reservations`, one in `events`,
                 one in `processed_commands`), same tables, same database, same value shapes,
                 inserted by psycopg 3 directly and committed per command: the floor that the
                 database itself sets.
  eventsourcing  the `eventsourcing` library (Application on its PostgreSQL persistence module)
                 saving an equivalent Appointment aggregate, one event per save, in a separate
                 database on the same server.

Each run starts from empty tables; every writer sets itself up (its own app or connection,
its own doctors), runs a few warm-up commands, waits at a shared barrier, then books its
share of the run's commands back to back. Throughput is the run's total commands divided by
the time from the earliest writer start to the latest writer finish (time.perf_counter, which
is the system-wide monotonic clock on Linux). Bookings never overlap: each writer books
consecutive 15-minute slots between 08:00 and 20:00 (Europe/Paris) across future days,
round-robin over its own doctors, whose working hours cover the whole week. Every run is
repeated (--repeat, default 3; rounds outermost) and the table shows the median of each.

The scratch databases `<name>` and `<name>_es` (default `rendezvous_bench` and
`rendezvous_bench_es`) are dropped and recreated at the start of every run of this script.

Run from the repository root:

    .venv/bin/python bench/append.py                 # 2000 commands per run, 1 and 4 writers
    .venv/bin/python bench/append.py --quick         # 200 commands per run, a smoke test
    .venv/bin/python bench/append.py --writers 1,2,4 --commands 5000
    .venv/bin/python bench/append.py --profile       # and cProfile one in-process writer

The server is taken from --database-url, else BENCH_DATABASE_URL, else
postgresql+psycopg://postgres@127.0.0.1:5432/rendezvous_bench; the broker from
--redis-url, else BENCH_REDIS_URL, else redis://127.0.0.1:6379/13 (its bench queue is
emptied before each run).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import multiprocessing
import os
import pstats
import re
import statistics
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import _pg

ROOT = Path(__file__).resolve().parent.parent
# The editable install maps `app` as a namespace package (no __init__), which shadows the real
# package when the script's own directory, bench/, heads sys.path; put the repo root first.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/rendezvous_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"
BENCH_QUEUE = "rendezvous-bench-append"

CLINIC_TZ = "Europe/Paris"
SLOT_MINUTES = 15
FIRST_SLOT_HOUR = 8  # local time; 08:00-20:00 keeps clear of midnight and DST changes
SLOTS_PER_DAY = 48
DOCTORS_PER_WRITER = 4
TITLE = "Check-up"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALL_WEEK = {day: [["00:00", "23:59"]] for day in WEEKDAYS}

ES_APP_NAME = "BenchClinic"  # bench/_es_writer.py names its application so
ES_TABLE = f"{ES_APP_NAME.lower()}_events"

# Run in this order in each round; "rendezvous" is the no-broker mode.
KINDS = ("plain", "rendezvous", "broker", "eventsourcing")
LABELS = {
    "plain": "plain psycopg",
    "rendezvous": "no broker",
    "broker": "broker",
    "eventsourcing": "eventsourcing",
}
CATCH_UP_TIMEOUT = 300.0
BARRIER_TIMEOUT = 300.0
RESULT_TIMEOUT = 3600.0


# --------------------------------------------------------------------------- configuration


@dataclass(frozen=True)
class WriterSpec:
    """What one writer process needs; plain data, so it pickles across 'spawn'."""

    kind: str
    index: int
    url: str  # the database this kind writes to, SQLAlchemy form
    commands: int
    warmup: int
    first_day: date
    redis_url: str | None = None  # the broker, for the "broker" kind


@dataclass(frozen=True)
class RunResult:
    kind: str
    writers: int
    commands: int
    seconds: float
    # Broker runs: seconds from the last command's return until the worker had every
    # projection caught up.
    caught_up_after: float | None = None

    @property
    def per_second(self) -> float:
        return self.commands / self.seconds if self.seconds > 0 else float("nan")


def slot(first_day: date, index: int) -> tuple[int, datetime]:
    """The `index`-th booking of a writer: (which of its doctors, zone-aware start time).

    Doctors take turns; each doctor's slots follow one another, 48 a day from 08:00 local.
    """
    doctor, k = index % DOCTORS_PER_WRITER, index // DOCTORS_PER_WRITER
    day = first_day + timedelta(days=k // SLOTS_PER_DAY)
    minutes = FIRST_SLOT_HOUR * 60 + (k % SLOTS_PER_DAY) * SLOT_MINUTES
    starts_at = datetime(
        day.year, day.month, day.day, minutes // 60, minutes % 60, tzinfo=ZoneInfo(CLINIC_TZ)
    )
    return doctor, starts_at


def es_env(url: str, *, create_table: bool) -> dict[str, str]:
    """The environment the eventsourcing library reads (see eventsourcing/postgres.py)."""
    parsed = _pg.parts(url)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": _pg.database_name(url),
        "POSTGRES_HOST": parsed.host or "127.0.0.1",
        "POSTGRES_PORT": str(parsed.port or 5432),
        "POSTGRES_USER": parsed.username or "postgres",
        "POSTGRES_PASSWORD": parsed.password or "",
        "CREATE_TABLE": "y" if create_table else "n",
    }


def app_environment(url: str, redis_url: str | None = None) -> dict[str, str]:
    """The settings an operator gives the web process (and its worker): the database and,
    for the broker mode, Redis; nothing a deployment would not set. A fixed key keeps
    create_app from writing instance/secret_key; no session is used here."""
    environment = {
        "DATABASE_URL_WRITE": url,
        "CLINIC_TIMEZONE": CLINIC_TZ,
        "SECRET_KEY": "bench-only-not-secret",
    }
    if redis_url:
        environment |= {"REDIS_URL": redis_url, "CELERY_QUEUE": BENCH_QUEUE}
    return environment


def build_app(environment: dict[str, str]) -> Any:
    """The app as `create_app()` builds it in a process with `environment` set: no
    configuration passed in, so the bench measures the product's own wiring."""
    from app import create_app

    for name in ("DATABASE_URL_READ", "REDIS_URL", "CELERY_BROKER_URL", "CELERY_QUEUE"):
        os.environ.pop(name, None)
    os.environ.update(environment)
    return create_app()


# --------------------------------------------------------------------------- the three writers

Book = Callable[[int], None]


def bench_app(spec: WriterSpec) -> Any:
    """The app a rendezvous writer books through (tests/integration/test_bench_scripts.py
    holds it to the one an operator's process builds)."""
    return build_app(app_environment(spec.url, spec.redis_url))


def setup_rendezvous(spec: WriterSpec) -> Book:
    """An app of our own, our own doctors and patient; returns "book the i-th slot"."""
    from app.commands import CreateAppointment, RegisterDoctor, RegisterPatient, SetWorkingHours

    bus = bench_app(spec).extensions["rendezvous"].bus
    doctors: list[UUID] = []
    for number in range(DOCTORS_PER_WRITER):
        doctor_id = bus.handle(
            RegisterDoctor(
                full_name=f"Dr Bench {spec.index}-{number}", specialty="General practice"
            )
        ).stream_id
        bus.handle(SetWorkingHours(doctor_id=doctor_id, hours=ALL_WEEK, slot_minutes=SLOT_MINUTES))
        doctors.append(doctor_id)
    patient_id = bus.handle(
        RegisterPatient(
            full_name=f"Patient Bench {spec.index}",
            date_of_birth=date(1980, 1, 1),
            phone="0600000000",
            email="a@b.org",
        )
    ).stream_id

    def book(i: int) -> None:
        doctor, starts_at = slot(spec.first_day, i)
        bus.handle(
            CreateAppointment(
                patient_id=patient_id,
                doctor_id=doctors[doctor],
                starts_at=starts_at,
                duration_minutes=SLOT_MINUTES,
                title=TITLE,
            )
        )

    return book


_INSERT_RESERVATION = (
    "INSERT INTO reservations (appointment_id, doctor_id, starts_at, ends_at) "
    "VALUES (%s, %s, %s, %s)"
)
_INSERT_EVENT = (
    "INSERT INTO events (tx_id, stream_id, stream_type, version, event_type, schema_version, "
    "data, metadata, recorded_at) "
    "VALUES (pg_current_xact_id()::text::bigint, %s, 'appointment', 1, 'AppointmentCreated', 2, "
    "%s, %s, %s) RETURNING position"
)
_INSERT_COMMAND = (
    "INSERT INTO processed_commands "
    "(command_id, command_type, stream_id, version, position, processed_at) "
    "VALUES (%s, 'CreateAppointment', %s, 1, %s, %s)"
)


def setup_plain(spec: WriterSpec) -> Book:
    """One psycopg connection; each booking inserts the command's three rows and commits."""
    import psycopg
    from psycopg.types.json import Jsonb

    conn = psycopg.connect(_pg.conninfo(spec.url), autocommit=False)
    doctors = [uuid4() for _ in range(DOCTORS_PER_WRITER)]
    patient_id = uuid4()

    def book(i: int) -> None:
        doctor, starts_at = slot(spec.first_day, i)
        doctor_id = doctors[doctor]
        starts = starts_at.astimezone(UTC)
        ends = starts + timedelta(minutes=SLOT_MINUTES)
        appointment_id, command_id, now = uuid4(), uuid4(), datetime.now(UTC)
        data = {
            "patient_id": str(patient_id),
            "doctor_id": str(doctor_id),
            "starts_at": starts.isoformat(),
            "ends_at": ends.isoformat(),
            "title": TITLE,
        }
        metadata = {
            "actor": "system",
            "correlation_id": str(command_id),
            "causation_id": str(command_id),
        }
        conn.execute(_INSERT_RESERVATION, (appointment_id, doctor_id, starts, ends))
        inserted = conn.execute(
            _INSERT_EVENT, (appointment_id, Jsonb(data), Jsonb(metadata), now)
        ).fetchone()
        assert inserted is not None
        position = inserted[0]
        conn.execute(_INSERT_COMMAND, (command_id, appointment_id, position, now))
        conn.commit()

    return book


def setup_eventsourcing(spec: WriterSpec) -> Book:
    """An eventsourcing Application on PostgreSQL; each booking saves a new aggregate."""
    from _es_writer import Appointment, BenchClinic

    application = BenchClinic(env=es_env(spec.url, create_table=False))
    doctors = [uuid4() for _ in range(DOCTORS_PER_WRITER)]
    patient_id = uuid4()

    def book(i: int) -> None:
        doctor, starts_at = slot(spec.first_day, i)
        application.save(
            Appointment(
                patient_id=patient_id,
                doctor_id=doctors[doctor],
                starts_at=starts_at,
                ends_at=starts_at + timedelta(minutes=SLOT_MINUTES),
                title=TITLE,
            )
        )

    return book


SETUP: dict[str, Callable[[WriterSpec], Book]] = {
    "rendezvous": setup_rendezvous,
    "broker": setup_rendezvous,
    "plain": setup_plain,
    "eventsourcing": setup_eventsourcing,
}


def _writer(spec: WriterSpec, barrier: Any, results: Any) -> None:
    """Body of one writer process: set up, warm up, wait for the others, book, report."""
    try:
        book = SETUP[spec.kind](spec)
        for i in range(spec.warmup):
            book(i)
        barrier.wait(BARRIER_TIMEOUT)
        start = time.perf_counter()
        for i in range(spec.warmup, spec.warmup + spec.commands):
            book(i)
        end = time.perf_counter()
        results.put((spec.index, start, end, None))
    except BaseException:
        results.put((spec.index, 0.0, 0.0, traceback.format_exc()))
        with contextlib.suppress(Exception):
            barrier.abort()


# --------------------------------------------------------------------------- orchestration


@dataclass(frozen=True)
class Targets:
    app_url: str  # rendezvous and plain psycopg
    es_url: str  # eventsourcing
    redis_url: str  # the broker mode's Redis

    def url_for(self, kind: str) -> str:
        return self.es_url if kind == "eventsourcing" else self.app_url

    def tables_for(self, kind: str) -> list[str]:
        """What a run of `kind` empties first: for the app, the store and the read models
        with their checkpoints, so every run projects into the same empty tables."""
        if kind == "eventsourcing":
            return [ES_TABLE]
        return _pg.tables(self.app_url, leave=("alembic_version",))

    def rows_per_booking_table(self, kind: str) -> str:
        """A table that gains exactly one row per booking, to check the run's work."""
        return ES_TABLE if kind == "eventsourcing" else "reservations"


def prepare_databases(targets: Targets) -> str:
    """Drop and recreate both scratch databases, create the app's and the library's tables.

    Returns how the app's schema was made: by its migrations if there are any, else create_all.
    """
    _pg.recreate_database(targets.app_url, extensions=["btree_gist"])
    from app.extensions import db

    app = build_app(app_environment(targets.app_url))
    migrations = ROOT / "migrations"
    with app.app_context():
        if (migrations / "env.py").exists() and any((migrations / "versions").glob("*.py")):
            import flask_migrate

            flask_migrate.upgrade(directory=str(migrations))
            how = "alembic upgrade (migrations/)"
        else:
            db.create_all()
            how = "db.create_all()"
        db.engine.dispose()

    _pg.recreate_database(targets.es_url)
    from _es_writer import BenchClinic

    BenchClinic(env=es_env(targets.es_url, create_table=True)).close()
    return how


def split(total: int, writers: int) -> list[int]:
    """`total` commands shared out as evenly as possible."""
    share, extra = divmod(total, writers)
    return [share + (1 if index < extra else 0) for index in range(writers)]


def run(kind: str, writers: int, total: int, warmup: int, targets: Targets) -> RunResult:
    """One timed run of `kind` with `writers` processes, on freshly emptied tables."""
    url = targets.url_for(kind)
    _pg.truncate(url, targets.tables_for(kind))
    _pg.checkpoint(url)
    first_day = datetime.now(ZoneInfo(CLINIC_TZ)).date() + timedelta(days=2)
    redis_url = targets.redis_url if kind == "broker" else None
    worker = start_worker(targets) if redis_url else None
    try:
        ctx = multiprocessing.get_context("spawn")
        barrier = ctx.Barrier(writers)
        results = ctx.Queue()
        processes = [
            ctx.Process(
                target=_writer,
                args=(
                    WriterSpec(kind, index, url, share, warmup, first_day, redis_url),
                    barrier,
                    results,
                ),
                name=f"{kind}-writer-{index}",
            )
            for index, share in enumerate(split(total, writers))
        ]
        for process in processes:
            process.start()
        reports = [results.get(timeout=RESULT_TIMEOUT) for _ in processes]
        for process in processes:
            process.join()
        failures = [error for _, _, _, error in reports if error]
        if failures:
            raise RuntimeError(f"{kind} with {writers} writer(s) failed:\n" + "\n".join(failures))
        finished = max(end for _, _, end, _ in reports)
        seconds = finished - min(start for _, start, _, _ in reports)
        caught_up_after = None
        if worker is not None:
            caught_up_after = wait_caught_up(url, worker) - finished
    finally:
        if worker is not None:
            stop_worker(worker)

    expected = total + writers * warmup
    found = _pg.count_rows(url, targets.rows_per_booking_table(kind))
    if found != expected:
        raise RuntimeError(f"{kind}: expected {expected} bookings, found {found}")
    return RunResult(kind, writers, total, seconds, caught_up_after)


def start_worker(targets: Targets) -> subprocess.Popen:
    """A Celery worker as an operator starts one (`celery -A celery_worker worker`, default
    concurrency), on the bench's Redis database, emptied first, and its own queue."""
    import redis

    client = redis.Redis.from_url(targets.redis_url)
    client.flushdb()
    client.close()
    environment = {**os.environ, **app_environment(targets.app_url, targets.redis_url)}
    environment.pop("DATABASE_URL_READ", None)
    log = Path(os.environ.get("TMPDIR", "/tmp")) / "rendezvous-bench-append-worker.log"
    output = log.open("w")
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "celery_worker", "worker", "--loglevel=INFO",
         "-n", f"bench-append-{os.getpid()}@%h",
         "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    output.close()
    deadline = time.monotonic() + BARRIER_TIMEOUT
    while "ready." not in log.read_text():
        if worker.poll() is not None or time.monotonic() > deadline:
            stop_worker(worker)
            raise RuntimeError(f"the bench's Celery worker did not start:\n{log.read_text()}")
        time.sleep(0.05)
    return worker


def stop_worker(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, 15)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, 9)
            worker.wait(timeout=10)


def wait_caught_up(url: str, worker: subprocess.Popen) -> float:
    """When (time.perf_counter) every projection's checkpoint had passed the last event."""
    import psycopg

    behind = (
        "SELECT count(*) FROM projection_checkpoints c, "
        "(SELECT tx_id, position FROM events ORDER BY tx_id DESC, position DESC LIMIT 1) e "
        "WHERE (c.tx_id, c.position) < (e.tx_id, e.position)"
    )
    deadline = time.monotonic() + CATCH_UP_TIMEOUT
    with psycopg.connect(_pg.conninfo(url), autocommit=True) as conn:
        while True:
            row = conn.execute(behind).fetchone()
            if row is not None and row[0] == 0:
                return time.perf_counter()
            if worker.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the bench's worker did not catch the projections up")
            time.sleep(0.01)


# --------------------------------------------------------------------------- reporting


def median_rate(runs: list[RunResult]) -> float:
    return statistics.median(run.per_second for run in runs)


def render_table(results: dict[tuple[str, int], list[RunResult]], writer_counts: list[int]) -> str:
    """The side-by-side table: median throughput per kind and the ratios the aims are on:
    the broker mode to plain psycopg, the no-broker mode to the broker mode."""
    headers = (
        "writers",
        "no broker cmd/s",
        "broker cmd/s",
        "plain psycopg /s",
        "eventsourcing /s",
        "broker / plain",
        "no broker / broker",
        "no broker / plain",
        "worker caught up after",
    )
    rows = []
    for writers in writer_counts:
        embedded = median_rate(results[("rendezvous", writers)])
        broker_runs = results[("broker", writers)]
        broker = median_rate(broker_runs)
        plain = median_rate(results[("plain", writers)])
        es = median_rate(results[("eventsourcing", writers)])
        lag = statistics.median(run.caught_up_after or 0.0 for run in broker_runs)
        rows.append(
            (
                str(writers),
                f"{embedded:,.0f}",
                f"{broker:,.0f}",
                f"{plain:,.0f}",
                f"{es:,.0f}",
                f"{broker / plain:.2f}",
                f"{embedded / broker:.2f}",
                f"{embedded / plain:.2f}",
                f"{lag * 1000:,.0f} ms",
            )
        )
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    line = " | ".join(h.rjust(w) for h, w in zip(headers, widths, strict=True))
    rule = "-+-".join("-" * w for w in widths)
    body = [" | ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join([line, rule, *body])


def profile_rendezvous(commands: int, warmup: int, targets: Targets) -> str:
    """cProfile one in-process rendezvous writer; the top cumulative entries in app/ and overall."""
    _pg.truncate(targets.app_url, targets.tables_for("rendezvous"))
    first_day = datetime.now(ZoneInfo(CLINIC_TZ)).date() + timedelta(days=2)
    book = setup_rendezvous(
        WriterSpec("rendezvous", 0, targets.app_url, commands, warmup, first_day)
    )
    for i in range(warmup):
        book(i)
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for i in range(warmup, warmup + commands):
        book(i)
    profiler.disable()
    elapsed = time.perf_counter() - started

    out = io.StringIO()
    out.write(
        f"cProfile, 1 writer in-process, {commands} commands: {elapsed:.2f} s under the "
        f"profiler ({commands / elapsed:,.0f} cmd/s; profiling slows Python code).\n"
    )
    stats = pstats.Stats(profiler, stream=out)
    entries: dict[tuple[str, int, str], tuple[Any, ...]] = stats.stats  # type: ignore[attr-defined]
    waits = [
        (calls, cumulative)
        for (filename, _, name), (_, calls, _, cumulative, _) in entries.items()
        if name == "wait" and filename.endswith(os.path.join("psycopg", "connection.py"))
    ]
    if waits:
        calls, waited = (sum(column) for column in zip(*waits, strict=True))
        out.write(
            f"waiting on the server (psycopg Connection.wait): {waited:.2f} s of {elapsed:.2f} s, "
            f"{calls / commands:.1f} waits per command; the rest is Python in this process.\n"
        )
    stats.sort_stats("cumulative")
    out.write("\n== top cumulative entries in app/ ==\n")
    stats.print_stats(re.escape(str(ROOT / "app")), 30)
    out.write("\n== top entries overall by own time ==\n")
    stats.sort_stats("tottime").print_stats(20)
    return out.getvalue()


# --------------------------------------------------------------------------- command line


def parse_writers(text: str) -> list[int]:
    try:
        counts = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"writers must be like 1,4 (got {text!r})") from None
    if not counts or any(count < 1 for count in counts):
        raise argparse.ArgumentTypeError(f"writers must be positive integers (got {text!r})")
    return counts


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="CreateAppointment throughput vs plain psycopg and the eventsourcing library."
    )
    parser.add_argument(
        "--commands",
        type=int,
        default=None,
        help="commands per run (shared among its writers); default 2000, or 200 with --quick",
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_REDIS_URL") or DEFAULT_REDIS_URL,
        help="the broker mode's Redis database (emptied before each of its runs)",
    )
    parser.add_argument("--writers", type=parse_writers, default=[1, 4], help='e.g. "1,4"')
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL") or DEFAULT_URL,
        help="scratch database for the app and plain runs (SQLAlchemy form); the "
        "eventsourcing runs use the same name with _es appended. Both are dropped first.",
    )
    parser.add_argument("--warmup", type=int, default=20, help="untimed commands per writer")
    parser.add_argument(
        "--repeat",
        type=int,
        default=None,
        help="rounds of every run; the table shows medians (default 3, or 1 with --quick)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="a smoke run: 200 commands per run, one round"
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="afterwards, cProfile one in-process rendezvous writer and print the top entries",
    )
    args = parser.parse_args(argv)
    if args.commands is None:
        args.commands = 200 if args.quick else 2000
    if args.repeat is None:
        args.repeat = 1 if args.quick else 3
    if args.commands < 1 or args.warmup < 0 or args.repeat < 1:
        parser.error("--commands and --repeat must be at least 1, --warmup at least 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    app_url = _pg.sqlalchemy_url(args.database_url)
    targets = Targets(
        app_url=app_url,
        es_url=_pg.sqlalchemy_url(app_url, database=_pg.database_name(app_url) + "_es"),
        redis_url=args.redis_url,
    )
    settings = _pg.server_settings(
        _pg.conninfo(app_url, database=_pg.MAINTENANCE_DB),
        ["server_version", "synchronous_commit", "fsync", "shared_buffers"],
    )
    print(
        f"PostgreSQL {settings['server_version']} at {_pg.parts(app_url).host}:"
        f"{_pg.parts(app_url).port or 5432} (synchronous_commit={settings['synchronous_commit']}, "
        f"fsync={settings['fsync']}, shared_buffers={settings['shared_buffers']}); "
        f"{os.cpu_count()} CPUs; Python {sys.version.split()[0]}"
    )
    print(
        f"databases: {_pg.database_name(targets.app_url)}, {_pg.database_name(targets.es_url)} "
        f"(recreated); {args.commands} commands per run, {args.warmup} warm-up per writer, "
        f"{args.repeat} round(s), writers as 'spawn' processes",
        flush=True,
    )
    how = prepare_databases(targets)
    print(f"app schema: {how}; eventsourcing table: {ES_TABLE}", flush=True)

    # Rounds outermost, so that a slow spell on the machine hits every kind alike.
    results: dict[tuple[str, int], list[RunResult]] = {}
    for round_number in range(1, args.repeat + 1):
        for writers in args.writers:
            for kind in KINDS:
                result = run(kind, writers, args.commands, args.warmup, targets)
                results.setdefault((kind, writers), []).append(result)
                lag = (
                    f", worker caught up {result.caught_up_after * 1000:,.0f} ms later"
                    if result.caught_up_after is not None
                    else ""
                )
                print(
                    f"  round {round_number}  {LABELS[kind]:<13} writers={writers}: "
                    f"{result.commands} in {result.seconds:6.2f} s = "
                    f"{result.per_second:8,.0f} /s{lag}",
                    flush=True,
                )
    print()
    median = f"median of {args.repeat} rounds" if args.repeat > 1 else "1 round"
    print(f"commands per second ({median}; {args.commands} commands per run):")
    print(render_table(results, args.writers))

    if args.profile:
        print()
        print(profile_rendezvous(args.commands, args.warmup, targets))
    return 0


if __name__ == "__main__":
    sys.exit(main())
