"""The event store: append-only streams on PostgreSQL or SQLite, through the same code.

Reading in commit order. A bigint position is assigned at insert time, but transactions
commit in any order, so a reader that keeps `position > last_seen` can pass over a row whose
transaction commits later with a smaller position, and never see it. On PostgreSQL each row
records the id of its writing transaction (`pg_current_xact_id()`); `read_committed` returns
only rows whose transaction is older than every transaction still running
(`pg_snapshot_xmin`), ordered by (transaction id, position). A transaction that has not
committed holds back the rows after it instead of letting them be skipped. SQLite allows one
writer at a time, so there the position order is the commit order and tx_id is 0.
See docs/event-store.md for the trade-off.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast
from uuid import UUID

import orjson
import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from app.domain.clinic_time import to_utc
from app.domain.events import Event
from app.metrics import EVENTS_APPENDED

from . import pipeline
from .decisions import Decision
from .errors import ConcurrencyError, DuplicateCommandError, ReservationConflictError
from .guards import CommandLog, CommandRecord, Reservations
from .records import START, Checkpoint, EventMetadata, RecordedEvent
from .serialization import EventCodec
from .statements import COLUMNS, Statements

log = logging.getLogger(__name__)

# The database did not answer (down, restarting, a network cut) or its pool is exhausted:
# errors of the connection, not of what was asked, which waiting can cure. Who also depends
# on something else adds its errors to these (projector.TRANSIENT, outbound.relay.TRANSIENT).
DATABASE_DOWN: tuple[type[Exception], ...] = (
    sa.exc.OperationalError,
    sa.exc.InterfaceError,
    sa.exc.TimeoutError,
)


@dataclass(frozen=True)
class Page:
    """Events of some types after a checkpoint, and how far the read looked: `scanned_to`
    is past every event of other types too, so a reader can move its checkpoint there."""

    records: list[RecordedEvent]
    scanned_to: Checkpoint
    full: bool  # the read stopped at its limit: there may be more right away


@dataclass(frozen=True)
class AppendResult:
    """The stream's new version and the global position of the last event written."""

    version: int
    position: int


