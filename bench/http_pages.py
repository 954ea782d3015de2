"""HTTP throughput and latency of the pages under gunicorn, beside baselines of the same app.

gunicorn (2 sync workers by default) serves bench/_http_app.py: the real `create_app()` on
the benchmark database, plus two baseline routes on that same app (a 50-row table rendered
from a constant list, and an endpoint that inserts one row). wrk, on the same machine,
drives each target in turn with 16 connections, after a short warm-up:

  minimal page   GET /_bench/table                        the baseline for the pages
  (the same)     GET /_bench/table-string                 compiled per request, for reference
  (the same)     GET /_bench/table-public                 without signing in (the account's cost)
  Today          GET /
  list           GET /appointments                        default filters
  detail         GET /appointments/<id>                   ids drawn at random from rm_appointments
  grid           GET /calendar?day=<a full day>           the day grid of 10 doctors
  grid-poll      (the same, as htmx polls it)             the grid region alone, every 15 s
  capacity       GET /calendar/week?start=<its Monday>    the week's capacity of 30 doctors
  insert         POST /_bench/insert                      the baseline for bookings
  booking        POST /appointments                       each request books a free slot

The calendar targets need a clinic week the seeded stores do not have (10 doctors booked
through a day, 30 doctors in a week): bench/_calendar_fixture.py writes the same week into
the copy of each store measured, six weeks ahead, and the calendar targets show it (the
specialty "Bench calendar"). With --compare-small the small store is copied too. The app
keeps a grid while the read models are unchanged (CALENDAR_MEMO_SIZE): under this load,
which changes nothing, every request after the first of each minute finds it; with
--calendar-memo 0 each one works the grid out, as when bookings come between requests.

Each booking takes a slot that no other request takes: slots are laid out after every
doctor's latest reservation, within their working hours from rm_doctors, interleaved
across doctors, and every body carries its own command id. Bookings are real, so the run
works on a fresh copy of the store (`<database>_http`, dropped at the end) unless
--in-place is given. wrk does not follow the 303 that answers a booking. The baseline's
table, `bench_http_inserts`, is created if missing and emptied at the start.

A session cookie and CSRF token are taken from a page (`<meta name="csrf-token">`) before
the load; GETs send the cookie, POSTs the cookie, an `X-CSRFToken` header and the form
field. Targets run in interleaved rounds (--rounds) and each figure is the median over the
rounds; before each run the script waits (--quiet-wait) for other work on the machine to
pause. With --compare-small the pages are also measured, in the same rounds, on a second
server over the ten-thousand-event database.

Without --broker the server runs projections itself after each booking (the app's default
when no broker is configured); with one, it sends nudges to Redis and a Celery worker,
started here with concurrency 1, projects.

Run from the repository root (the databases: docs/benchmarks.md, "Pages"):

    .venv/bin/python bench/http_pages.py --compare-small       # what docs/benchmarks.md shows
    .venv/bin/python bench/http_pages.py --targets insert,booking --broker redis://127.0.0.1:6379/13
    .venv/bin/python bench/http_pages.py --targets table,today --rounds 1 --duration 5
    .venv/bin/python bench/http_pages.py --compare-small --targets table,grid,grid-poll,capacity
    .venv/bin/python bench/http_pages.py --compare-small --targets table,grid,capacity \
        --calendar-memo 0
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from contextlib import ExitStack  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from datetime import datetime, timedelta  # noqa: E402
from urllib.parse import quote_plus, urlencode  # noqa: E402

import _pg  # noqa: E402
import psycopg  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from _calendar_fixture import Fixture, add_week  # noqa: E402
from _http_app import (  # noqa: E402
    INSERT_URL,
    TABLE_PUBLIC_URL,
    TABLE_STRING_URL,
    TABLE_URL,
    ensure_table,
)
from _http_server import Server, fetch, post_headers, serving  # noqa: E402
from _http_slots import TZ, Slots, form_bodies, sample_paths  # noqa: E402

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
WRK = HERE / "wrk"
BOOKINGS_PER_SECOND_CAP = 4000  # bodies laid out per second of load; far above what is reached


@dataclass(frozen=True)
class Target:
    name: str
    method: str
    path: str
    baseline: str | None  # the target it is compared with; None for a baseline itself
    kind: str = "plain"  # plain, detail (random ids), booking (fresh slots) or calendar
    headers: tuple[tuple[str, str], ...] = ()


TARGETS = [
    Target("table", "GET", TABLE_URL, None),
    Target("table-string", "GET", TABLE_STRING_URL, "table"),
    Target("table-public", "GET", TABLE_PUBLIC_URL, "table"),
    Target("today", "GET", "/", "table"),
    Target("list", "GET", "/appointments", "table"),
    Target("detail", "GET", "/appointments/<id>", "table", kind="detail"),
    Target("grid", "GET", "/calendar?day={day}&specialty={specialty}", "table", kind="calendar"),
    Target(
        "grid-poll",
        "GET",
        "/calendar?day={day}&specialty={specialty}",
        "table",
        kind="calendar",
        # What the grid's own poll sends: the region alone comes back, without the layout.
        headers=(("HX-Request", "true"), ("HX-Target", "calendar"), ("X-Rendezvous-Poll", "1")),
    ),
    Target(
        "capacity",
        "GET",
        "/calendar/week?start={monday}&specialty={specialty}",
        "table",
        kind="calendar",
    ),
    Target("insert", "POST", INSERT_URL, None, kind="insert"),
    Target("booking", "POST", "/appointments", "insert", kind="booking"),
]
# What --compare-small measures on both databases.
PAGES = ("today", "list", "detail", "grid", "grid-poll", "capacity")


@dataclass
class Run:
    """One wrk run's figures."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    bad_status: int
    socket_errors: int
    exhausted: int

    @property
    def ok_per_second(self) -> float:
        return (self.requests - self.bad_status - self.socket_errors) / self.seconds


