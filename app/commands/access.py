"""Which roles may run which command. The web checks routes too; this is the last word,
whatever calls the bus."""

from __future__ import annotations

from uuid import UUID

from app.domain.errors import ForbiddenError
from app.domain.messages import phrase
from app.domain.staff import Principal, Role

from . import commands as c

FRONT_DESK = frozenset({Role.RECEPTION, Role.ADMIN})
CLINICAL = frozenset({Role.RECEPTION, Role.DOCTOR, Role.ADMIN})

COMMAND_ROLES: dict[type[c.Command], frozenset[Role]] = {
    c.RegisterPatient: FRONT_DESK,
    c.ChangePatientDetails: FRONT_DESK,
    # Two records become one, with every appointment of both: an admin's decision.
    c.MergePatients: frozenset({Role.ADMIN}),
    c.RegisterDoctor: frozenset({Role.ADMIN}),
    c.SetWorkingHours: frozenset({Role.ADMIN}),
    # The desk records a doctor's absences and one-off hours; a doctor their own (the
    # handler checks whose).
    c.RecordAbsence: CLINICAL,
    c.ChangeAbsence: CLINICAL,
    c.CancelAbsence: CLINICAL,
    c.SetDayHours: CLINICAL,
    c.ClearDayHours: CLINICAL,
    # What binds every doctor: the clinic's settings are an admin's.
    c.SetClinicHours: frozenset({Role.ADMIN}),
    c.CloseClinic: frozenset({Role.ADMIN}),
    c.ReopenClinic: frozenset({Role.ADMIN}),
    c.DefineVisitType: frozenset({Role.ADMIN}),
    c.RetireVisitType: frozenset({Role.ADMIN}),
    c.SetClinicContact: frozenset({Role.ADMIN}),
    c.SetPatientReminders: FRONT_DESK,
    # The patient's own page and the reminder sender run these, with no signed-in person:
    # no member of staff speaks as the patient or records a message as sent.
    c.ConfirmAsPatient: frozenset(),
    c.CancelAsPatient: frozenset(),
    c.RecordReminderSent: frozenset(),
    c.RecordReminderSkipped: frozenset(),
    c.RecordReminderParked: frozenset(),
    c.CreateAppointment: FRONT_DESK,
    c.BookSeries: FRONT_DESK,
    c.CancelSeries: FRONT_DESK,
    c.JoinWaitlist: FRONT_DESK,
    c.LeaveWaitlist: FRONT_DESK,
    c.ConfirmAppointment: FRONT_DESK,
    c.CancelAppointment: FRONT_DESK,
    c.RescheduleAppointment: FRONT_DESK,
    # A doctor may run these only on their own appointments (checked by the handler).
    c.CheckInAppointment: CLINICAL,
    c.CompleteAppointment: CLINICAL,
    c.MarkNoShow: CLINICAL,
    # Narrowed by the handler to those who may do what is undone (undo_needs).
    c.UndoAppointmentChange: CLINICAL,
}

# An undo is for those who may do the action it takes back: by the event that recorded it.
UNDO_NEEDS: dict[str, type[c.Command]] = {
    "AppointmentCheckedIn": c.CheckInAppointment,
    "AppointmentMarkedNoShow": c.MarkNoShow,
    "AppointmentCompleted": c.CompleteAppointment,
    "AppointmentCancelled": c.CancelAppointment,
}


def authorize_undo(principal: Principal | None, undone_event: str) -> None:
    """A doctor may take back their own check-in, but not a receptionist's cancellation."""
    needed = UNDO_NEEDS.get(undone_event)
    if principal is not None and needed is not None and not may_run(principal, needed):
        raise ForbiddenError(phrase("Your role does not allow this action."))


def may_undo_any_time(principal: Principal | None) -> bool:
    """Admins (and the system itself) undo past the window; others within it."""
    return principal is None or principal.role is Role.ADMIN


def may_run(principal: Principal, command: type[c.Command]) -> bool:
    """Whether the role allows this kind of command at all."""
    return principal.role in COMMAND_ROLES[command]


def authorize(principal: Principal, command: c.Command) -> None:
    if not may_run(principal, type(command)):
        raise ForbiddenError(phrase("Your role does not allow this action."))


def authorize_doctor_record(principal: Principal | None, doctor_id: UUID | None) -> None:
    """A doctor acts only on their own appointments (and their own absences)."""
    if principal is not None and principal.is_doctor and not principal.owns(doctor_id):
        raise ForbiddenError(phrase("Doctors can act only on their own appointments."))
