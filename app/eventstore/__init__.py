"""The write side's storage: the event log and the tables that guard its invariants."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .decisions import Decision, Hold, Release
from .errors import (
    ConcurrencyError,
    DuplicateCommandError,
    EventStoreError,
    ReservationConflictError,
    UnknownEventError,
)
from .records import START, Checkpoint, CommandRecord, EventMetadata, RecordedEvent
from .serialization import EventCodec

if TYPE_CHECKING:
    from .store import DATABASE_DOWN, AppendResult, EventStore, Page, StoreTransaction
    from .tables import metadata


def __getattr__(name: str) -> Any:
    # Loaded on first use: they need SQLAlchemy and psycopg, and what stored events look like
    # (records, decisions, serialization) must import with the domain alone (tests/unit).
    if name in ("DATABASE_DOWN", "AppendResult", "EventStore", "Page", "StoreTransaction"):
        from . import store

        return getattr(store, name)
    if name == "metadata":
        from . import tables

        return tables.metadata
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DATABASE_DOWN",
    "START",
    "AppendResult",
    "Checkpoint",
    "CommandRecord",
    "ConcurrencyError",
    "Decision",
    "DuplicateCommandError",
    "EventCodec",
    "EventMetadata",
    "EventStore",
    "EventStoreError",
    "Hold",
    "Page",
    "RecordedEvent",
    "Release",
    "ReservationConflictError",
    "StoreTransaction",
    "UnknownEventError",
    "metadata",
]
