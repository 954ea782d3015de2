"""Recent activity: the latest events of the audit log, phrased for people."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from app.eventstore import EventStore


@dataclass(frozen=True)
class ActivityItem:
    """One line of the audit log."""

    recorded_at: datetime
    actor: str
    stream_type: str
    stream_id: UUID
    summary: str


def recent_activity(store: EventStore, limit: int = 20) -> list[ActivityItem]:
    """The newest `limit` events, newest first."""
    return [
        ActivityItem(
            r.recorded_at,
            r.metadata.get("actor", ""),
            r.stream_type,
            r.stream_id,
            r.description.capitalize(),
        )
        for r in reversed(store.tail(limit))
    ]
