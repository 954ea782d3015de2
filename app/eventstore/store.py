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

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from app.domain.events import Event

from .errors import ConcurrencyError, DuplicateCommandError, ReservationConflictError
from .serialization import EventCodec, to_utc
from .tables import events as events_table
from .tables import processed_commands, reservations

Checkpoint = tuple[int, int]  # (tx_id, position): the last event a reader has seen
START: Checkpoint = (0, 0)


@dataclass(frozen=True)
class EventMetadata:
    """Who caused an event and within which request."""

    actor: str
    correlation_id: str
    causation_id: str

    def as_dict(self) -> dict[str, str]:
        return {
            "actor": self.actor,
            "correlation_id": self.correlation_id,
            "causation_id": self.causation_id,
        }


@dataclass(frozen=True)
class RecordedEvent:
    """An event as stored, with its place in its stream and in the global order."""

    position: int
    tx_id: int
    stream_id: UUID
    stream_type: str
    version: int
    event: Event
    metadata: dict[str, Any]
    recorded_at: datetime

    @property
    def checkpoint(self) -> Checkpoint:
        return (self.tx_id, self.position)

    @property
    def event_type(self) -> str:
        return type(self.event).__name__


@dataclass(frozen=True)
class AppendResult:
    """The stream's new version and the global position of the last event written."""

    version: int
    position: int


@dataclass(frozen=True)
class CommandRecord:
    """What a processed command produced, so a repeat can return the same answer."""

    command_id: UUID
    command_type: str
    stream_id: UUID
    version: int
    position: int | None


_COLUMNS = (
    events_table.c.position,
    events_table.c.tx_id,
    events_table.c.stream_id,
    events_table.c.stream_type,
    events_table.c.version,
    events_table.c.event_type,
    events_table.c.schema_version,
    events_table.c.data,
    events_table.c.metadata,
    events_table.c.recorded_at,
)


class EventStore:
    """Appends, loads and reads events; one instance per engine, shared by threads."""

    def __init__(self, engine: Engine, codec: EventCodec | None = None) -> None:
        self.engine = engine
        self.codec = codec or EventCodec()
        self.is_postgres = engine.dialect.name == "postgresql"
        tx_id = (
            sa.literal_column("pg_current_xact_id()::text::bigint")
            if self.is_postgres
            else sa.literal(0, sa.BigInteger)
        )
        self._insert = (
            sa.insert(events_table)
            .values(tx_id=tx_id)
            .returning(events_table.c.position, sort_by_parameter_order=True)
        )

    @contextmanager
    def transaction(self) -> Iterator[StoreTransaction]:
        """One write transaction: everything in it commits together or not at all."""
        # `write` lets SQLite take its write lock up front (see bootstrap.prepare_sqlite).
        with self.engine.connect() as conn:
            conn.execution_options(write=True)
            with conn.begin():
                yield StoreTransaction(self, conn)

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

    def read_committed(self, after: Checkpoint = START, limit: int = 500) -> list[RecordedEvent]:
        """Up to `limit` committed events after `after`, in an order that never skips one."""
        query = sa.select(*_COLUMNS).where(
            sa.tuple_(events_table.c.tx_id, events_table.c.position) > sa.tuple_(*after)
        )
        if self.is_postgres:
            query = query.where(
                events_table.c.tx_id
                < sa.literal_column("pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
            )
        query = query.order_by(events_table.c.tx_id, events_table.c.position).limit(limit)
        with self.engine.connect() as conn:
            return [self._recorded(row) for row in conn.execute(query)]

    def tail(self, count: int) -> list[RecordedEvent]:
        """The last `count` events by position, oldest first (for people, not projectors)."""
        query = sa.select(*_COLUMNS).order_by(events_table.c.position.desc()).limit(count)
        with self.engine.connect() as conn:
            rows = list(conn.execute(query))
        return [self._recorded(row) for row in reversed(rows)]

    def count(self) -> int:
        """How many events the store holds."""
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(events_table)).scalar_one())

    def find_command(self, command_id: UUID) -> CommandRecord | None:
        """The stored outcome of a command already processed, if any."""
        with self.engine.connect() as conn:
            return StoreTransaction(self, conn).find_command(command_id)

    def stream_version(self, stream_id: UUID) -> int:
        """The committed version of a stream (0 if it does not exist)."""
        query = sa.select(sa.func.coalesce(sa.func.max(events_table.c.version), 0)).where(
            events_table.c.stream_id == stream_id
        )
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def _recorded(self, row: sa.Row[Any]) -> RecordedEvent:
        return RecordedEvent(
            position=row.position,
            tx_id=row.tx_id,
            stream_id=row.stream_id,
            stream_type=row.stream_type,
            version=row.version,
            event=self.codec.decode(row.event_type, row.schema_version, row.data),
            metadata=row.metadata,
            recorded_at=to_utc(row.recorded_at),
        )


