"""Recent activity: the latest events of the audit log, phrased for people."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from app.eventstore import EventStore, RecordedEvent


@dataclass(frozen=True)
class ActivityItem:
    """One line of the audit log."""

    recorded_at: datetime
    actor: str
    stream_type: str
    stream_id: UUID
    summary: str


def _summary(record: RecordedEvent) -> str:
    words = "".join(f" {ch.lower()}" if ch.isupper() else ch for ch in record.event_type)
    return words.strip().capitalize()


def recent_activity(store: EventStore, limit: int = 20) -> list[ActivityItem]:
    """The newest `limit` events, newest first."""
    return [
        ActivityItem(
            r.recorded_at, r.metadata.get("actor", ""), r.stream_type, r.stream_id, _summary(r)
        )
        for r in reversed(store.tail(limit))
    ]
