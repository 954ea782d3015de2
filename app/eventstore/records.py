"""What the store hands back: stored events and processed commands, as plain data.

Apart from the store so that the command bus and its handlers, which only read these,
import without SQLAlchemy or a driver (their rules are tested in memory, tests/unit)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from app.domain.events import Event

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
    def actor(self) -> str:
        """Who the event's command ran for (a user id, or a process such as "seed"); empty
        when the record names no one."""
        return str(self.metadata.get("actor", ""))

    @property
    def event_type(self) -> str:
        return type(self.event).__name__

    @property
    def description(self) -> str:
        """The event type in words: AppointmentRescheduled -> 'appointment rescheduled'."""
        return "".join(f" {ch.lower()}" if ch.isupper() else ch for ch in self.event_type).strip()


@dataclass(frozen=True)
class CommandRecord:
    """What a processed command produced, so a repeat can return the same answer."""

    command_id: UUID
    command_type: str
    stream_id: UUID
    version: int
    position: int | None
    actor: str | None = None  # None for commands logged before the actor was kept
