"""Errors the domain raises, each with a message a receptionist can read."""

from __future__ import annotations


class DomainError(Exception):
    """A command was refused because it breaks a rule of the clinic."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationError(DomainError):
    """Some input is missing or malformed; `errors` maps each field to its message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(" ".join(errors.values()))
        self.errors = dict(errors)


class InvalidTransitionError(DomainError):
    """The appointment's status does not allow that action."""


class SlotTakenError(DomainError):
    """The doctor already has an appointment at an overlapping time."""


class OutsideWorkingHoursError(DomainError):
    """The requested time is outside the doctor's working hours."""


class NotFoundError(DomainError):
    """The patient, doctor or appointment named does not exist."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class ConflictError(DomainError):
    """Someone changed the record after the user opened it; `changes` says what happened."""

    def __init__(self, message: str, changes: list[str] | None = None) -> None:
        super().__init__(message)
        self.changes = changes or []


class AlreadyExistsError(DomainError):
    """Something with that id has already been registered."""


class ForbiddenError(DomainError):
    """The signed-in person's role does not allow this command on this record."""


class CommandReusedError(DomainError):
    """A command id already used for another action, another record or by another person."""
