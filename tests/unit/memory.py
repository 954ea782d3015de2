"""The event store in memory, for the real command bus and handlers in unit tests.

The handlers only load streams and return a Decision; the bus saves it in one transaction.
This store keeps what the database keeps (streams, the doctor's held time, the command
log) in dicts, and refuses what the database's keys and constraints refuse, with the same
errors: a stale version, an overlapping hold, a command id already logged. What only a
database does (commit order, concurrent writers, SQL) stays in tests/integration.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any
from uuid import UUID

from app.commands import CommandBus
from app.domain.clinic_time import to_utc
from app.eventstore import (
    CommandRecord,
    ConcurrencyError,
    Decision,
    DuplicateCommandError,
    EventCodec,
    EventMetadata,
    Hold,
    RecordedEvent,
    Release,
    ReservationConflictError,
)

# The held time of an appointment: (doctor, starts, ends).
Held = tuple[UUID, datetime, datetime]


@dataclass
class Tables:
    """What the write database holds: events in position order, held time, command log."""

    events: list[RecordedEvent] = field(default_factory=list)
    held: dict[UUID, Held] = field(default_factory=dict)
    commands: dict[UUID, CommandRecord] = field(default_factory=dict)

    def copy(self) -> Tables:
        return Tables(list(self.events), dict(self.held), dict(self.commands))

    def stream(self, stream_id: UUID) -> list[RecordedEvent]:
        return [record for record in self.events if record.stream_id == stream_id]


class MemoryStore:
    """The parts of EventStore that the bus uses, and those tests read back."""

    def __init__(self, codec: EventCodec | None = None) -> None:
        self.codec = codec or EventCodec()
        self.tables = Tables()

    @contextmanager
    def transaction(self) -> Iterator[MemoryTransaction]:
        """All or nothing: the transaction works on a copy, kept only if nothing raised."""
        tx = MemoryTransaction(self, self.tables.copy())
        yield tx
        self.tables = tx.tables

    def load(self, stream_id: UUID) -> list[RecordedEvent]:
        return self.tables.stream(stream_id)

    def load_many(self, stream_ids: Sequence[UUID]) -> dict[UUID, list[RecordedEvent]]:
        return {stream_id: self.tables.stream(stream_id) for stream_id in stream_ids}

    def count(self) -> int:
        return len(self.tables.events)

    def stream_version(self, stream_id: UUID) -> int:
        stream = self.tables.stream(stream_id)
        return stream[-1].version if stream else 0

    def find_command(self, command_id: UUID) -> CommandRecord | None:
        return self.tables.commands.get(command_id)


@dataclass
class MemoryTransaction:
    """What StoreTransaction offers the bus and the handlers, on the transaction's tables."""

    store: MemoryStore
    tables: Tables

    def load(self, stream_id: UUID) -> list[RecordedEvent]:
        return self.tables.stream(stream_id)

    def load_many(self, stream_ids: Sequence[UUID]) -> dict[UUID, list[RecordedEvent]]:
        return {stream_id: self.tables.stream(stream_id) for stream_id in stream_ids}

    def find_overlap(
        self, doctor_id: UUID, starts_at: datetime, ends_at: datetime, *, exclude: UUID
    ) -> UUID | None:
        for appointment_id, (doctor, starts, ends) in self.tables.held.items():
            overlaps = starts < ends_at and starts_at < ends
            if overlaps and doctor == doctor_id and appointment_id != exclude:
                return appointment_id
        return None

    def save(
        self,
        decision: Decision,
        *,
        metadata: EventMetadata,
        recorded_at: datetime,
        command_id: UUID,
        command_type: str,
    ) -> int | None:
        """Write one decision the way the store does, refusing what its keys refuse."""
        every = (*decision.also, decision)
        for part in every:  # all checked before any is written: one transaction
            stream = self.tables.stream(part.stream_id)
            version = stream[-1].version if stream else 0
            if part.events and version != part.version:
                raise ConcurrencyError(part.stream_id, part.version, version)
        self._change_held_time(decision)
        for part in every:
            for offset, event in enumerate(part.events, start=1):
                self.tables.events.append(
                    RecordedEvent(
                        position=len(self.tables.events) + 1,
                        tx_id=0,
                        stream_id=part.stream_id,
                        stream_type=part.stream_type,
                        version=part.version + offset,
                        event=self._as_stored(event),
                        metadata=metadata.as_dict(),
                        recorded_at=to_utc(recorded_at),
                    )
                )
        stream_id = decision.stream_id
        position = len(self.tables.events) if decision.events else None
        if command_id in self.tables.commands:
            raise DuplicateCommandError(str(command_id))
        self.tables.commands[command_id] = CommandRecord(
            command_id, command_type, stream_id, decision.new_version, position, metadata.actor
        )
        return position

    def _change_held_time(self, decision: Decision) -> None:
        change = decision.reservation
        if isinstance(change, Release):
            self.tables.held.pop(change.appointment_id, None)
        elif isinstance(change, Hold):
            if change.new and change.appointment_id in self.tables.held:
                # The reservations' primary key: another booking of this id came first.
                raise ConcurrencyError(decision.stream_id, decision.version)
            span = (change.doctor_id, change.starts_at, change.ends_at)
            if self.find_overlap(*span, exclude=change.appointment_id):
                raise ReservationConflictError(f"{change.doctor_id} is held then")
            self.tables.held[change.appointment_id] = span

    def _as_stored(self, event: Any) -> Any:
        """The event as it comes back from the database: through its JSON payload."""
        kind, schema, data = self.store.codec.encode(event)
        return self.store.codec.decode(kind, schema, json.loads(json.dumps(data)))


@dataclass
class MemoryServices:
    """The command side in memory: the real bus on MemoryStore, on the test clock."""

    store: MemoryStore
    bus: CommandBus
    tz: tzinfo


def memory_services(clock: Any, tz: tzinfo) -> MemoryServices:
    store = MemoryStore()
    return MemoryServices(store, CommandBus(store, tz=tz, clock=clock), tz)  # type: ignore[arg-type]