class EventStore:
    """Appends, loads and reads events; one instance per engine, shared by threads."""

    def __init__(self, engine: Engine, codec: EventCodec | None = None) -> None:
        self.engine = engine
        self.codec = codec or EventCodec()
        self.is_postgres = engine.dialect.name == "postgresql"
        self.sql = Statements(self.is_postgres)

    @contextmanager
    def transaction(self) -> Iterator[StoreTransaction]:
        """One write transaction: everything in it commits together or not at all."""
        # `write` lets SQLite take its write lock up front (see bootstrap.prepare_sqlite).
        with self.engine.connect() as conn:
            conn.execution_options(write=True)
            with conn.begin():
                tx = StoreTransaction(self, conn)
                yield tx
        # Counted here, after the commit, because every way of appending (the bus, bulk
        # seeding, `append`) goes through this transaction, and a rolled-back one wrote
        # nothing. The events are committed: a metrics fault (PROMETHEUS_MULTIPROC_DIR
        # missing, full) must not make their writer believe otherwise.
        try:
            for event_type, count in tx.written.items():
                EVENTS_APPENDED.labels(event_type).inc(count)
        except Exception:
            log.warning("Could not count appended events", exc_info=True)

    def append(
        self,
        stream_id: UUID,
        expected_version: int,
        events: Sequence[Event],
        *,
        stream_type: str,
        metadata: EventMetadata,
        recorded_at: datetime | None = None,
    ) -> AppendResult:
        """Append `events` to a stream at `expected_version`, all or nothing."""
        with self.transaction() as tx:
            return tx.append(
                stream_id,
                expected_version,
                events,
                stream_type=stream_type,
                metadata=metadata,
                recorded_at=recorded_at,
            )

    def load(self, stream_id: UUID) -> list[RecordedEvent]:
        """The stream's events in version order (empty if it does not exist)."""
        with self.engine.connect() as conn:
            return StoreTransaction(self, conn).load(stream_id)

    def load_many(self, stream_ids: Sequence[UUID]) -> dict[UUID, list[RecordedEvent]]:
        """Several streams in one round trip, each in version order."""
        with self.engine.connect() as conn:
            return StoreTransaction(self, conn).load_many(stream_ids)

    def read_committed(self, after: Checkpoint = START, limit: int = 500) -> list[RecordedEvent]:
        """Up to `limit` committed events after `after`, in an order that never skips one."""
        params = {**_after(after), "limit": limit}
        with self.engine.connect() as conn:
            return [self.recorded(row) for row in conn.execute(self.sql.read_committed, params)]

    def read_page(
        self, after: Checkpoint, limit: int, event_types: Collection[str] | None = None
    ) -> Page:
        """The next `limit` events after `after` in never-skip order, keeping only those of
        `event_types` (all if None), and the point the read got to: a full page got to its
        last row; a short one got to the last event a reader may see, found in the same
        snapshot (one statement on PostgreSQL, a transaction on SQLite), so nothing between
        is passed over.

        Payloads are fetched as text and parsed only for the events kept: a projection
        interested in a few types does not pay to decode the others."""
        params = {**_after(after), "limit": limit}
        wanted = None if event_types is None else frozenset(event_types)
        if self.is_postgres:
            rows, head = self._page_and_head(self.sql.read_page_and_head, params)
        else:
            with self.engine.connect() as conn, conn.begin():
                rows = list(conn.execute(self.sql.read_page, params))
                found = conn.execute(self.sql.visible_head).first() if len(rows) < limit else None
                head = (found.tx_id, found.position) if found is not None else None
        records = [
            self.recorded(row[: len(COLUMNS)], orjson.loads)
            for row in rows
            if wanted is None or row.event_type in wanted
        ]
        if len(rows) == limit:
            return Page(records, (rows[-1].tx_id, rows[-1].position), full=True)
        if head is None:  # nothing visible yet: an empty store, or its first writes open
            return Page(records, after, full=False)
        return Page(records, max(head, after), full=False)

    def _page_and_head(
        self, statement: sa.Select[Any], params: dict[str, Any]
    ) -> tuple[list[Any], Checkpoint | None]:
        """A page and the visible head, from one statement outside any transaction (one
        round trip: see Statements.read_page_and_head)."""
        with self.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT")
            found = conn.execute(statement, params).all()
        head = (found[0].head_tx, found[0].head_at) if found[0].head_tx is not None else None
        rows = [row for row in found if row.position is not None]
        return rows, head

    def any_after(self, after: Checkpoint) -> bool:
        """Whether any committed event comes after `after`: after a short read that reached
        `after`, true means events are held back by a transaction still open somewhere."""
        params = _after(after)
        with self.engine.connect() as conn:
            if self.is_postgres:
                conn.execution_options(isolation_level="AUTOCOMMIT")  # one round trip
            return conn.execute(self.sql.any_after, params).first() is not None

    def backlog(self, after: Checkpoint) -> tuple[int, datetime | None]:
        """How many events come after `after`, and when the oldest of them was recorded."""
        params = _after(after)
        with self.engine.connect() as conn:
            count, oldest = conn.execute(self.sql.backlog, params).one()
        return int(count), to_utc(oldest) if oldest is not None else None

    def first_after(self, after: Checkpoint) -> datetime | None:
        """When the first event after `after` was recorded (None: nothing comes after it).
        One index probe, cheap enough to ask on every page."""
        with self.engine.connect() as conn:
            found = conn.execute(self.sql.first_after, _after(after)).scalar()
        return to_utc(found) if found is not None else None

    def tail(self, count: int) -> list[RecordedEvent]:
        """The last `count` events by position, oldest first (for people, not projectors)."""
        with self.engine.connect() as conn:
            rows = list(conn.execute(self.sql.tail, {"limit": count}))
        return [self.recorded(row) for row in reversed(rows)]

    def count(self) -> int:
        """How many events the store holds."""
        with self.engine.connect() as conn:
            return int(conn.execute(self.sql.count).scalar_one())

    def find_command(self, command_id: UUID) -> CommandRecord | None:
        """The stored outcome of a command already processed, if any."""
        with self.engine.connect() as conn:
            return StoreTransaction(self, conn).find_command(command_id)

    def processed(self, command_ids: set[UUID]) -> set[UUID]:
        """Which of these command ids have been processed already."""
        if not command_ids:
            return set()
        with self.engine.connect() as conn:
            return set(
                conn.execute(self.sql.processed, {"command_ids": list(command_ids)}).scalars()
            )

    def stream_version(self, stream_id: UUID) -> int:
        """The committed version of a stream (0 if it does not exist)."""
        with self.engine.connect() as conn:
            return int(conn.execute(self.sql.version, {"stream_id": stream_id}).scalar_one())

    def recorded(
        self, row: Sequence[Any], parse: Callable[[str], Any] | None = None
    ) -> RecordedEvent:
        """A stored row (the columns of `statements.COLUMNS`, in order) as an event in its
        current shape; `parse` reads payloads fetched as text."""
        position, tx_id, stream_id, stream_type, version, kind, schema, data, meta, at = row
        if parse is not None:
            data, meta = parse(data), parse(meta)
        return RecordedEvent(
            position,
            tx_id,
            stream_id,
            stream_type,
            version,
            self.codec.decode(kind, schema, data),
            meta,
            to_utc(at),
        )


