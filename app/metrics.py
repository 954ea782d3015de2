"""The app's Prometheus metrics, defined once for every process that records them.

Under gunicorn and Celery each process records into its own files in
PROMETHEUS_MULTIPROC_DIR (set in the environment before the process starts), and /metrics
adds them up; without that variable the metrics live in the one process. Figures that are
read from the databases when scraped (the store's size, the projections' lag) are not
recorded here: see `app.web.ops.metrics`.

Names follow Prometheus' conventions: a unit suffix, `_total` on counters. There is no
live gauge (a process's files would then need `mark_process_dead` when it ends).
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, multiprocess

# Commands take a few milliseconds; a slow one (a lock wait) up to seconds.
LATENCY_BUCKETS = (
    0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0,
    2.5, 5.0, 10.0,
)  # fmt: skip

EVENTS_APPENDED = Counter(
    "rendezvous_events_appended",
    "Events appended to the event store, by event type.",
    ["event_type"],
)
COMMAND_SECONDS = Histogram(
    "rendezvous_command_duration_seconds",
    "Time to handle a command (load, decide, append, commit), by command and outcome "
    "(ok, rejected, conflict, error).",
    ["command", "outcome"],
    buckets=LATENCY_BUCKETS,
)
QUERY_SECONDS = Histogram(
    "rendezvous_query_duration_seconds",
    "Time to answer a read-repository query, cache included, by repository.",
    ["repository"],
    buckets=LATENCY_BUCKETS,
)
CACHE_HITS = Counter(
    "rendezvous_cache_hits",
    "Reads answered from the Redis cache, by read repository.",
    ["repository"],
)
CACHE_MISSES = Counter(
    "rendezvous_cache_misses",
    "Reads the Redis cache could not answer (absent, invalidated, or Redis unreachable), "
    "by read repository.",
    ["repository"],
)
CACHE_ERRORS = Counter(
    "rendezvous_cache_errors",
    "Cache operations that failed because Redis was unreachable or erred, by operation.",
    ["operation"],
)
PROJECTION_EVENTS = Counter(
    "rendezvous_projection_events_processed",
    "Events applied to read models and committed, by projection.",
    ["projection"],
)
PROJECTION_BATCH_SECONDS = Histogram(
    "rendezvous_projection_batch_duration_seconds",
    "Time to apply and commit one batch of events, by projection.",
    ["projection"],
    buckets=LATENCY_BUCKETS,
)
TASK_FAILURES = Counter(
    "rendezvous_celery_task_failures",
    "Celery tasks that raised (retries included), by task name.",
    ["task"],
)
RELAY_PUBLISHED = Counter(
    "rendezvous_relay_events_published",
    "Events the relay added to the outbound Redis stream.",
    ["stream"],
)
REMINDERS = Counter(
    "rendezvous_reminders",
    "Reminders by channel and outcome: sent, skipped, failed (to be retried), parked, "
    "dropped (the appointment changed first), recovered (recorded after a crash past "
    "the hand-over).",
    ["channel", "outcome"],
)


def registry() -> CollectorRegistry:
    """The metrics of every process on this host that shares PROMETHEUS_MULTIPROC_DIR
    (gunicorn's workers, Celery's pool), or of this process alone without it."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    combined = CollectorRegistry()
    multiprocess.MultiProcessCollector(combined)
    return combined


P = ParamSpec("P")
R = TypeVar("R")


def timed(repository: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Record each call's duration in QUERY_SECONDS under `repository`."""
    histogram = QUERY_SECONDS.labels(repository)

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(function)
        def timed_call(*args: P.args, **kwargs: P.kwargs) -> R:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                histogram.observe(time.perf_counter() - started)

        return timed_call

    return decorate
