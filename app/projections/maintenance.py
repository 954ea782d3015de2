"""Rebuild and verify: replaying the whole log into copies of a projection's tables.

`rebuild` fills shadow tables while the live ones keep serving pages, adds their indexes,
then, holding the projection's checkpoint lock, applies the last few events and swaps the
tables in one transaction. `verify` replays into scratch tables up to the live checkpoint
and compares them with the live tables row for row.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from app.eventstore import START, Checkpoint

from . import checkpoints as cp
from .projection import Projection
from .projector import EVERYTHING, Projector, apply_batch
from .view import TableStatements, View

Progress = Callable[[int], Any]

# Without PostgreSQL's advisory locks: one rebuild (or verify) of a projection at a time
# within this process.
_LOCAL_LOCKS: dict[str, threading.Lock] = {}


class MaintenanceError(RuntimeError):
    """A rebuild or verify could not be carried out; the live tables are untouched."""


@dataclass
class Copy:
    """Physical copies of a projection's tables, named `<table>__<suffix>`."""

    projection: Projection
    suffix: str
    dialect: str
    metadata: sa.MetaData = field(default_factory=sa.MetaData)

    def __post_init__(self) -> None:
        self.tables = {table: self._copy(table) for table in self.projection.tables}
        self.statements = {
            table: TableStatements(copy, self.dialect) for table, copy in self.tables.items()
        }

    def name(self, live_name: str) -> str:
        return f"{live_name}__{self.suffix}"

    def _copy(self, table: sa.Table) -> sa.Table:
        columns = [column._copy() for column in table.columns]
        name = self.name(table.name)
        return sa.Table(
            name,
            self.metadata,
            *columns,
            sa.PrimaryKeyConstraint(
                *(c.name for c in table.primary_key.columns), name=f"pk_{name}"
            ),
        )

    def indexes(self, table: sa.Table) -> Iterator[sa.Index]:
        """The live table's indexes, made for its copy and named for it."""
        copy = self.tables[table]
        for index in table.indexes:
            if not self._exists_here(index):
                continue
            yield sa.Index(
                self.name(str(index.name)),
                *(copy.c[column.name] for column in index.columns),
                unique=index.unique,
                **index.dialect_kwargs,
            )

    def create(self, conn: Connection) -> None:
        self.drop(conn)
        for copy in self.tables.values():
            copy.create(conn)

    def create_indexes(self, conn: Connection) -> None:
        for table in self.tables:
            for index in self.indexes(table):
                index.create(conn)

    def drop(self, conn: Connection) -> None:
        for copy in self.tables.values():
            copy.drop(conn, checkfirst=True)

    def swap_in(self, conn: Connection) -> None:
        """Replace each live table by its copy, under the live names."""
        for table, copy in self.tables.items():
            table.drop(conn, checkfirst=True)
            conn.exec_driver_sql(f'ALTER TABLE "{copy.name}" RENAME TO "{table.name}"')
            if self.dialect == "postgresql":
                conn.exec_driver_sql(
                    f'ALTER TABLE "{table.name}" RENAME CONSTRAINT "pk_{copy.name}" '
                    f'TO "pk_{table.name}"'
                )
                for index in table.indexes:
                    if self._exists_here(index):
                        conn.exec_driver_sql(
                            f'ALTER INDEX "{self.name(str(index.name))}" RENAME TO "{index.name}"'
                        )
            else:  # SQLite cannot rename an index: build them again under their names
                for index in self.indexes(table):
                    conn.exec_driver_sql(f'DROP INDEX IF EXISTS "{index.name}"')
                for index in table.indexes:
                    if self._exists_here(index):
                        index.create(conn)

    def _exists_here(self, index: sa.Index) -> bool:
        """False for an index made for another kind of database (PostgreSQL's trigrams)."""
        condition = index._ddl_if
        return condition is None or condition.dialect in (None, self.dialect)


@dataclass
class Replay:
    """Where a replay into a copy has got to."""

    checkpoint: Checkpoint = START
    last_event_at: datetime | None = None
    events: int = 0


@dataclass(frozen=True)
class Difference:
    table: str
    missing: list[dict[str, Any]]  # in the replay, not in the live table
    unexpected: list[dict[str, Any]]  # in the live table, not in the replay


@dataclass(frozen=True)
class VerifyReport:
    name: str
    checkpoint: Checkpoint
    events: int
    differences: list[Difference]

    @property
    def ok(self) -> bool:
        return not self.differences