@dataclass
class Tally:
    runs: list[Run] = field(default_factory=list)
    refused: str | None = None  # why the target was not measured

    def median(self, name: str) -> float:
        return statistics.median(getattr(run, name) for run in self.runs)


# -- load --


def wrk_script(scratch: Path, name: str, *parts: str) -> Path:
    """wrk takes one script: the target's own part, then the shared report."""
    path = scratch / f"{name}.lua"
    path.write_text("\n".join((WRK / part).read_text() for part in (*parts, "report.lua")))
    return path


@dataclass
class Load:
    connections: int
    threads: int
    duration: float
    warmup: float
    scratch: Path
    weeks: dict[str, Fixture] = field(default_factory=dict)  # each store's calendar week

    def profile(self, server: Server, target: Target, slots: Slots | None, paths: list[str]) -> str:
        """One more run of `target`, not counted, with py-spy sampling every gunicorn worker
        (--nonblocking: the workers are not paused to be read); the top entries."""
        assert server.process is not None
        raw = self.scratch / f"profile-{server.label}-{target.name}.txt"
        spy = subprocess.Popen(
            [str(Path(sys.executable).with_name("py-spy")), "record", "--pid",
             str(server.process.pid), "--subprocesses", "--nonblocking", "--format", "raw",
             "--rate", "200", "--duration", f"{self.duration:g}", "--output", str(raw)],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.wrk(server, target, slots, paths, self.duration)
        spy.wait(timeout=self.duration + 60)
        return profile_summary(raw)

    def run(
        self, server: Server, target: Target, slots: Slots | None, paths: list[str]
    ) -> Run | str:
        """Warm up, then measure one target; a string says why it could not be measured."""
        refusal = self.probe(server, target, slots, paths)
        if refusal:
            return refusal
        if self.warmup > 0:
            self.wrk(server, target, slots, paths, self.warmup)
        return self.wrk(server, target, slots, paths, self.duration)

    def probe(self, server: Server, target: Target, slots: Slots | None, paths: list[str]) -> str:
        """One request by hand: a target that answers an error is reported, not loaded."""
        if target.method == "GET":
            path = paths[0] if target.kind == "detail" else self.path(server, target)
            headers = {**self.cookie_header(server), **dict(target.headers)}
            status, _, text = fetch(server, "GET", path, headers=headers)
        else:
            body = self.bodies(server, target, slots, 1)[0]
            status, _, text = fetch(server, "POST", target.path, body, post_headers(server))
        if status >= 400:
            title = re.search(r"<title>(.*?)</title>", text, re.S)
            return f"HTTP {status}" + (f" ({title.group(1).strip()})" if title else "")
        return ""

    def cookie_header(self, server: Server) -> dict[str, str]:
        return {"Cookie": server.cookie} if server.cookie else {}

    def bodies(self, server: Server, target: Target, slots: Slots | None, count: int) -> list[str]:
        if target.kind == "booking":
            assert slots is not None
            return form_bodies(slots, count, server.token)
        extra = {"csrf_token": server.token} if server.token else {}
        return [urlencode({"title": "Benchmark insert", **extra})] * count

    def wrk_args(self, server: Server, seconds: float) -> list[str]:
        """wrk's command line up to the script: threads, connections, duration, cookie."""
        args = [
            "wrk", "-t", str(self.threads), "-c", str(self.connections),
            "-d", f"{seconds:g}s", "--timeout", "10s",
        ]  # fmt: skip
        if server.cookie:
            args += ["-H", f"Cookie: {server.cookie}"]
        return args

    def wrk(
        self, server: Server, target: Target, slots: Slots | None, paths: list[str], seconds: float
    ) -> Run:
        args = self.wrk_args(server, seconds)
        if target.kind == "detail":
            ids = self.scratch / f"paths-{server.label}.txt"
            ids.write_text("\n".join(paths) + "\n")
            args += ["-s", str(wrk_script(self.scratch, "detail", "random_path.lua"))]
            args += [server.base + "/", "--", str(ids)]
        elif target.method == "POST":
            count = int(BOOKINGS_PER_SECOND_CAP * seconds) + 100
            lines = self.scratch / f"bodies-{target.name}.txt"
            lines.write_text("\n".join(self.bodies(server, target, slots, count)) + "\n")
            if server.token:
                args += ["-H", f"X-CSRFToken: {server.token}"]
            args += ["-s", str(wrk_script(self.scratch, "posts", "form_posts.lua"))]
            args += [server.base + "/", "--", str(lines), target.path, str(self.threads)]
        else:
            for name, value in target.headers:
                args += ["-H", f"{name}: {value}"]
            args += ["-s", str(wrk_script(self.scratch, "plain"))]
            args += [server.base + self.path(server, target)]
        return run_wrk(args)

    def path(self, server: Server, target: Target) -> str:
        """The target's path; the calendar's on the week written into its store."""
        if target.kind != "calendar":
            return target.path
        week = self.weeks[server.label]
        return target.path.format(
            day=week.day.isoformat(),
            monday=week.monday.isoformat(),
            specialty=quote_plus(week.specialty),
        )


def profile_summary(raw: Path, top: int = 12) -> str:
    """py-spy's raw stacks as two short tables: the functions the samples were in (own
    time) and the app's functions and templates they passed through (inclusive)."""
    own: dict[str, int] = {}
    inclusive: dict[str, int] = {}
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        total += samples
        # "function (path/file.py:123)": one entry per function, whatever its line.
        frames = [re.sub(r":\d+\)$", ")", frame) for frame in stack.split(";")]
        own[frames[-1]] = own.get(frames[-1], 0) + samples
        for frame in set(frames):
            if f"({ROOT}/app/" in frame or "(app/" in frame or frame.endswith(".html)"):
                inclusive[frame] = inclusive.get(frame, 0) + samples
    if not total:
        return "  (no samples)"

    def table(counts: dict[str, int]) -> list[str]:
        ranked = sorted(counts.items(), key=lambda item: -item[1])[:top]
        return [f"  {100 * n / total:5.1f}%  {_short(frame)}" for frame, n in ranked]

    return "\n".join(
        [f"  {total:,} samples; own time:", *table(own), "  in the app (inclusive):",
         *table(inclusive)]
    )  # fmt: skip


def _short(frame: str) -> str:
    return re.sub(r"\(/.*?/(app|templates|site-packages)/", r"(\1/", frame)


def copy_of(url: str) -> str:
    copy = _pg.sqlalchemy_url(url, database=_pg.database_name(url) + "_http")
    _pg.clone_database(url, copy)
    print(f"Measuring on {_pg.database_name(copy)}, a fresh copy of the store.")
    return copy


def vacuum_analyze(url: str) -> None:
    """What autovacuum does to a table after thousands of new rows: the planner's
    statistics, and the visibility map that index-only scans read."""
    with psycopg.connect(_pg.conninfo(url), autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE) rm_appointments")
        conn.execute("VACUUM (ANALYZE) rm_doctors")


def run_wrk(args: list[str]) -> Run:
    """Run wrk with a script that ends in report.lua, and read the figures it prints."""
    done = subprocess.run(args, capture_output=True, text=True, check=True)
    found = re.search(r"^WRK_JSON (.*)$", done.stdout, re.M)
    if not found:
        sys.exit(f"wrk printed no figures:\n{done.stdout}\n{done.stderr}")
    raw = json.loads(found.group(1))
    return Run(
        requests=raw["requests"],
        seconds=raw["duration_us"] / 1e6,
        p50_ms=raw["p50_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        bad_status=raw["status"],
        socket_errors=raw["connect"] + raw["read"] + raw["write"] + raw["timeout"],
        exhausted=raw["exhausted"],
    )


def cpu_busy(seconds: float = 1.0) -> float:
    """The share of the machine's CPU time that was busy over `seconds` (from /proc/stat)."""

    def sample() -> tuple[int, int]:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = fields[3] + fields[4]  # idle and iowait
        return sum(fields[:8]), idle

    total, idle = sample()
    time.sleep(seconds)
    total2, idle2 = sample()
    return 1 - (idle2 - idle) / max(total2 - total, 1)


def wait_for_quiet(limit: float, threshold: float = 0.15) -> bool:
    """Wait, up to `limit` seconds, for the other work on this shared machine to pause (our
    own servers are idle between runs); True if it did."""
    deadline = time.monotonic() + limit
    while True:
        if cpu_busy() < threshold:
            return True
        if time.monotonic() >= deadline:
            return False


# -- report --


def row_label(target: Target) -> str:
    # The calendar's query strings are filled per store: the path alone fits the column.
    path = target.path.split("?", 1)[0] if target.kind == "calendar" else target.path
    return f"{target.name} ({target.method} {path})"


def print_table(title: str, tallies: dict[str, Tally]) -> None:
    """One line per target: medians over the rounds, errors summed, ratio to its baseline."""
    print(f"\n{title}")
    header = f"{'target':<44}{'db':>6}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}"
    print(header + f"{'ratio':>8}")
    for key, tally in tallies.items():
        label, name = key.split(":", 1)
        target = next(t for t in TARGETS if t.name == name)
        head = f"{row_label(target):<44}{label:>6}"
        if tally.refused:
            print(f"{head}   not measured: {tally.refused}")
            continue
        rate = tally.median("ok_per_second")
        errors = sum(run.bad_status + run.socket_errors for run in tally.runs)
        ratio = ""
        base = tallies.get(f"main:{target.baseline}") if target.baseline else None
        if base is not None and base.runs:
            ratio = f"{rate / base.median('ok_per_second'):.2f}"
        elif target.baseline is None:
            ratio = "1.00"
        print(
            f"{head}{rate:>9,.0f}{tally.median('p50_ms'):>9.1f}{tally.median('p99_ms'):>9.1f}"
            f"{errors:>8}{ratio:>8}"
        )
        if any(run.requests == 0 for run in tally.runs):
            print("  warning: a run completed no request (each took longer than the run?)")
        if any(run.exhausted for run in tally.runs):
            print("  warning: a wrk thread ran out of prepared bodies; raise the cap")


def print_scale(tallies: dict[str, Tally]) -> None:
    """The pages measured on both stores, side by side."""
    print("\nSame pages, 1M-event store against 10k-event store (ratio of medians, 1M / 10k):")
    print(f"{'page':<10}{'req/s 1M':>10}{'req/s 10k':>11}{'ratio':>7}{'p99 1M':>9}{'p99 10k':>9}")
    for name in PAGES:
        big, small = tallies.get(f"main:{name}"), tallies.get(f"small:{name}")
        if not big or not small or not big.runs or not small.runs:
            print(f"{name:<10}   not measured")
            continue
        rate_big, rate_small = big.median("ok_per_second"), small.median("ok_per_second")
        print(
            f"{name:<10}{rate_big:>10,.0f}{rate_small:>11,.0f}{rate_big / rate_small:>7.2f}"
            f"{big.median('p99_ms'):>9.1f}{small.median('p99_ms'):>9.1f}"
        )


def describe(url: str) -> str:
    """One line on what a store holds, so a report says what it measured."""
    with psycopg.connect(_pg.conninfo(url), autocommit=True) as conn:
        events = conn.execute("SELECT count(*) FROM events").fetchone()
        appointments = conn.execute("SELECT count(*) FROM rm_appointments").fetchone()
        today = conn.execute(
            "SELECT count(*) FROM rm_appointments WHERE local_day = %s", (datetime.now(TZ).date(),)
        ).fetchone()
        behind = conn.execute(
            "SELECT count(*) FROM projection_checkpoints c "
            "WHERE c.position < (SELECT coalesce(max(position), 0) FROM events)"
        ).fetchone()
    assert events and appointments and today and behind
    note = f", {behind[0]} projection(s) behind the log" if behind[0] else ""
    return (
        f"{_pg.database_name(url)}: {events[0]:,} events, {appointments[0]:,} appointments, "
        f"{today[0]} today{note}"
    )


# -- main --


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_HTTP_URL", _pg.sqlalchemy_url(SERVER, database="rendezvous_bench_events")
        ),
    )
    parser.add_argument(
        "--small-url", default=_pg.sqlalchemy_url(SERVER, database="rendezvous_bench_small")
    )
    parser.add_argument(
        "--in-place",
        action="store_true",
        help="book into --database-url itself, not into a fresh copy of it",
    )
    parser.add_argument("--compare-small", action="store_true", help="pages on both databases")
    parser.add_argument("--duration", type=float, default=10, help="seconds per measured run")
    parser.add_argument("--warmup", type=float, default=2, help="seconds before each run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--targets",
        default=",".join(t.name for t in TARGETS),
        help="comma-separated, from: " + ", ".join(t.name for t in TARGETS),
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=120,
        help="seconds to wait before each run for other work to pause (0: do not wait)",
    )
    parser.add_argument(
        "--broker", default=None, help="e.g. redis://127.0.0.1:6379/13: project in a worker"
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="after the rounds, one more run of each target under py-spy (not counted): "
        "its top entries",
    )
    parser.add_argument(
        "--calendar-memo",
        type=int,
        default=None,
        help="CALENDAR_MEMO_SIZE for the servers (0: every grid and week worked out afresh, "
        "as when the read models change between requests); default: the app's",
    )
    args = parser.parse_args()
    # Stopped by a signal, the run must still stop its servers and drop its copy; a shell
    # starts a background job with SIGINT ignored, hence both handlers.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped by SIGTERM"))
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (Debian: apt-get install wrk).")
    wanted = set(args.targets.split(","))
    unknown = wanted - {t.name for t in TARGETS}
    if unknown:
        sys.exit(f"unknown targets: {', '.join(sorted(unknown))}")
    targets = [t for t in TARGETS if t.name in wanted]

    calendar = any(t.kind == "calendar" for t in targets)
    url, small_url = args.database_url, args.small_url
    copies = []
    if not args.in_place:
        # Bookings add appointments, the calendar its week: on a copy, every run starts
        # from the same store.
        url = copy_of(args.database_url)
        copies.append(url)
        if args.compare_small and calendar:
            small_url = copy_of(args.small_url)
            copies.append(small_url)
    servers = {"main": Server("main", url, args.port)}
    if args.compare_small:
        servers["small"] = Server("small", small_url, args.port + 1)
    load_weeks: dict[str, Fixture] = {}
    engine = sa.create_engine(_pg.sqlalchemy_url(url))
    ensure_table(engine)
    engine.dispose()
    for label, server in servers.items():
        if calendar:
            started = time.monotonic()
            week = load_weeks[label] = add_week(server.url)
            print(
                f"{_pg.database_name(server.url)}: the calendar's week of {week.doctors} doctors "
                f"written ({week.events:,} events, {time.monotonic() - started:.0f} s), "
                f"{week.monday} to {week.monday + timedelta(days=6)}, full day {week.day}"
            )
            vacuum_analyze(server.url)
        print(describe(server.url))
    print(
        f"gunicorn {args.workers} sync workers; wrk {args.threads} threads, "
        f"{args.connections} connections, {args.warmup:g} s warm-up + {args.duration:g} s per "
        f"run, {args.rounds} interleaved round(s), median shown; {os.cpu_count()} CPUs shared "
        f"by server, database and wrk; projections "
        f"{'in a Celery worker' if args.broker else 'inline, in the web process'}."
    )

    scratch = Path(tempfile.mkdtemp(prefix="rendezvous-bench-http-"))
    load = Load(args.connections, args.threads, args.duration, args.warmup, scratch, load_weeks)
    tallies: dict[str, Tally] = {}
    with ExitStack() as stack:
        for copy in copies:
            stack.callback(_pg.drop_database, copy)  # runs last, once the servers have stopped
        for label, server in servers.items():
            broker = args.broker if label == "main" else None
            extra = {}
            if args.calendar_memo is not None:
                extra["CALENDAR_MEMO_SIZE"] = str(args.calendar_memo)
            stack.enter_context(serving(server, args.workers, broker, scratch, env=extra))
        paths = {label: sample_paths(s.url) for label, s in servers.items()}
        slots = Slots(url) if "booking" in wanted else None
        plan = [("main", t) for t in targets]
        if args.compare_small:
            # Each small-store page right after its big-store twin, so drift hits both alike.
            plan = [
                step
                for label, t in plan
                for step in [(label, t)] + ([("small", t)] if t.name in PAGES else [])
            ]
        for number in range(1, args.rounds + 1):
            for label, target in plan:
                tally = tallies.setdefault(f"{label}:{target.name}", Tally())
                if tally.refused:
                    continue
                quiet = wait_for_quiet(args.quiet_wait) if args.quiet_wait > 0 else True
                outcome = load.run(servers[label], target, slots, paths[label])
                if isinstance(outcome, str):
                    tally.refused = outcome
                    print(f"round {number}: {target.name} on {label}: {outcome}; skipped")
                    continue
                tally.runs.append(outcome)
                print(
                    f"round {number}: {target.name:<12} {label:<6}{outcome.ok_per_second:>8,.0f}/s"
                    f"  p50 {outcome.p50_ms:6.1f} ms  p99 {outcome.p99_ms:6.1f} ms"
                    f"  errors {outcome.bad_status + outcome.socket_errors}"
                    + ("" if quiet else "  (machine busy with other work at the start)"),
                    flush=True,
                )
        if args.profile:
            for label, target in plan:
                if tallies.get(f"{label}:{target.name}", Tally()).refused:
                    continue
                print(f"\nprofile, {target.name} on {label} (py-spy, every gunicorn worker):")
                print(load.profile(servers[label], target, slots, paths[label]), flush=True)
    print_table("Requests per second (successful), latency, errors, ratio to baseline:", tallies)
    if args.compare_small:
        print_scale(tallies)
    print(f"\nwrk scripts, request files and server logs: {scratch}")


if __name__ == "__main__":
    main()