@dataclass
class StoreTransaction:
    """The write side's view of one open transaction."""

    store: EventStore
    conn: Connection
    _loaded: dict[UUID, int] = field(default_factory=dict)

    def load(self, stream_id: UUID) -> list[RecordedEvent]:
        """The stream's events in version order, remembering the version seen."""
        return self.load_many([stream_id])[stream_id]

    def load_many(self, stream_ids: Sequence[UUID]) -> dict[UUID, list[RecordedEvent]]:
        """Several streams in one round trip."""
        found: dict[UUID, list[RecordedEvent]] = {stream_id: [] for stream_id in stream_ids}
        query = (
            sa.select(*_COLUMNS)
            .where(events_table.c.stream_id.in_(list(found)))
            .order_by(events_table.c.stream_id, events_table.c.version)
        )
        for row in self.conn.execute(query):
            found[row.stream_id].append(self.store._recorded(row))
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
        seen = self._loaded.get(stream_id)
        if seen is None:
            seen = self._current_version(stream_id)
        if seen != expected_version:
            raise ConcurrencyError(stream_id, expected_version, seen)
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
        try:
            positions = self.conn.execute(self.store._insert, rows).scalars().all()
        except sa.exc.IntegrityError as exc:
            # The unique (stream_id, version) key: another writer got there first.
            raise ConcurrencyError(
                stream_id, expected_version, self.store.stream_version(stream_id)
            ) from exc
        self._loaded[stream_id] = expected_version + len(events)
        return AppendResult(version=expected_version + len(events), position=positions[-1])

    def _current_version(self, stream_id: UUID) -> int:
        query = sa.select(sa.func.coalesce(sa.func.max(events_table.c.version), 0)).where(
            events_table.c.stream_id == stream_id
        )
        return int(self.conn.execute(query).scalar_one())

    # -- doctor-time reservations (the no-double-booking guard) --

    def find_overlap(
        self, doctor_id: UUID, starts_at: datetime, ends_at: datetime, *, exclude: UUID
    ) -> UUID | None:
        """Another appointment holding this doctor's time between starts_at and ends_at."""
        query = (
            sa.select(reservations.c.appointment_id)
            .where(
                reservations.c.doctor_id == doctor_id,
                reservations.c.starts_at < to_utc(ends_at),
                reservations.c.ends_at > to_utc(starts_at),
                reservations.c.appointment_id != exclude,
            )
            .limit(1)
        )
        return self.conn.execute(query).scalar()

    def reserve(
        self, appointment_id: UUID, doctor_id: UUID, starts_at: datetime, ends_at: datetime
    ) -> None:
        """Hold the doctor's time for an appointment (insert or move)."""
        values = {
            "doctor_id": doctor_id,
            "starts_at": to_utc(starts_at),
            "ends_at": to_utc(ends_at),
        }
        try:
            updated = self.conn.execute(
                sa.update(reservations)
                .where(reservations.c.appointment_id == appointment_id)
                .values(**values)
            ).rowcount
            if not updated:
                self.conn.execute(
                    sa.insert(reservations).values(appointment_id=appointment_id, **values)
                )
        except sa.exc.IntegrityError as exc:
            raise ReservationConflictError(str(exc.orig)) from exc

    def release(self, appointment_id: UUID) -> None:
        """Give the doctor's time back."""
        self.conn.execute(
            sa.delete(reservations).where(reservations.c.appointment_id == appointment_id)
        )

    # -- processed commands (idempotency) --

    def find_command(self, command_id: UUID) -> CommandRecord | None:
        row = self.conn.execute(
            sa.select(processed_commands).where(processed_commands.c.command_id == command_id)
        ).first()
        if row is None:
            return None
        return CommandRecord(
            row.command_id, row.command_type, row.stream_id, row.version, row.position
        )

    def record_command(self, record: CommandRecord, processed_at: datetime) -> None:
        """Remember a command's outcome in the same transaction as its events."""
        try:
            self.conn.execute(
                sa.insert(processed_commands).values(
                    command_id=record.command_id,
                    command_type=record.command_type,
                    stream_id=record.stream_id,
                    version=record.version,
                    position=record.position,
                    processed_at=to_utc(processed_at),
                )
            )
        except sa.exc.IntegrityError as exc:
            raise DuplicateCommandError(str(record.command_id)) from exc
