"""The projector: feeds committed events to projections, a batch per transaction.

For each projection it owns what no projection should write itself:
* one checkpoint row, locked for the batch (`SKIP LOCKED`), so a second worker running the
  same projection passes instead of applying the batch twice;
* events read in the store's never-skip order, after the checkpoint, in batches;
* the read-model writes and the checkpoint's advance in one transaction: a worker killed
  mid-batch leaves neither, and the next run does the batch again;
* a handler that keeps failing on one event: the events before it are kept, the failure is
  counted on the checkpoint, and after `max_failures` attempts the event is parked there
  (the projection waits at it; `flask projections retry|skip` moves it on).
Lost connections are not the event's fault: they are raised for the caller (the Celery
task) to retry with backoff.

With a read cache, the projector also invalidates the cache entries a batch makes stale, in
two steps around the commit (see `Invalidation`): no reader can see a cached page older
than the read model it has just been able to read.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Protocol

from sqlalchemy.engine import Connection, Engine

from app import metrics
from app.eventstore import DATABASE_DOWN, START, Checkpoint, EventStore, RecordedEvent

from . import checkpoints as cp
from .projection import Projection
from .view import TableStatements, Tag, View

log = logging.getLogger(__name__)

# Every cache entry: what a rebuild's swap makes stale.
EVERYTHING: Tag = ("all",)


class InvalidationError(RuntimeError):
    """The cache entries a batch makes stale could not be invalidated (the cache is
    unreachable): the batch is not committed, and is tried again later."""


class Invalidation(Protocol):
    """How the projector keeps a read cache in step (app.queries.cache implements it).

    `begin` runs just before the commit and must make every entry under `tags` unusable,
    and stop them being filled, until `end`; it raises InvalidationError if it cannot, and
    the batch is rolled back. `end` runs after the commit (or the rollback) and lets the
    entries be filled again, from the new rows; it never raises.
    """

    def begin(self, tags: set[Tag]) -> None: ...

    def end(self, tags: set[Tag]) -> None: ...


# Errors of the connection, not of the event: retry later rather than count against it.
TRANSIENT: tuple[type[Exception], ...] = (*DATABASE_DOWN, InvalidationError)


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A write transaction on the read database: on SQLite the write lock is taken up front
    (see bootstrap.prepare_sqlite), so a check made inside it still holds at the commit."""
    with engine.connect() as conn:
        conn.execution_options(write=True)
        with conn.begin():
            yield conn


class HandlerError(Exception):
    """A projection handler raised while applying one event."""

    def __init__(self, record: RecordedEvent, cause: Exception) -> None:
        super().__init__(f"{record.event_type} at position {record.position}: {cause!r}")
        self.record, self.cause = record, cause


def apply_batch(
    view: View, projection: Projection, records: Sequence[RecordedEvent], *, flush: bool = True
) -> None:
    """Apply `records` to `view` and, unless told not to, write the result (the caller owns
    the transaction)."""
    mine = [record for record in records if projection.handles(record)]
    view.prefetch(projection.wanted(mine))
    for record in mine:
        try:
            projection.apply(view, record)
        except TRANSIENT:
            raise
        except Exception as exc:
            raise HandlerError(record, exc) from exc
    if flush:
        view.flush()


@dataclass(frozen=True)
class RunReport:
    """What one run did: events applied, and why it stopped."""

    name: str
    applied: int
    outcome: str  # caught_up | held_back | busy | parked | needs_rebuild | more


