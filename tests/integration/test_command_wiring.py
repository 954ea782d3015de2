"""Every command is wired all the way: a handler decides it, a role rule says who may send
it (app/commands/access.py), and each page that sends it is a POST route with a rule at the
door (app/web/kit/access.py RULES) that lets in no role the bus would refuse.

A new command fails here until it has all three; a new page that sends a command belongs
in ROUTES. Here rather than in tests/unit because the routes are the Flask app's."""

from __future__ import annotations

import pytest

from app.commands import commands as c
from app.commands.access import COMMAND_ROLES
from app.commands.handlers import HANDLERS
from app.web.kit.access import RULES

from ..backends import dispose, make_app

# The endpoints whose forms send each command.
ROUTES: dict[type[c.Command], tuple[str, ...]] = {
    c.RegisterPatient: ("patients.register", "booking.register_patient"),
    c.ChangePatientDetails: ("patients.change",),
    c.MergePatients: ("patients.merge",),
    c.RegisterDoctor: ("doctors.register",),
    c.SetWorkingHours: ("doctors.set_hours",),
    c.RecordAbsence: ("doctors.record_absence",),
    c.ChangeAbsence: ("doctors.change_absence",),
    c.CancelAbsence: ("doctors.cancel_absence",),
    c.SetDayHours: ("doctors.set_day_hours",),
    c.ClearDayHours: ("doctors.clear_day_hours",),
    c.SetClinicHours: ("settings.set_hours",),
    c.CloseClinic: ("settings.close",),
    c.ReopenClinic: ("settings.reopen",),
    c.DefineVisitType: ("settings.define_visit_type",),
    c.RetireVisitType: ("settings.retire_visit_type",),
    c.CreateAppointment: ("booking.create", "waitlist.book"),
    c.BookSeries: ("series.create",),
    c.CancelSeries: ("series.cancel",),
    c.JoinWaitlist: ("waitlist.join",),
    c.LeaveWaitlist: ("waitlist.remove",),
    c.ConfirmAppointment: ("appointments.confirm",),
    c.CancelAppointment: ("appointments.cancel",),
    c.RescheduleAppointment: ("appointments.reschedule",),
    c.CheckInAppointment: ("appointments.check_in",),
    c.CompleteAppointment: ("appointments.complete",),
    c.MarkNoShow: ("appointments.no_show",),
    c.UndoAppointmentChange: ("appointments.undo",),
    c.SetPatientReminders: ("patients.set_reminders",),
    c.SetClinicContact: ("settings.set_contact",),
    c.ConfirmAsPatient: ("patient_page.confirm",),
    c.CancelAsPatient: ("patient_page.cancel",),
}
# Sent by the reminder sender alone (app/outbound/sender.py), never by a page.
SENDER_ONLY = {c.RecordReminderSent, c.RecordReminderSkipped, c.RecordReminderParked}
# Sent by the patient's own page, which has no sign-in: the link is the key, and no staff
# role may send them through the bus (signed in or not, staff cannot speak as the patient).
PATIENT_PAGE = {c.ConfirmAsPatient, c.CancelAsPatient}


def commands() -> set[type[c.Command]]:
    """Every command a caller can send: the leaves of Command's family tree."""
    found, todo = set(), [c.Command]
    while todo:
        kind = todo.pop()
        todo.extend(kind.__subclasses__())
        if not kind.__subclasses__():
            found.add(kind)
    return found


@pytest.fixture(scope="module")
def post_endpoints(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """The app's endpoints that take a POST (building the app needs no database)."""
    app = make_app(f"sqlite:///{tmp_path_factory.mktemp('wiring') / 'unused.db'}")
    try:
        return {rule.endpoint for rule in app.url_map.iter_rules() if "POST" in rule.methods}
    finally:
        dispose(app)


def test_every_command_has_a_handler_a_role_rule_and_guarded_routes(post_endpoints):
    every = commands()
    assert len(every) >= 11  # the family tree was read, not an empty module
    assert every - set(HANDLERS) == set(), "commands without a handler (commands/handlers.py)"
    assert every - set(COMMAND_ROLES) == set(), "commands without roles (commands/access.py)"
    unrouted = every - set(ROUTES) - SENDER_ONLY
    assert unrouted == set(), "commands no page sends: name their routes in ROUTES"
    for command in SENDER_ONLY | PATIENT_PAGE:
        assert COMMAND_ROLES[command] == frozenset(), f"staff may send {command.__name__}"
    for command, endpoints in ROUTES.items():
        for endpoint in endpoints:
            assert endpoint in post_endpoints, f"{command.__name__}: no POST route {endpoint}"
            assert endpoint in RULES, f"{command.__name__}: {endpoint} has no rule in RULES"
            if command in PATIENT_PAGE:
                continue
            door = RULES[endpoint]
            assert door is not None, f"{endpoint} sends {command.__name__} without sign-in"
            wider = door - COMMAND_ROLES[command]
            assert not wider, f"{endpoint} lets in {sorted(wider)}, whom the bus refuses"
