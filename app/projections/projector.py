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
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from app import metrics
from app.eventstore import DATABASE_DOWN, START, Checkpoint, EventStore, Page, RecordedEvent

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


class _GuardNeeded(Exception):
    """A batch applied without savepoints failed: do it again with them."""


# A batch's outcome for one projection: outcome, events applied, failures counted, reached.
BatchResult = tuple[str, int, int, Checkpoint]


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
        return self.settle_many([name], patience=patience)[0]

    def settle_many(
        self, names: Sequence[str] | None = None, *, patience: float = 2.0
    ) -> list[RunReport]:
        """`settle` for several projections (all if None) in one pass: see `run_many`."""
        wanted = list(self.projections) if names is None else list(names)
        reports = {report.name: report for report in self.run_many(wanted)}
        deadline = time.monotonic() + patience
        while time.monotonic() < deadline:
            held = [name for name, report in reports.items() if report.outcome == "held_back"]
            if not held:
                break
            time.sleep(0.02)
            for report in self.run_many(held):
                applied = reports[report.name].applied + report.applied
                reports[report.name] = RunReport(report.name, applied, report.outcome)
        return [reports[name] for name in wanted]

    def run_all(self) -> list[RunReport]:
        return self.run_many(list(self.projections))

    def run(self, name: str, *, max_batches: int | None = None) -> RunReport:
        """Apply batches until caught up, or until parked, busy elsewhere or out of date."""
        return self.run_many([name], max_batches=max_batches)[0]

    def run_many(self, names: Sequence[str], *, max_batches: int | None = None) -> list[RunReport]:
        """Run several projections together: each batch is one transaction that locks their
        checkpoints, reads one page of events for them all and applies to each what comes
        after its own checkpoint (see `_batch`), so that bringing every projection up to
        date after a command costs one read and one commit rather than one per projection.
        Each projection keeps its own checkpoint, failures and outcome, exactly as if it had
        run alone.

        Caught up is checked again after each commit: an event that committed while this
        run held the projection was maybe turned away as "busy" by another runner, so this
        one must not stop before looking for it."""
        pending = [self.projection(name) for name in names]
        applied = dict.fromkeys(names, 0)
        reports: dict[str, RunReport] = {}
        batches = 0
        while pending and (max_batches is None or batches < max_batches):
            results = self._batch(pending)
            batches += 1
            again, pause = [], 0.0
            # Projections that are level reached the same point: asked about once.
            later: dict[Checkpoint, bool] = {}
            for projection in pending:
                name = projection.name
                outcome, count, failures, reached = results[name]
                applied[name] += count
                if outcome == "missing":
                    self.ensure(name)
                elif outcome == "failed":
                    # Not parked yet: give a passing cause (a lock, a restart) a moment.
                    pause = max(pause, min(self.backoff * 2 ** (failures - 1), 2.0))
                elif outcome == "caught_up":
                    if reached not in later:
                        later[reached] = self.store.any_after(reached)
                    if not later[reached]:
                        reports[name] = RunReport(name, applied[name], outcome)
                        continue
                    if not count:
                        # Later events wait for an older transaction, open somewhere on the
                        # server, to end: the caller should look again soon.
                        reports[name] = RunReport(name, applied[name], "held_back")
                        continue
                elif outcome != "more":
                    reports[name] = RunReport(name, applied[name], outcome)
                    continue
                again.append(projection)
            if pause:
                time.sleep(pause)
            pending = again
        for projection in pending:
            reports[projection.name] = RunReport(projection.name, applied[projection.name], "more")
        return [reports[name] for name in names]

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

    def _batch(self, projections: list[Projection]) -> dict[str, BatchResult]:
        """One batch for `projections`, in one transaction; per projection, its outcome,
        events applied, failures counted and the point reached.

        Tried first with every projection applied straight into the transaction; only if
        a handler or a write fails is the batch rolled back and done again with each
        projection (and, within one, each failing event) in a savepoint of its own, which
        costs two round trips a projection that a batch that succeeds need not pay."""
        try:
            return self._batch_once(projections, guarded=False)
        except _GuardNeeded:
            return self._batch_once(projections, guarded=True)

    def _batch_once(
        self, projections: list[Projection], *, guarded: bool
    ) -> dict[str, BatchResult]:
        started, stale = time.perf_counter(), set[Tag]()
        results: dict[str, BatchResult] = {}
        failed: list[tuple[str, RecordedEvent, Exception, int]] = []
        with self.transaction(stale) as conn:
            if conn.dialect.name == "postgresql":
                # A batch writes only what the event store can give again: a crash that
                # loses its commit loses the checkpoint's advance with it, and the batch is
                # applied again. So the commit need not wait for the disk.
                conn.execute(sa.text("SET LOCAL synchronous_commit TO OFF"))
            rows = cp.lock_many(conn, [projection.name for projection in projections])
            ready = []
            for projection in projections:
                row = rows.get(projection.name)
                if row is None:
                    outcome = "busy" if cp.exists(conn, projection.name) else "missing"
                    results[projection.name] = (outcome, 0, 0, START)
                elif row.parked_at is not None:
                    results[projection.name] = ("parked", 0, 0, row.checkpoint)
                elif row.version != projection.version and row.checkpoint != START:
                    results[projection.name] = ("needs_rebuild", 0, 0, row.checkpoint)
                else:
                    ready.append((projection, row))
            if not ready:
                return results
            types = {name for projection, _ in ready for name in projection.event_types}
            after = min(row.checkpoint for _, row in ready)
            page = self.store.read_page(after, self.batch_size, types)
            now, moves = self.clock(), []
            for projection, row in ready:
                result, failure, move = self._apply_page(
                    conn, projection, row, page, now, stale, guarded=guarded
                )
                results[projection.name] = result
                if move is not None:
                    moves.append((projection, *move))
                if failure is not None:
                    failed.append((projection.name, *failure, result[2]))
            cp.advance_many(conn, moves, now)
        for name, (_, count, _, _) in results.items():
            self._observe(name, count, started)
        for name, record, error, failures in failed:
            self._log_failure(name, record, error, failures)
        return results

    def _apply_page(
        self,
        conn: Connection,
        projection: Projection,
        row: cp.CheckpointRow,
        page: Page,
        now: datetime,
        stale: set[Tag],
        *,
        guarded: bool,
    ) -> tuple[
        BatchResult,
        tuple[RecordedEvent, Exception] | None,
        tuple[Checkpoint, datetime | None] | None,
    ]:
        """Apply what `page` holds for `projection` after its checkpoint: the outcome, the
        failure if any, and where to move the checkpoint (and the last event's time)."""
        reached = page.scanned_to
        more = "more" if page.full else "caught_up"
        if reached <= row.checkpoint:
            # The page was read for a projection further behind; this one waits for it.
            return (more, 0, 0, row.checkpoint), None, None
        records = [
            record
            for record in page.records
            if record.checkpoint > row.checkpoint and projection.handles(record)
        ]
        if not records:  # only other projections' events
            return (more, 0, 0, reached), None, (reached, None)
        if not guarded:
            try:
                self._apply(conn, projection, records, stale, savepoint=False)
            except TRANSIENT:
                raise
            except Exception as exc:  # rolled back on the way out, then done guarded
                raise _GuardNeeded from exc
            return (more, len(records), 0, reached), None, (reached, records[-1].recorded_at)
        done, failure = self._apply_guarded(conn, projection, records, stale)
        if failure is None:
            return (more, len(done), 0, reached), None, (reached, records[-1].recorded_at)
        move = (done[-1].checkpoint, done[-1].recorded_at) if done else None
        record, error = failure
        failures = cp.record_failure(conn, row, record, error, self.max_failures, now)
        outcome = "failed" if failures < self.max_failures else "parked"
        return (outcome, len(done), failures, START), failure, move

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
            self._apply(conn, projection, records, stale)
            return records, None
        except TRANSIENT:
            raise
        except HandlerError as exc:
            culprit = records.index(exc.record)
            try:
                self._apply(conn, projection, records[:culprit], stale)
                return records[:culprit], (exc.record, exc.cause)
            except TRANSIENT:
                raise
            except Exception:  # fall back to one event at a time, below
                pass
        except Exception:  # a write failed: find the event, one at a time
            pass
        for index, record in enumerate(records):
            try:
                self._apply(conn, projection, [record], stale)
            except TRANSIENT:
                raise
            except Exception as exc:
                cause = exc.cause if isinstance(exc, HandlerError) else exc
                return records[:index], (record, cause)
        return records, None

    def _apply(
        self,
        conn: Connection,
        projection: Projection,
        records: list[RecordedEvent],
        stale: set[Tag],
        *,
        savepoint: bool = True,
    ) -> None:
        view = self._view(conn, projection)
        with conn.begin_nested() if savepoint else nullcontext():
            apply_batch(view, projection, records)
        stale |= view.tags

    def _view(self, conn: Connection, projection: Projection) -> View:
        # Tags cost a query per patient rename: only worth it with a cache to invalidate.
        taggers = projection.taggers if self.invalidation is not None else None
        return View(conn, self.statements, self.tz, taggers, region=self.region)

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