class Maintenance:
    """Rebuild and verify for one projector's projections."""

    def __init__(self, projector: Projector, chunk: int = 5000, cache_rows: int = 200_000) -> None:
        self.projector, self.chunk, self.cache_rows = projector, chunk, cache_rows
        self.engine = projector.engine
        self.dialect = self.engine.dialect.name

    def rebuild(self, name: str, progress: Progress = lambda n: None) -> Replay:
        """Rebuild `name` from the first event, swapping the new tables in at the end."""
        projection = self.projector.projection(name)
        shadow = Copy(projection, "rebuild", self.dialect)
        self.projector.ensure(name)
        with self._exclusive(name):
            with self.engine.begin() as conn:
                shadow.create(conn)
                skipped = cp.skipped(conn, name)  # passed over by an operator: stay so
            try:
                replay = self._replay(shadow, Replay(), skip=skipped, progress=progress)
                with self.engine.begin() as conn:
                    shadow.create_indexes(conn)
                # New tables: every cached page may be stale.
                with self.projector.transaction(stale={EVERYTHING}) as conn:
                    cp.lock(conn, projection, wait=True)
                    skipped = cp.skipped(conn, name)
                    self._replay(shadow, replay, skip=skipped, conn=conn, progress=progress)
                    shadow.swap_in(conn)
                    now = self.projector.clock()
                    cp.restart_from(conn, projection, replay.checkpoint, replay.last_event_at, now)
            except BaseException:
                with self.engine.begin() as conn:
                    shadow.drop(conn)
                raise
        return replay

    def verify(
        self, name: str, progress: Progress = lambda n: None, limit: int = 5
    ) -> VerifyReport:
        """Replay `name` into scratch tables up to the live checkpoint and compare."""
        projection = self.projector.projection(name)
        scratch = Copy(projection, "verify", self.dialect)
        self.projector.ensure(name)
        with self.engine.connect() as conn:
            live = cp.read_all(conn).get(name)
            skipped = cp.skipped(conn, name)
        bound = live.checkpoint if live else START
        with self._exclusive(f"{name}:verify"):
            with self.engine.begin() as conn:
                scratch.create(conn)
            try:
                replay = self._replay(
                    scratch, Replay(), bound=bound, skip=skipped, progress=progress
                )
                with self.projector.transaction() as conn:
                    # The live projection waits while the last events are matched.
                    row = cp.lock(conn, projection, wait=True)
                    assert row is not None
                    skipped = cp.skipped(conn, name)  # an operator may have skipped since
                    replay = self._replay(
                        scratch, replay, bound=row.checkpoint, skip=skipped, conn=conn
                    )
                    differences = self._compare(conn, scratch, limit)
            finally:
                with self.engine.begin() as conn:
                    scratch.drop(conn)
        return VerifyReport(name, replay.checkpoint, replay.events, differences)

    def _replay(
        self,
        copy: Copy,
        replay: Replay,
        *,
        bound: Checkpoint | None = None,
        skip: set[Checkpoint] | frozenset[Checkpoint] = frozenset(),
        conn: Connection | None = None,
        progress: Progress = lambda n: None,
    ) -> Replay:
        """Apply events after `replay.checkpoint` (up to `bound`) to `copy`, a chunk per
        transaction (or all in `conn`'s).

        Changed rows stay in memory across chunks and are written when there are many of
        them and at the end: nobody else writes the copy, and an appointment booked, then
        confirmed, then seen thousands of events later is written once, not three times."""
        store, projection = self.projector.store, copy.projection
        # One view across the chunks' transactions (its rows stay in memory), given each
        # transaction's connection in turn.
        view: View | None = None

        def on(tx: Connection) -> View:
            nonlocal view
            if view is None:
                view = View(tx, copy.statements, self.projector.tz, region=self.projector.region)
            view.conn = tx
            return view

        while True:
            page = store.read_page(replay.checkpoint, self.chunk, projection.event_types)
            records, reached = page.records, page.scanned_to
            if bound is not None and reached >= bound:
                records = [record for record in records if record.checkpoint <= bound]
                reached = bound
            if reached <= replay.checkpoint:
                break
            todo = [record for record in records if record.checkpoint not in skip]
            with self._transaction(conn) as tx:
                try:
                    apply_batch(on(tx), projection, todo, flush=False)
                except Exception as exc:
                    raise MaintenanceError(f"Replaying {projection.name} failed: {exc}") from exc
                on(tx).trim(self.cache_rows)
            progress(max(reached[1] - replay.checkpoint[1], 0))
            replay.checkpoint = reached
            replay.last_event_at = records[-1].recorded_at if records else replay.last_event_at
            replay.events += len(records)
        with self._transaction(conn) as tx:
            on(tx).flush()
        return replay

    @contextmanager
    def _transaction(self, conn: Connection | None) -> Iterator[Connection]:
        if conn is not None:
            yield conn
            return
        with self.projector.transaction() as own:
            yield own

    def _compare(self, conn: Connection, scratch: Copy, limit: int) -> list[Difference]:
        differences = []
        for table, copy in scratch.tables.items():
            order = [c.name for c in table.primary_key.columns]
            missing = _rows_only_in(conn, copy, table, order, limit)
            unexpected = _rows_only_in(conn, table, copy, order, limit)
            if missing or unexpected:
                differences.append(Difference(table.name, missing, unexpected))
        return differences

    @contextmanager
    def _exclusive(self, key: str) -> Iterator[None]:
        """One rebuild (or verify) of a projection at a time, across processes."""
        if self.dialect != "postgresql":
            # The embedded default is one process, but rebuilds asked for on /ops run in
            # its threads: two of one projection would share the shadow tables' names.
            lock = _LOCAL_LOCKS.setdefault(key, threading.Lock())
            if not lock.acquire(blocking=False):
                raise MaintenanceError(f"Another rebuild or verify of {key} is running.")
            try:
                yield
            finally:
                lock.release()
            return
        lock_id = sa.func.hashtext(f"projection:{key}")
        with self.engine.connect() as conn:
            got = conn.execute(sa.select(sa.func.pg_try_advisory_lock(lock_id))).scalar_one()
            conn.commit()
            if not got:
                raise MaintenanceError(f"Another rebuild or verify of {key} is running.")
            try:
                yield
            finally:
                conn.execute(sa.select(sa.func.pg_advisory_unlock(lock_id)))
                conn.commit()


def _rows_only_in(
    conn: Connection, left: sa.Table, right: sa.Table, order: list[str], limit: int
) -> list[dict[str, Any]]:
    """Up to `limit` rows of `left` that `right` does not hold, in key order."""
    query = sa.select(*left.c).except_(sa.select(*right.c)).subquery()
    ordered = sa.select(query).order_by(*(query.c[name] for name in order)).limit(limit)
    return [dict(row) for row in conn.execute(ordered).mappings()]
