"""One call of each cached read repository in this process, reading the database and hitting
the cache, side by side: what a hit saves, and how much of a hit is the Redis round trip
(bench/http_cache.py's last part; it explains the page figures before it)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import _pg
import psycopg
import sqlalchemy as sa
from _http_slots import TZ
from prometheus_client import REGISTRY

from app.config import engine_options
from app.queries.cache import ReadCache, connect
from app.queries.reads import SHAPE, Reads


def measure_reads(url: str, redis_url: str, prefix: str, calls: int = 2000) -> None:
    """Print, per repository, the median of `calls` calls: database, cache hit, and the hit's
    MGET alone (entries under `prefix`, as the cached server's)."""
    today = datetime.now(TZ).date()
    with psycopg.connect(_pg.conninfo(url), autocommit=True) as conn:
        ids = [r[0] for r in conn.execute("SELECT appointment_id FROM rm_appointments LIMIT 500")]
        busiest = conn.execute(
            "SELECT doctor_id FROM rm_appointments WHERE local_day = %s GROUP BY 1 "
            "ORDER BY count(*) DESC LIMIT 1",
            (today,),
        ).fetchone()
    if not ids or busiest is None:
        print("\n(no appointments today: the in-process reads were not measured)")
        return
    doctor: UUID = busiest[0]
    engine = sa.create_engine(_pg.sqlalchemy_url(url), **engine_options(url))
    # Built as create_app builds the app's (the shape is what entries are checked against).
    cache = ReadCache(connect(redis_url), prefix=prefix, ttl=300, shape=SHAPE)
    plain, cached = Reads(engine, TZ), Reads(engine, TZ)
    cached.cache = cache
    monday = today - timedelta(days=today.weekday())
    cases: dict[str, tuple[Callable[[Reads, int], Any], Callable[[int], str]]] = {
        "appointment_detail": (
            lambda r, n: r.appointment_detail(ids[n % len(ids)]),
            lambda n: cache.key("appointment", ids[n % len(ids)]),
        ),
        "day_counts": (lambda r, n: r.day_counts(today), lambda n: cache.key("today", today, None)),
        "agenda_day": (
            lambda r, n: r.agenda_for_day(doctor, today),
            lambda n: cache.key("agenda", doctor, today),
        ),
        "agenda_week": (
            lambda r, n: r.agenda_for_week(doctor, monday),
            lambda n: cache.key("week", doctor, monday),
        ),
    }
    print(f"\nOne read in this process, median of {calls:,} calls, in microseconds (the agendas:")
    print("the doctor with most appointments today; every call timed, cache hits only):")
    print(f"{'repository':<22}{'database':>10}{'cache hit':>11}{'of which MGET':>15}{'ratio':>7}")
    for name, (call, key) in cases.items():
        for n in range(calls):  # the first pass stores what the second reads
            call(cached, n)
        database = _median(lambda n, call=call: call(plain, n), calls)
        misses = _misses(name)
        hit = _median(lambda n, call=call: call(cached, n), calls)
        if _misses(name) != misses:
            print(f"  ({name}: {_misses(name) - misses:.0f} of the timed calls missed)")
        # The round trip a hit makes (private names: the cache's own three keys).
        trip = _median(
            lambda n, key=key: cache.client.mget(
                cache._epoch, cache._generation(key(n)), cache._value(key(n))
            ),
            calls,
        )
        print(f"{name:<22}{database:>10.0f}{hit:>11.0f}{trip:>15.0f}{hit / database:>7.2f}")
    cache.client.close()
    engine.dispose()


def _misses(repository: str) -> float:
    found = REGISTRY.get_sample_value("rendezvous_cache_misses_total", {"repository": repository})
    return found or 0.0


def _median(call: Callable[[int], Any], calls: int) -> float:
    times = []
    for n in range(calls):
        started = time.perf_counter()
        call(n)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1e6
