"""The command side: commands, their handlers, and the bus that runs them."""

from .bus import CommandBus, CommandResult
from .commands import (
    CancelAppointment,
    ChangePatientDetails,
    CheckInAppointment,
    Command,
    CompleteAppointment,
    ConfirmAppointment,
    CreateAppointment,
    MarkNoShow,
    RegisterDoctor,
    RegisterPatient,
    RescheduleAppointment,
    SetWorkingHours,
)

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
    "RegisterDoctor",
    "RegisterPatient",
    "RescheduleAppointment",
    "SetWorkingHours",
]