class Projector:
    """Runs projections over the event store into the read database."""

    def __init__(
        self,
        store: EventStore,
        engine: Engine,
        projections: Iterable[Projection],
        *,
        tz: tzinfo,
        region: str = "FR",
        batch_size: int = 500,
        max_failures: int = 3,
        backoff: float = 0.05,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store, self.engine, self.tz, self.region = store, engine, tz, region
        self.projections = {projection.name: projection for projection in projections}
        self.batch_size, self.max_failures = batch_size, max_failures
        self.backoff, self.clock = backoff, clock
        self.invalidation: Invalidation | None = None
        dialect = engine.dialect.name
        self.statements = {
            table: TableStatements(table, dialect)
            for projection in self.projections.values()
            for table in projection.tables
        }

    @property
    def names(self) -> list[str]:
        return list(self.projections)

    def projection(self, name: str) -> Projection:
        try:
            return self.projections[name]
        except KeyError:
            known = ", ".join(self.projections)
            raise LookupError(f"No projection named {name!r} (known: {known}).") from None

    def settle(self, name: str, *, patience: float = 2.0) -> RunReport:
        """Run `name`, and while events are held back by a transaction still open somewhere
        on the server, look again every 20 ms for up to `patience` seconds, rather than
        leave them to the next tick. (Busy needs no waiting: the runner that holds the
        projection looks for new events after it commits.)"""
        report = self.run(name)
        applied, deadline = report.applied, time.monotonic() + patience
        while report.outcome == "held_back" and time.monotonic() < deadline:
            time.sleep(0.02)
            report = self.run(name)
            applied += report.applied
        return RunReport(name, applied, report.outcome)

    def run_all(self) -> list[RunReport]:
        return [self.run(name) for name in self.projections]

    def run(self, name: str, *, max_batches: int | None = None) -> RunReport:
        """Apply batches until caught up, or until parked, busy elsewhere or out of date.

        Caught up is checked again after each commit: an event that committed while this
        run held the projection was maybe turned away as "busy" by another runner, so this
        one must not stop before looking for it."""
        projection = self.projection(name)
        applied = batches = 0
        while max_batches is None or batches < max_batches:
            outcome, count, failures, reached = self._batch(projection)
            applied += count
            batches += 1
            if outcome == "missing":
                self.ensure(name)
            elif outcome == "failed":
                # Not parked yet: give a passing cause (a lock, a restart) a moment.
                time.sleep(min(self.backoff * 2 ** (failures - 1), 2.0))
            elif outcome == "caught_up" and self.store.any_after(reached):
                if not count:
                    # Later events wait for an older transaction, open somewhere on the
                    # server, to end: the caller should look again soon.
                    return RunReport(name, applied, "held_back")
            elif outcome != "more":
                return RunReport(name, applied, outcome)
        return RunReport(name, applied, "more")

    @contextmanager
    def transaction(self, stale: set[Tag] | None = None) -> Iterator[Connection]:
        """A write transaction on the read database (on SQLite, the write lock is taken up
        front: see bootstrap.prepare_sqlite). Tags added to `stale` within it are
        invalidated in the cache around its commit."""
        invalidation = self.invalidation if stale is not None else None
        try:
            with write_transaction(self.engine) as conn:
                yield conn
                if invalidation is not None and stale:
                    invalidation.begin(stale)
        finally:
            if invalidation is not None and stale:
                invalidation.end(stale)

    def ensure(self, name: str) -> bool:
        """Create the projection's checkpoint row if it is missing (a new projection, or a
        read database just created); returns whether it was missing."""
        with self.transaction() as conn:
            return cp.ensure(conn, self.projection(name))

    def _batch(self, projection: Projection) -> tuple[str, int, int, Checkpoint]:
        started, stale = time.perf_counter(), set[Tag]()
        with self.transaction(stale) as conn:
            row = cp.lock(conn, projection, wait=False)
            if row is None:
                outcome = "busy" if cp.exists(conn, projection.name) else "missing"
                return outcome, 0, 0, START
            if row.parked_at is not None:
                return "parked", 0, 0, row.checkpoint
            if row.version != projection.version and row.checkpoint != START:
                return "needs_rebuild", 0, 0, row.checkpoint
            page = self.store.read_page(row.checkpoint, self.batch_size, projection.event_types)
            records, now = page.records, self.clock()
            reached = page.scanned_to
            if not records:
                if reached > row.checkpoint:  # only other projections' events
                    cp.advance(conn, projection, reached, None, now)
                return ("more" if page.full else "caught_up"), 0, 0, reached
            done, failure = self._apply_guarded(conn, projection, records, stale)
            if failure is None:
                cp.advance(conn, projection, reached, records[-1].recorded_at, now)
            else:
                if done:
                    cp.advance(conn, projection, done[-1].checkpoint, done[-1].recorded_at, now)
                record, error = failure
                failures = cp.record_failure(conn, row, record, error, self.max_failures, now)
        self._observe(projection.name, len(done), started)
        if failure is None:
            return ("more" if page.full else "caught_up"), len(done), 0, reached
        self._log_failure(projection.name, record, error, failures)
        outcome = "failed" if failures < self.max_failures else "parked"
        return outcome, len(done), failures, START

    @staticmethod
    def _observe(name: str, applied: int, started: float) -> None:
        """Count a committed batch that applied events (an idle look is not a batch)."""
        if applied:
            metrics.PROJECTION_EVENTS.labels(name).inc(applied)
            metrics.PROJECTION_BATCH_SECONDS.labels(name).observe(time.perf_counter() - started)

    def _apply_guarded(
        self,
        conn: Connection,
        projection: Projection,
        records: list[RecordedEvent],
        stale: set[Tag],
    ) -> tuple[list[RecordedEvent], tuple[RecordedEvent, Exception] | None]:
        """Apply the batch; on a failure, keep what precedes the failing event. The cache
        tags of what was kept are added to `stale`."""
        try:
            self._apply_in_savepoint(conn, projection, records, stale)
            return records, None
        except TRANSIENT:
            raise
        except HandlerError as exc:
            culprit = records.index(exc.record)
            try:
                self._apply_in_savepoint(conn, projection, records[:culprit], stale)
                return records[:culprit], (exc.record, exc.cause)
            except TRANSIENT:
                raise
            except Exception:  # fall back to one event at a time, below
                pass
        except Exception:  # a write failed: find the event, one at a time
            pass
        for index, record in enumerate(records):
            try:
                self._apply_in_savepoint(conn, projection, [record], stale)
            except TRANSIENT:
                raise
            except Exception as exc:
                cause = exc.cause if isinstance(exc, HandlerError) else exc
                return records[:index], (record, cause)
        return records, None

    def _apply_in_savepoint(
        self,
        conn: Connection,
        projection: Projection,
        records: list[RecordedEvent],
        stale: set[Tag],
    ) -> None:
        # Tags cost a query per patient rename: only worth it with a cache to invalidate.
        taggers = projection.taggers if self.invalidation is not None else None
        view = View(conn, self.statements, self.tz, taggers, region=self.region)
        with conn.begin_nested():
            apply_batch(view, projection, records)
        stale |= view.tags

    def _log_failure(
        self, name: str, record: RecordedEvent, error: Exception, failures: int
    ) -> None:
        where = f"{name}: {record.event_type} at position {record.position}"
        if failures >= self.max_failures:
            log.error("Parked %s after %d failures: %r", where, failures, error)
        else:
            log.warning("Projection failed on %s (attempt %d): %r", where, failures, error)


@dataclass(frozen=True)
class ProjectionStatus:
    """Where a projection stands, for `flask projections status` and the operations page."""

    name: str
    code_version: int
    row: cp.CheckpointRow | None
    events_behind: int
    seconds_behind: float

    @property
    def state(self) -> str:
        if self.row is None:
            return "not started"
        if self.row.parked_at is not None:
            return "parked"
        if self.row.version != self.code_version and self.row.checkpoint != START:
            return "needs rebuild"
        if self.row.failures:
            return "retrying"
        return "behind" if self.events_behind else "up to date"


def statuses(projector: Projector, only: str | None = None) -> list[ProjectionStatus]:
    """Every projection's (or `only` that one's) checkpoint and lag, measured against the
    store now: a count of the events behind each."""
    with projector.engine.connect() as conn:
        rows = cp.read_all(conn)
    now = projector.clock()
    found = []
    # Projections that are level share a checkpoint: its backlog is counted once.
    backlogs: dict[Checkpoint, tuple[int, datetime | None]] = {}
    for name, projection in projector.projections.items():
        if only is not None and name != only:
            continue
        row = rows.get(name)
        checkpoint = row.checkpoint if row else START
        if checkpoint not in backlogs:
            backlogs[checkpoint] = projector.store.backlog(checkpoint)
        behind, oldest = backlogs[checkpoint]
        seconds = max((now - oldest).total_seconds(), 0.0) if oldest else 0.0
        found.append(ProjectionStatus(name, projection.version, row, behind, seconds))
    return found
