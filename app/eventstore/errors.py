"""Errors raised by the event store."""

from __future__ import annotations

from uuid import UUID


class EventStoreError(Exception):
    """Base of the event store's errors."""


class ConcurrencyError(EventStoreError):
    """Another writer appended to the stream since it was loaded."""

    def __init__(
        self, stream_id: UUID, expected_version: int, actual_version: int | None = None
    ) -> None:
        found = (
            f"it is at version {actual_version}"
            if actual_version is not None
            else "another writer appended first"
        )
        super().__init__(f"stream {stream_id}: expected version {expected_version}, but {found}")
        self.stream_id = stream_id
        self.expected_version = expected_version
        self.actual_version = actual_version


class ReservationConflictError(EventStoreError):
    """The doctor's time overlaps a reservation held by another appointment."""


class DuplicateCommandError(EventStoreError):
    """A command with this id was already processed."""


class UnknownEventError(EventStoreError):
    """A stored event's type or schema version has no class or upcaster."""
