"""The write side's storage: the event log and the tables that guard its invariants."""

from .decisions import Decision, Hold, Release
from .errors import (
    DATABASE_DOWN,
    ConcurrencyError,
    DuplicateCommandError,
    EventStoreError,
    ReservationConflictError,
    UnknownEventError,
)
from .guards import CommandRecord
from .serialization import EventCodec
from .store import (
    START,
    AppendResult,
    Checkpoint,
    EventMetadata,
    EventStore,
    Page,
    RecordedEvent,
    StoreTransaction,
)
from .tables import metadata

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
