"""The Redis read cache under gunicorn: pages with and without it in the same run, and its
hit rate under a front desk's mixed load with a real worker projecting.

Two gunicorn servers (2 sync workers each) serve bench/_http_app.py over one fresh copy of
the store (`<database>_cache`, dropped at the end), both up for the whole run: `cached` has
REDIS_URL (Redis db 13 and a CACHE_PREFIX of this run's own), `uncached` has none. Both send
their projection nudges to one queue of this run, which one Celery worker (concurrency 1,
with beat) consumes with the cached server's settings: every batch it projects, whichever
server took the command, makes the cache's entries stale as in production.

Pages, each measured on both servers in turn (the order alternates between rounds), wrk
with 16 connections, a warm-up, then the measured run; medians of interleaved rounds:

  minimal page  GET /_bench/table                 each server's baseline, for context
  Today         GET /                             only its day counters are cached
  detail        GET /appointments/<id>            ids drawn at random from rm_appointments,
                                                  as bench/http_pages.py draws them
  agenda day    GET /doctors/<id>?day=<day>       every doctor, today and the 6 days after

Then the mixed load (bench/wrk/mixed.lua), on each server in turn in the same way; each
request picks by weight (--mix):

  45%  an appointment's detail: ids drawn 80% (--upcoming) from the appointments of today
       and the 6 days after, 20% from all. A front desk opens today's and the coming days'
       appointments far more than old ones; ids at random over all appointments would give
       a poor hit rate on a big store for a reason no front desk has.
  20%  Today
  20%  a doctor's agenda: a day of the coming week, or this week or the next as a week
  10%  the appointment list
   3%  bookings (POST /appointments), each into its own fresh slot after the doctors'
       latest reservations, as http_pages books: far from the days the load reads
   2%  moves (POST /appointments/<id>/reschedule) of the coming week's pending and
       confirmed appointments to a fresh slot of their doctor: writes that make entries
       the load reads stale (the detail, the agenda of the day left)

`--mix detail=45,today=20,agenda=20,list=10,booking=5` gives bookings alone. The cache is
emptied before the first mixed run and then left to itself across the rounds.

Every server and the worker record their metrics in a PROMETHEUS_MULTIPROC_DIR of their own
(the worker in the cached server's), which this script reads with MultiProcessCollector
before and after each measured run: cache hits and misses per read repository, and the
repositories' time (cache included), which shows where a page's time goes. The entries'
generations in Redis, read before and after, count what the worker made stale. Before any
load, a sanity check: a detail page fetched three times from each server must move the
cached server's hit counter and leave the uncached server's counters at zero.

Last, in this process: each cached repository called 2,000 times reading the database,
then hitting the cache, and the Redis MGET that a hit makes, alone (bench/_cache_reads.py).

At the end the servers and the worker stop, the copy is dropped, the run's Redis keys and
queue are deleted and its temporary directory removed (--keep-logs keeps the directory).

Run from the repository root (the databases: docs/benchmarks.md, "Read cache"):

    .venv/bin/python bench/http_cache.py                # the ten-thousand-event store
    .venv/bin/python bench/http_cache.py --database-url \\
        postgresql+psycopg://postgres@127.0.0.1:5432/rendezvous_bench_100k
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections import Counter  # noqa: E402
from contextlib import ExitStack  # noqa: E402
from datetime import date, datetime, timedelta  # noqa: E402
from urllib.parse import urlencode  # noqa: E402

import _pg  # noqa: E402
import psycopg  # noqa: E402
from _cache_probe import CacheKeys, hits, invalidations, lookups, read_metrics  # noqa: E402
from _cache_reads import measure_reads  # noqa: E402
from _cache_report import (  # noqa: E402
    LABELS,
    Measured,
    print_mixed,
    print_pages,
    print_repositories,
    progress,
)
from _http_app import TABLE_URL  # noqa: E402
from _http_server import Server, fetch, serving  # noqa: E402
from _http_slots import TZ, Slots, form_bodies, sample_paths  # noqa: E402
from http_pages import (  # noqa: E402
    SERVER,
    Load,
    Run,
    Target,
    describe,
    run_wrk,
    wait_for_quiet,
    wrk_script,
)

PAGES = [
    Target("table", "GET", TABLE_URL, None),
    Target("today", "GET", "/", "table"),
    Target("detail", "GET", "/appointments/<id>", "table", kind="detail"),
    # kind "detail": paths drawn at random from a list, as for the detail page
    Target("agenda", "GET", "/doctors/<id>?day=<day>", "table", kind="detail"),
]
MIX = "detail=45,today=20,agenda=20,list=10,booking=3,reschedule=2"
MIXED_RATE_CAP = 4000  # requests per second the form posts are laid out for


# -- what the load asks for --


def upcoming_days() -> list[date]:
    today = datetime.now(TZ).date()
    return [today + timedelta(days=n) for n in range(7)]


def query(url: str, sql: str, params: tuple = ()) -> list[tuple]:
    with psycopg.connect(_pg.conninfo(url), autocommit=True) as conn:
        return conn.execute(sql, params).fetchall()


def agenda_paths(url: str, *, weeks: bool) -> list[str]:
    """Each doctor's day pages for the coming week, and with `weeks` this week's and next
    week's week pages."""
    days = upcoming_days()
    ids = query(url, "SELECT doctor_id FROM rm_doctors WHERE hours IS NOT NULL ORDER BY 1")
    mondays = [days[0] - timedelta(days=days[0].weekday() - n) for n in (0, 7)]
    paths = [f"/doctors/{d}?day={day}" for (d,) in ids for day in days]
    if weeks:
        paths += [f"/doctors/{d}?view=week&day={m}" for (d,) in ids for m in mondays]
    return paths


