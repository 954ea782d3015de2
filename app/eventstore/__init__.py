"""The write side's storage: the event log and the tables that guard its invariants."""

from .errors import (
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
    RecordedEvent,
    StoreTransaction,
)
from .tables import metadata

__all__ = [
    "START",
    "AppendResult",
    "Checkpoint",
    "CommandRecord",
    "ConcurrencyError",
    "DuplicateCommandError",
    "EventCodec",
    "EventMetadata",
    "EventStore",
    "EventStoreError",
    "RecordedEvent",
    "ReservationConflictError",
    "StoreTransaction",
    "UnknownEventError",
    "metadata",
]
