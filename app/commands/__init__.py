"""The command side: commands, their handlers, and the bus that runs them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .commands import (
    CancelAppointment,
    ChangePatientDetails,
    CheckInAppointment,
    Command,
    CompleteAppointment,
    ConfirmAppointment,
    CreateAppointment,
    MarkNoShow,
    MergePatients,
    RegisterDoctor,
    RegisterPatient,
    RescheduleAppointment,
    SetWorkingHours,
    UndoAppointmentChange,
)

if TYPE_CHECKING:
    from .bus import CommandBus, CommandResult


def __getattr__(name: str) -> Any:
    # The bus (and through it the event store and SQLAlchemy) loads on first use, so that the
    # commands, which are plain data, import with the domain alone (tests/unit).
    if name in ("CommandBus", "CommandResult"):
        from . import bus

        return getattr(bus, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CancelAppointment",
    "ChangePatientDetails",
    "CheckInAppointment",
    "Command",
    "CommandBus",
    "CommandResult",
    "CompleteAppointment",
    "ConfirmAppointment",
    "CreateAppointment",
    "MarkNoShow",
    "MergePatients",
    "RegisterDoctor",
    "RegisterPatient",
    "RescheduleAppointment",
    "SetWorkingHours",
    "UndoAppointmentChange",
]