def front_desk_paths(url: str, count: int, upcoming: float) -> list[str]:
    """Detail paths: a share `upcoming` of appointments of today and the 6 days after, the
    rest of any appointment (a fixed seed, so every run draws the same)."""
    days = upcoming_days()
    soon = query(
        url,
        "SELECT appointment_id FROM rm_appointments WHERE local_day BETWEEN %s AND %s ORDER BY 1",
        (days[0], days[-1]),
    )
    every = query(url, "SELECT appointment_id FROM rm_appointments ORDER BY 1")
    pick = random.Random(20261126)
    ids = [pick.choice(soon if soon and pick.random() < upcoming else every) for _ in range(count)]
    return [f"/appointments/{i}" for (i,) in ids]


def movable(url: str) -> list[tuple[str, str]]:
    """(appointment, doctor) for the coming week's pending and confirmed appointments that
    start in more than an hour, shuffled (a fixed seed)."""
    days = upcoming_days()
    rows = query(
        url,
        "SELECT appointment_id, doctor_id FROM rm_appointments WHERE local_day BETWEEN %s "
        "AND %s AND status IN ('pending', 'confirmed') AND starts_at > now() + interval "
        "'1 hour' ORDER BY 1",
        (days[0], days[-1]),
    )
    found = [(str(a), str(d)) for a, d in rows]
    random.Random(20261126).shuffle(found)
    return found


def read_entries(paths: list[str]) -> set[str]:
    """The cache entries (keys of app/queries/cache.py) that the mixed load's GETs read."""
    keys = {f"today:{upcoming_days()[0]}:all"}
    for path in paths:
        if path.startswith("/appointments/"):
            keys.add("appointment:" + path.rsplit("/", 1)[1])
        elif path.startswith("/doctors/"):
            doctor, asked = path[len("/doctors/") :].split("?")
            day = date.fromisoformat(asked.rsplit("day=", 1)[1])
            keys.add(f"week:{doctor}:{day}" if "view=week" in asked else f"agenda:{doctor}:{day}")
    return keys


# -- runs --


