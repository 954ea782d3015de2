"""Figures about the system itself, for /metrics and /readyz: the event store's size and
the projections' lag (whether the databases and Redis answer: app.ops.probes).

Counting a million events takes PostgreSQL 70 to 130 ms, and the lag of a projection a
million events behind about half a second (it counts them), so the figures read from the
databases are kept a few seconds per process: scrapers and load balancers asking at once
cost one query, not one each. A figure that was slow to work out is kept longer (ten times
as long as it took), so that a projection far behind does not keep the database busy
counting how far.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import REGCLASS

from app.eventstore import EventStore
from app.eventstore.tables import events
from app.projections.projector import ProjectionStatus, Projector, statuses

T = TypeVar("T")

# The table, its indexes and its TOAST (the large JSON payloads): what the log costs on disk.
EVENTS_TABLE = sa.cast(sa.literal(events.name), REGCLASS)
EVENTS_BYTES = sa.select(sa.func.pg_total_relation_size(EVENTS_TABLE))


@dataclass(frozen=True)
class StoreSize:
    """How many events the store holds, and the bytes they take (on SQLite: the whole
    database file, read models included, which is one file there)."""

    events: int
    bytes: int


def store_size(store: EventStore) -> StoreSize:
    """Count the events and measure their table, now."""
    count = store.count()
    with store.engine.connect() as conn:
        if store.is_postgres:
            size = conn.execute(EVENTS_BYTES).scalar_one()
        else:
            pages = conn.exec_driver_sql("PRAGMA page_count").scalar_one()
            size = pages * conn.exec_driver_sql("PRAGMA page_size").scalar_one()
    return StoreSize(int(count), int(size))


# A figure is kept at least this many times as long as it took to work out.
SLOW_FACTOR = 10


class Recent(Generic[T]):
    """The value of `compute`, worked out again only once it is `seconds` old (or, if it was
    slow to work out, SLOW_FACTOR times as long as that took); 0 seconds: every time.
    Callers who come while it is being worked out wait for that result rather than ask
    again. A failure is not kept."""

    def __init__(
        self,
        compute: Callable[[], T],
        seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.compute, self.seconds, self.clock = compute, seconds, clock
        self._lock = threading.Lock()
        self._value: T | None = None
        self._at = self._kept_for = 0.0

    def get(self) -> T:
        if self.seconds <= 0:
            return self.compute()
        with self._lock:
            if self._value is None or self.clock() - self._at >= self._kept_for:
                started = self.clock()
                self._value = self.compute()
                self._at = self.clock()
                self._kept_for = max(self.seconds, SLOW_FACTOR * (self._at - started))
            return self._value


class SystemFigures:
    """The store's size and the projections' lag, each kept `seconds` in this process."""

    def __init__(self, store: EventStore, projector: Projector, seconds: float) -> None:
        self._size = Recent(lambda: store_size(store), seconds)
        self._lag = Recent(lambda: statuses(projector), seconds)

    def size(self) -> StoreSize:
        return self._size.get()

    def lag(self) -> list[ProjectionStatus]:
        return self._lag.get()