@dataclass
class StoreTransaction(Reservations, CommandLog):
    """The write side's view of one open transaction: streams, reservations, command log."""

    store: EventStore
    conn: Connection
    _loaded: dict[UUID, int] = field(default_factory=dict)
    # Events inserted so far, by type: counted once the transaction commits.
    written: Counter[str] = field(default_factory=Counter)

    @property
    def sql(self) -> Statements:
        return self.store.sql

    def load(self, stream_id: UUID) -> list[RecordedEvent]:
        """The stream's events in version order, remembering the version seen."""
        return self.load_many([stream_id])[stream_id]

    def load_many(self, stream_ids: Sequence[UUID]) -> dict[UUID, list[RecordedEvent]]:
        """Several streams in one round trip."""
        found: dict[UUID, list[RecordedEvent]] = {stream_id: [] for stream_id in stream_ids}
        for row in self.conn.execute(self.sql.load, {"stream_ids": list(found)}):
            found[row.stream_id].append(self.store.recorded(row))
        for stream_id, stream in found.items():
            self._loaded[stream_id] = stream[-1].version if stream else 0
        return found

    def append(
        self,
        stream_id: UUID,
        expected_version: int,
        events: Sequence[Event],
        *,
        stream_type: str,
        metadata: EventMetadata,
        recorded_at: datetime | None = None,
    ) -> AppendResult:
        """Insert `events` as versions expected_version+1.., or raise ConcurrencyError."""
        if not events:
            raise ValueError("append needs at least one event")
        self._check_version(stream_id, expected_version)
        rows = self._rows(stream_id, stream_type, expected_version, events, metadata, recorded_at)
        positions = self._insert(stream_id, expected_version, rows)
        return AppendResult(version=expected_version + len(events), position=positions[-1])

    def save(
        self,
        decision: Decision,
        *,
        metadata: EventMetadata,
        recorded_at: datetime,
        command_id: UUID,
        command_type: str,
    ) -> int | None:
        """Write what one command decided: its events, its change of held doctor time and
        its command record, all in this transaction. Returns the last event's position.

        Raises ConcurrencyError, ReservationConflictError or DuplicateCommandError.
        """
        stream_id, expected = decision.stream_id, decision.version
        if decision.also:
            self._lock_streams([stream_id, *(other.stream_id for other in decision.also)])
        for other in decision.also:
            # Plain inserts, before the pipeline: a command with other streams is rare, and
            # each is checked and written as the one stream of a plain save would be.
            self._check_version(other.stream_id, other.version)
            if other.reservation is not None:
                # A series stopped: each cancelled visit gives its doctor's time back.
                self.change_reservation(other.reservation)
            self._insert(
                other.stream_id,
                other.version,
                self._rows(
                    other.stream_id,
                    other.stream_type,
                    other.version,
                    other.events,
                    metadata,
                    recorded_at,
                ),
            )
        if decision.events:
            self._check_version(stream_id, expected)
        rows = self._rows(
            stream_id, decision.stream_type, expected, decision.events, metadata, recorded_at
        )
        command = (command_id, command_type, stream_id, decision.new_version)
        if self.store.is_postgres:
            positions = self._save_pipelined(decision, rows, command, metadata.actor, recorded_at)
        else:
            self.change_reservation(decision.reservation)
            positions = self._insert(stream_id, expected, rows) if rows else []
            last = positions[-1] if positions else None
            self.record_command(CommandRecord(*command, last, metadata.actor), recorded_at)
        self._loaded[stream_id] = decision.new_version
        return positions[-1] if positions else None

    def _save_pipelined(
        self,
        decision: Decision,
        rows: list[dict[str, Any]],
        command: tuple[UUID, str, UUID, int],
        actor: str,
        recorded_at: datetime,
    ) -> list[int]:
        # On PostgreSQL the engine's driver is psycopg (postgresql+psycopg): its connection.
        driver = cast("psycopg.Connection[Any]", self.conn.connection.driver_connection)
        try:
            positions = pipeline.send(
                driver,
                reservation=decision.reservation,
                rows=rows,
                command=command,
                actor=actor,
                processed_at=to_utc(recorded_at),
            )
        except psycopg.errors.IntegrityError as exc:
            constraint = exc.diag.constraint_name
            if constraint == "reservations_no_overlap":
                raise ReservationConflictError(str(exc)) from exc
            if constraint in ("uq_events_stream_version", "pk_reservations"):
                # Another writer appended to this stream (or created this appointment) first.
                raise ConcurrencyError(decision.stream_id, decision.version) from exc
            if constraint == "pk_processed_commands":
                raise DuplicateCommandError(str(command[0])) from exc
            raise _wrapped(exc) from exc
        except psycopg.Error as exc:
            # Raised by psycopg directly, not through SQLAlchemy: wrap it the way SQLAlchemy
            # would, so that a lost server still gets the 503 page rather than a 500.
            raise _wrapped(exc) from exc
        self.written.update(row["event_type"] for row in rows)
        return positions

    def _lock_streams(self, stream_ids: list[UUID]) -> None:
        """Before a save that writes several streams: their locks in one order (by id), for
        the transaction's life. Two such saves over the same streams in opposite roles (A
        merged into B, B into A) would otherwise each hold one stream's new row and wait for
        the other's: PostgreSQL's deadlock, an error, where the later one should see that
        the first changed its streams (the version check below, once the first commits).
        SQLite has one writer at a time, so nothing to order."""
        if not self.store.is_postgres:
            return
        for stream_id in sorted(stream_ids):
            lock = sa.func.pg_advisory_xact_lock(sa.func.hashtextextended(str(stream_id), 0))
            self.conn.execute(sa.select(lock))
        # The versions read so far were read before the wait: read them again.
        for stream_id in stream_ids:
            self._loaded.pop(stream_id, None)

    def _check_version(self, stream_id: UUID, expected_version: int) -> None:
        seen = self._loaded.get(stream_id)
        if seen is None:
            seen = int(self.conn.execute(self.sql.version, {"stream_id": stream_id}).scalar_one())
        if seen != expected_version:
            raise ConcurrencyError(stream_id, expected_version, seen)

    def _rows(
        self,
        stream_id: UUID,
        stream_type: str,
        expected_version: int,
        events: Sequence[Event],
        metadata: EventMetadata,
        recorded_at: datetime | None,
    ) -> list[dict[str, Any]]:
        when = to_utc(recorded_at or datetime.now(UTC))
        meta = metadata.as_dict()
        rows = []
        for offset, event in enumerate(events, start=1):
            event_type, schema_version, data = self.store.codec.encode(event)
            rows.append(
                {
                    "stream_id": stream_id,
                    "stream_type": stream_type,
                    "version": expected_version + offset,
                    "event_type": event_type,
                    "schema_version": schema_version,
                    "data": data,
                    "metadata": meta,
                    "recorded_at": when,
                }
            )
        return rows

    def _insert(
        self, stream_id: UUID, expected_version: int, rows: list[dict[str, Any]]
    ) -> list[int]:
        try:
            positions = list(self.conn.execute(self.sql.insert_events, rows).scalars())
        except sa.exc.IntegrityError as exc:
            # The unique (stream_id, version) key: another writer got there first.
            raise ConcurrencyError(stream_id, expected_version) from exc
        self._loaded[stream_id] = expected_version + len(rows)
        self.written.update(row["event_type"] for row in rows)
        return positions


def _after(checkpoint: Checkpoint) -> dict[str, int]:
    """The bound parameters of a read after `checkpoint`."""
    return {"after_tx": checkpoint[0], "after_position": checkpoint[1]}


def _wrapped(exc: psycopg.Error) -> sa.exc.StatementError:
    return sa.exc.DBAPIError.instance("pipelined save", None, exc, psycopg.Error)
