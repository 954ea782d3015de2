"""The command side: commands, their handlers, and the bus that runs them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .commands import (
    BookSeries,
    CancelAbsence,
    CancelAppointment,
    CancelAsPatient,
    CancelSeries,
    ChangeAbsence,
    ChangePatientDetails,
    CheckInAppointment,
    ClearDayHours,
    CloseClinic,
    Command,
    CompleteAppointment,
    ConfirmAppointment,
    ConfirmAsPatient,
    CreateAppointment,
    DefineVisitType,
    JoinWaitlist,
    LeaveWaitlist,
    MarkNoShow,
    MergePatients,
    RecordAbsence,
    RecordReminderParked,
    RecordReminderSent,
    RecordReminderSkipped,
    RegisterDoctor,
    RegisterPatient,
    ReopenClinic,
    RescheduleAppointment,
    RetireVisitType,
    SetClinicContact,
    SetClinicHours,
    SetDayHours,
    SetPatientReminders,
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
    "BookSeries",
    "CancelAbsence",
    "CancelAppointment",
    "CancelAsPatient",
    "CancelSeries",
    "ChangeAbsence",
    "ChangePatientDetails",
    "CheckInAppointment",
    "ClearDayHours",
    "CloseClinic",
    "Command",
    "CommandBus",
    "CommandResult",
    "CompleteAppointment",
    "ConfirmAppointment",
    "ConfirmAsPatient",
    "CreateAppointment",
    "DefineVisitType",
    "JoinWaitlist",
    "LeaveWaitlist",
    "MarkNoShow",
    "MergePatients",
    "RecordAbsence",
    "RecordReminderParked",
    "RecordReminderSent",
    "RecordReminderSkipped",
    "RegisterDoctor",
    "RegisterPatient",
    "ReopenClinic",
    "RescheduleAppointment",
    "RetireVisitType",
    "SetClinicContact",
    "SetClinicHours",
    "SetDayHours",
    "SetPatientReminders",
    "SetWorkingHours",
    "UndoAppointmentChange",
]
