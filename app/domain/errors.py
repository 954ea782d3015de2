"""Errors the domain raises, each with a message a receptionist can read.

An error keeps its words as a `Message` (`said`: an id and parameters, rendered in the
reader's language by the web) and as English text (`message`, for logs and the CLI).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .messages import Message


def _said(message: Message | str) -> Message:
    return message if isinstance(message, Message) else Message(message)


class DomainError(Exception):
    """A command was refused because it breaks a rule of the clinic."""

    def __init__(self, message: Message | str) -> None:
        self.said = _said(message)
        self.message = str(self.said)
        super().__init__(self.message)


class ValidationError(DomainError):
    """Some input is missing or malformed; `errors` maps each field to its message (in
    English; `said_errors` keeps the messages themselves)."""

    def __init__(self, errors: Mapping[str, Message | str]) -> None:
        self.said_errors = {name: _said(message) for name, message in errors.items()}
        self.errors = {name: str(message) for name, message in self.said_errors.items()}
        super().__init__(" ".join(self.errors.values()))


class InvalidTransitionError(DomainError):
    """The appointment's status does not allow that action."""


class SlotTakenError(DomainError):
    """The doctor already has an appointment at an overlapping time."""


class OutsideWorkingHoursError(DomainError):
    """The requested time is outside the doctor's working hours."""


class NotFoundError(DomainError):
    """The patient, doctor or appointment named does not exist."""

    def __init__(self, message: Message | str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class ConflictError(DomainError):
    """Someone changed the record after the user opened it; `changes` says what happened."""

    def __init__(
        self, message: Message | str, changes: Sequence[Message | str] | None = None
    ) -> None:
        super().__init__(message)
        self.changes: list[Message | str] = list(changes or [])


class AlreadyExistsError(DomainError):
    """Something with that id has already been registered."""


class ForbiddenError(DomainError):
    """The signed-in person's role does not allow this command on this record."""


class CommandReusedError(DomainError):
    """A command id already used for another action, another record or by another person."""
