"""Samples for the operations page's charts: every OPS_SAMPLE_SECONDS, the app's cumulative
metrics (as `app.metrics.registry()` reads them: every process on this host that shares
PROMETHEUS_MULTIPROC_DIR) and each projection's checkpoint and lag, one row each, kept two
hours. Charts are drawn from the differences between consecutive samples."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from prometheus_client import CollectorRegistry
from prometheus_client.metrics import MetricWrapperBase
from sqlalchemy.engine import Engine

from app import metrics
from app.domain.clinic_time import to_utc
from app.projections.projector import Projector, statuses
from app.projections.tables import ops_samples

from .charts import Point, bucket_deltas, counter_delta, quantile

KEEP = timedelta(hours=2)


def _family(metric: MetricWrapperBase) -> str:
    """The name the registry reports a metric's one family under."""
    (family,) = metric.describe()
    return family.name


# The metric families read, by the name the registry reports them under.
EVENTS = _family(metrics.EVENTS_APPENDED)
COMMANDS = _family(metrics.COMMAND_SECONDS)
HITS = _family(metrics.CACHE_HITS)
MISSES = _family(metrics.CACHE_MISSES)


@dataclass(frozen=True)
class Sample:
    taken_at: datetime
    payload: dict[str, Any]

    @property
    def at(self) -> float:
        return self.taken_at.timestamp()


def read_metrics(registry: CollectorRegistry) -> dict[str, Any]:
    """The cumulative figures the charts need, summed over every label: events appended,
    command durations' buckets (by `le`), cache hits and misses."""
    totals = {EVENTS: 0.0, HITS: 0.0, MISSES: 0.0}
    buckets: dict[str, float] = {}
    for family in registry.collect():
        for sample in family.samples:
            if family.name in totals and sample.name.endswith("_total"):
                totals[family.name] += sample.value
            elif family.name == COMMANDS and sample.name.endswith("_bucket"):
                le = sample.labels["le"]
                buckets[le] = buckets.get(le, 0.0) + sample.value
    return {
        "events": totals[EVENTS],
        "hits": totals[HITS],
        "misses": totals[MISSES],
        "command_buckets": buckets,
    }


def measure(projector: Projector) -> dict[str, Any]:
    """A sample's payload, read now."""
    lag = {
        status.name: {
            "position": status.row.position if status.row else 0,
            "behind": status.events_behind,
            "seconds": status.seconds_behind,
        }
        for status in statuses(projector)
    }
    return {**read_metrics(metrics.registry()), "projections": lag}


def take(projector: Projector, now: datetime, *, every: float | None = None) -> bool:
    """Store a sample taken now and forget those older than KEEP. With `every`, only if the
    last one is at least that many seconds old (checked again under a lock, so two web
    processes that both found it due store one); returns whether one was stored."""
    engine = projector.engine
    if every is not None and not _due(engine, now, every):
        return False
    payload = measure(projector)
    with projector.transaction() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext("ops_samples"))))
        if every is not None and not _due(conn, now, every):
            return False
        conn.execute(ops_samples.insert().values(taken_at=now, payload=payload))
        conn.execute(ops_samples.delete().where(ops_samples.c.taken_at < now - KEEP))
    return True


def _due(connectable: Any, now: datetime, every: float) -> bool:
    last = latest_time(connectable)
    return last is None or (now - last).total_seconds() >= every


def latest_time(connectable: Engine | sa.Connection) -> datetime | None:
    """When the last sample was taken."""
    query = sa.select(sa.func.max(ops_samples.c.taken_at))
    if isinstance(connectable, Engine):
        with connectable.connect() as conn:
            found = conn.execute(query).scalar()
    else:
        found = connectable.execute(query).scalar()
    return to_utc(found) if found is not None else None


def since(engine: Engine, start: datetime) -> list[Sample]:
    """The samples taken from `start` on, oldest first."""
    query = (
        sa.select(ops_samples.c.taken_at, ops_samples.c.payload)
        .where(ops_samples.c.taken_at >= start)
        .order_by(ops_samples.c.taken_at, ops_samples.c.id)
    )
    with engine.connect() as conn:
        return [Sample(to_utc(row.taken_at), row.payload) for row in conn.execute(query)]


@dataclass(frozen=True)
class Series:
    """The charts' lines, a point per interval between consecutive samples (lag: per sample)."""

    events_per_second: list[Point]
    p50: list[Point]
    p99: list[Point]
    hit_rate: list[Point]
    lag: dict[str, list[Point]]


def series(samples: Sequence[Sample]) -> Series:
    """Rates, latency quantiles and hit rates over each interval between two samples, placed
    at the later one; a counter that went down was reset by a restart (see counter_delta)."""
    rates: list[Point] = []
    p50: list[Point] = []
    p99: list[Point] = []
    hit_rate: list[Point] = []
    for before, after in itertools.pairwise(samples):
        seconds = after.at - before.at
        if seconds <= 0:
            continue
        old, new = before.payload, after.payload
        rates.append((after.at, counter_delta(old["events"], new["events"]) / seconds))
        buckets = bucket_deltas(old.get("command_buckets"), new.get("command_buckets", {}))
        p50.append((after.at, quantile(0.5, buckets)))
        p99.append((after.at, quantile(0.99, buckets)))
        hits = counter_delta(old["hits"], new["hits"])
        reads = hits + counter_delta(old["misses"], new["misses"])
        hit_rate.append((after.at, hits / reads if reads else None))
    lag: dict[str, list[Point]] = {}
    for sample in samples:
        for name, figures in sample.payload.get("projections", {}).items():
            lag.setdefault(name, []).append((sample.at, figures["seconds"]))
    return Series(rates, p50, p99, hit_rate, lag)


def throughput(samples: Sequence[Sample], name: str, now: datetime, position: int) -> float | None:
    """Events per second the projection `name` went through the log, from the oldest of
    `samples` to its `position` now; None without a sample a few seconds old."""
    for sample in samples:
        figures = sample.payload.get("projections", {}).get(name)
        seconds = (now - sample.taken_at).total_seconds()
        if figures is not None and seconds >= 1:
            return max(position - figures["position"], 0) / seconds
    return None