class Bench:
    """The two servers, the load and the metrics directories of one run."""

    def __init__(self, args: argparse.Namespace, url: str, scratch: Path) -> None:
        self.args, self.url, self.scratch = args, url, scratch
        self.load = Load(args.connections, args.threads, args.duration, args.warmup, scratch)
        self.servers = {label: Server(label, url, args.port + n) for n, label in enumerate(LABELS)}
        self.metrics_dirs = {label: scratch / f"metrics-{label}" for label in LABELS}
        for directory in self.metrics_dirs.values():
            directory.mkdir()
        self.prefix = f"rendezvous-bench-cache-{uuid.uuid4().hex[:8]}"
        self.keys = CacheKeys(args.redis, self.prefix)
        self.mix = dict(part.split("=") for part in args.mix.split(","))
        self.moves: list[tuple[str, str]] = []

    def start(self, stack: ExitStack) -> None:
        """Both servers and the worker, until `stack` closes."""
        for label in LABELS:
            env = {"PROMETHEUS_MULTIPROC_DIR": str(self.metrics_dirs[label])}
            if label == "cached":
                env.update(REDIS_URL=self.args.redis, CACHE_PREFIX=self.prefix)
            stack.enter_context(
                serving(
                    self.servers[label], self.args.workers, self.args.redis, self.scratch,
                    env=env, queue=self.prefix, worker=label == "cached",
                )
            )  # fmt: skip

    def metrics(self, label: str) -> Counter[tuple[str, str]]:
        return read_metrics(self.metrics_dirs[label])

    def check_cache_use(self, path: str) -> None:
        """Exit unless the cached server reads through the cache and the other does not."""
        for server in self.servers.values():
            for _ in range(3):
                status = fetch(server, "GET", path, headers={"Cookie": server.cookie or ""})[0]
                if status != 200:
                    sys.exit(f"GET {path} on {server.label} answered {status}")
        cached, uncached = self.metrics("cached"), self.metrics("uncached")
        print(
            f"Sanity check, {path} 3 times on each server: cached {hits(cached):.0f} hit(s) "
            f"and {lookups(cached) - hits(cached):.0f} miss(es), uncached "
            f"{lookups(uncached):.0f} cache lookups."
        )
        if hits(cached) < 1 or lookups(uncached) != 0:
            sys.exit("The servers do not use (or skip) the cache as configured; stopping.")

    def quiet(self) -> bool:
        return wait_for_quiet(self.args.quiet_wait) if self.args.quiet_wait > 0 else True

    def page(self, label: str, target: Target, paths: list[str], into: Measured) -> Run | str:
        """Warm up, then one measured run, with the metrics' change over the measured part."""
        server = self.servers[label]
        refusal = self.load.probe(server, target, None, paths)
        if refusal:
            return refusal
        if self.args.warmup > 0:
            self.load.wrk(server, target, None, paths, self.args.warmup)
        before = self.metrics(label)
        run = self.load.wrk(server, target, None, paths, self.args.duration)
        into.per_run.append(self.metrics(label) - before)
        return run

    def mixed(self, label: str, gets: Path, into: Measured) -> Run:
        """Warm up, then one measured run of the mixed load; with the hit rate and the
        entries made stale over the measured part."""
        if self.args.mixed_warmup > 0:
            self.mixed_wrk(label, gets, self.args.mixed_warmup)
        before, generations = self.metrics(label), self.keys.generations()
        run = self.mixed_wrk(label, gets, self.args.mixed_duration)
        into.per_run.append(self.metrics(label) - before)
        into.stale.update(invalidations(generations, self.keys.generations()))
        return run

    def posts(self, token: str, seconds: float) -> list[str]:
        """The form posts one mixed run may send, "group path body" a line, in slots laid
        out afresh after the latest reservations."""
        slots = Slots(self.url)
        count = {
            group: int(int(self.mix.get(group, 0)) / 100 * MIXED_RATE_CAP * seconds) + 100
            for group in ("booking", "reschedule")
        }
        lines = [f"booking /appointments {b}" for b in form_bodies(slots, count["booking"], token)]
        if "reschedule" not in self.mix:
            return lines
        # An appointment comes round again only after every other one has been moved: long
        # after its last move has committed.
        for n in range(count["reschedule"]):
            appointment, doctor = self.moves[n % len(self.moves)]
            form = {**slots.take_for(doctor), "reason": "Benchmark move", "csrf_token": token}
            form["command_id"] = str(uuid.uuid4())
            lines.append(f"reschedule /appointments/{appointment}/reschedule {urlencode(form)}")
        return lines

    def mixed_wrk(self, label: str, gets: Path, seconds: float) -> Run:
        server = self.servers[label]
        assert server.token is not None
        # Posts still queued in gunicorn when the last wrk stopped are served anyway: let
        # them commit before this run lays out its slots after the latest reservations.
        time.sleep(1)
        posts = self.scratch / "mixed-posts.txt"
        posts.write_text("\n".join(self.posts(server.token, seconds)) + "\n")
        args = [*self.load.wrk_args(server, seconds), "-H", f"X-CSRFToken: {server.token}"]
        args += ["-s", str(wrk_script(self.scratch, "mixed", "mixed.lua")), server.base + "/"]
        args += ["--", str(gets), str(posts), str(self.args.threads)]
        return run_wrk(args + [f"{group}={weight}" for group, weight in self.mix.items()])


def measure_pages(bench: Bench, pages: list[Target]) -> None:
    args, url = bench.args, bench.url
    paths = {"detail": sample_paths(url), "agenda": agenda_paths(url, weeks=False)}
    measured = {t.name: {label: Measured() for label in LABELS} for t in pages}
    for number in range(1, args.rounds + 1):
        for target in pages:
            for label in LABELS if number % 2 else LABELS[::-1]:
                into = measured[target.name][label]
                if into.tally.refused:
                    continue
                quiet = bench.quiet()
                outcome = bench.page(label, target, paths.get(target.name, []), into)
                if isinstance(outcome, str):
                    into.tally.refused = outcome
                    print(f"round {number}: {target.name} on {label}: {outcome}; skipped")
                    continue
                into.tally.runs.append(outcome)
                progress(number, target.name, label, outcome, into, quiet)
    print_pages(measured)
    print_repositories(measured, args.workers)


def measure_mixed(bench: Bench) -> None:
    args, url = bench.args, bench.url
    details = front_desk_paths(url, 5000, args.upcoming)
    gets = [f"detail {p}" for p in details] + ["today /", "list /appointments"]
    gets += [f"agenda {p}" for p in agenda_paths(url, weeks=True)]
    (bench.scratch / "mixed-gets.txt").write_text("\n".join(gets) + "\n")
    if "reschedule" in bench.mix:
        bench.moves = movable(url)
        print(f"Mixed load: {len(bench.moves)} appointments of the coming week to move.")
        if not bench.moves:
            del bench.mix["reschedule"]
    bench.keys.empty()
    mixed = {label: Measured() for label in LABELS}
    for number in range(1, args.rounds + 1):
        for label in LABELS if number % 2 else LABELS[::-1]:
            quiet = bench.quiet()
            outcome = bench.mixed(label, bench.scratch / "mixed-gets.txt", mixed[label])
            mixed[label].tally.runs.append(outcome)
            progress(number, "mixed", label, outcome, mixed[label], quiet)
    mix = ",".join(f"{group}={weight}" for group, weight in bench.mix.items())
    print_mixed(mixed, read_entries([line.split(" ", 1)[1] for line in gets]), mix)
    print(f"Entries stored at the end: {bench.keys.entries():,}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url", default=_pg.sqlalchemy_url(SERVER, database="rendezvous_bench_small")
    )
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/13", help="cache and broker")
    parser.add_argument("--duration", type=float, default=10, help="seconds per measured run")
    parser.add_argument("--warmup", type=float, default=2, help="seconds before each run")
    parser.add_argument("--mixed-duration", type=float, default=20)
    parser.add_argument("--mixed-warmup", type=float, default=5)
    parser.add_argument("--mix", default=MIX, help="group=percent, comma-separated")
    parser.add_argument("--upcoming", type=float, default=0.8, help="mixed detail ids' share")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers each")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--port", type=int, default=8775, help="and the next one")
    parser.add_argument("--pages", default=",".join(t.name for t in PAGES), help="'' for none")
    parser.add_argument("--skip-mixed", action="store_true")
    parser.add_argument("--skip-reads", action="store_true", help="no in-process reads")
    parser.add_argument("--quiet-wait", type=float, default=120)
    parser.add_argument("--keep-logs", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    # Stopped by a signal, the run must still stop its servers and clean up; a shell starts
    # a background job with SIGINT ignored, hence both handlers.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped by SIGTERM"))
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (Debian: apt-get install wrk).")
    pages = [t for t in PAGES if t.name in args.pages.split(",")]

    source = args.database_url
    url = _pg.sqlalchemy_url(source, database=_pg.database_name(source) + "_cache")
    _pg.clone_database(source, url)
    scratch = Path(tempfile.mkdtemp(prefix="rendezvous-bench-cache-"))
    with ExitStack() as stack:
        # Callbacks run last to first: these once the servers and the worker have stopped.
        if not args.keep_logs:
            stack.callback(shutil.rmtree, scratch, ignore_errors=True)
        stack.callback(_pg.drop_database, url)
        bench = Bench(args, url, scratch)
        stack.callback(bench.keys.close)
        stack.callback(bench.keys.drop)
        print(describe(url) + f" (a fresh copy of {_pg.database_name(source)})")
        print(
            f"Two servers, gunicorn {args.workers} sync workers each; one Celery worker; wrk "
            f"{args.threads} threads, {args.connections} connections; pages {args.warmup:g} s "
            f"warm-up + {args.duration:g} s, mixed load {args.mixed_warmup:g} s + "
            f"{args.mixed_duration:g} s; {args.rounds} interleaved rounds, medians shown; "
            f"{os.cpu_count()} CPUs shared by servers, worker, PostgreSQL, Redis and wrk; "
            f"cache prefix {bench.prefix}, entries live "
            f"{os.environ.get('CACHE_TTL_SECONDS', '300')} s."
        )
        bench.start(stack)
        bench.check_cache_use(sample_paths(url, 1)[0])
        if pages:
            measure_pages(bench, pages)
        if not args.skip_mixed:
            measure_mixed(bench)
        if not args.skip_reads:
            measure_reads(url, args.redis, bench.prefix)
        if args.keep_logs:
            print(f"\nwrk scripts, request files, metrics and server logs: {scratch}")


if __name__ == "__main__":
    main()
