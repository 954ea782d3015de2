"""Who may open which page or send which form: one rule per endpoint, checked before any
view runs. An endpoint without a rule makes the app refuse to start, so no route can be
added unguarded. Rules by role stop at the door; what a doctor may see of a record (only
their own agenda, appointments and patients) is checked by the views with `require_own`
and `conceal`, and the command bus checks every command again. A record the user may not
see is answered 404, as an unknown id is: a 403 would tell them that it exists."""

from __future__ import annotations

import logging
from typing import NoReturn
from uuid import UUID

from flask import Flask, Response, abort, current_app, request
from flask_login import current_user

from app.commands.access import may_run
from app.commands.commands import Command
from app.domain.staff import Principal, Role
from app.extensions import services
from app.queries.appointments import is_patient_of

from ..i18n import gettext, no_such

log = logging.getLogger("rendezvous.access")

EVERYONE = frozenset(Role)
FRONT_DESK = frozenset({Role.RECEPTION, Role.ADMIN})
ADMIN = frozenset({Role.ADMIN})
DOCTOR_OR_ADMIN = frozenset({Role.DOCTOR, Role.ADMIN})  # a doctor: their own (require_own)
PUBLIC = None  # no sign-in needed

RULES: dict[str, frozenset[Role] | None] = {
    "static": PUBLIC,
    "auth.login": PUBLIC,
    "auth.logout": PUBLIC,  # signing out needs no role; anonymous, it does nothing
    # The patient's own page: its signed link is the key (app/web/patient_page.py).
    "patient_page.show": PUBLIC,
    "patient_page.confirm": PUBLIC,
    "patient_page.cancel": PUBLIC,
    "account.set_locale": EVERYONE,
    "home.index": EVERYONE,
    "appointments.index": EVERYONE,
    "appointments.detail": EVERYONE,
    "appointments.row": EVERYONE,
    "appointments.reschedule_form": FRONT_DESK,
    "appointments.confirm": FRONT_DESK,
    "appointments.cancel": FRONT_DESK,
    "appointments.reschedule": FRONT_DESK,
    "appointments.check_in": EVERYONE,
    "appointments.complete": EVERYONE,
    "appointments.no_show": EVERYONE,
    # A doctor undoes only what they may do, on their own appointments (the bus checks).
    "appointments.undo": EVERYONE,
    "booking.new": FRONT_DESK,
    "booking.patient_matches": FRONT_DESK,
    "booking.slots": FRONT_DESK,
    "booking.register_patient": FRONT_DESK,
    "booking.create": FRONT_DESK,
    "series.create": FRONT_DESK,
    "series.detail": FRONT_DESK,
    "series.cancel": FRONT_DESK,
    "waitlist.index": FRONT_DESK,
    "waitlist.new": FRONT_DESK,
    "waitlist.join": FRONT_DESK,
    "waitlist.remove": FRONT_DESK,
    "waitlist.book": FRONT_DESK,
    "patients.index": FRONT_DESK,
    "patients.register": FRONT_DESK,
    "patients.detail": EVERYONE,
    "patients.change": FRONT_DESK,
    "patients.set_reminders": FRONT_DESK,
    "patients.merge_form": ADMIN,
    "patients.merge": ADMIN,
    "doctors.index": FRONT_DESK,
    "doctors.register": ADMIN,
    "doctors.detail": EVERYONE,
    "doctors.set_hours": ADMIN,
    # The desk records a doctor's absences and one-off hours; a doctor their own
    # (require_own, and the bus checks again).
    "doctors.record_absence": EVERYONE,
    "doctors.absence_form": EVERYONE,
    "doctors.change_absence": EVERYONE,
    "doctors.cancel_absence": EVERYONE,
    "doctors.set_day_hours": EVERYONE,
    "doctors.clear_day_hours": EVERYONE,
    # A doctor sees only their own appointments to call about.
    "call_list.index": EVERYONE,
    # What binds every doctor: the clinic's closures, opening hours and visit types.
    "settings.index": ADMIN,
    "settings.set_contact": ADMIN,
    "settings.close": ADMIN,
    "settings.reopen": ADMIN,
    "settings.set_hours": ADMIN,
    "settings.define_visit_type": ADMIN,
    "settings.retire_visit_type": ADMIN,
    "past.doctor_day": EVERYONE,
    # A doctor sees their own column and row only (the views narrow to it).
    "calendar.day": EVERYONE,
    "calendar.week": EVERYONE,
    "exports.appointments_csv": EVERYONE,  # the list's rule: a doctor gets only their own
    "exports.issue_feed": DOCTOR_OR_ADMIN,
    # A phone calendar does not sign in: the secret token in the address is checked instead.
    "exports.feed": PUBLIC,
    # A doctor searches only their own column (the view checks it).
    "first_free.index": EVERYONE,
    "admin.users": ADMIN,
    "admin.create_user": ADMIN,
    "admin.set_active": ADMIN,
    "admin.set_password": ADMIN,
    "ops.index": ADMIN,
    "ops.retry_reminder": ADMIN,
    "ops.projection": ADMIN,
    "ops.charts": ADMIN,
    "ops.retry": ADMIN,
    "ops.skip": ADMIN,
    "ops.rebuild": ADMIN,
    # Load balancers and orchestrators do not sign in; the answers name no host or user.
    "health.live": PUBLIC,
    "health.ready": PUBLIC,
    # Prometheus does not sign in either: open at the door, and the view lets in an admin's
    # session or the METRICS_TOKEN bearer, answering 401 (not the sign-in page) or 403.
    "metrics.scrape": PUBLIC,
}


def principal() -> Principal:
    """The signed-in user as the command bus knows them."""
    return current_user.principal


def allowed(endpoint: str) -> bool:
    """Whether the signed-in user's role opens `endpoint` (for showing links and buttons)."""
    if endpoint not in RULES:
        return False
    rule = RULES[endpoint]
    return rule is PUBLIC or (current_user.is_authenticated and current_user.role in rule)


def may(command: type[Command]) -> bool:
    """Whether the signed-in user's role may send this kind of command at all."""
    return current_user.is_authenticated and may_run(current_user.principal, command)


def sees_doctor(doctor_id: UUID | None) -> bool:
    """Whether a record of this doctor's (agenda, appointment) is for the user's eyes:
    always for the front desk, only their own for a doctor."""
    me = principal()
    return not me.is_doctor or me.owns(doctor_id)


def may_see_patient(patient_id: UUID) -> bool:
    """Anyone at the front desk; a doctor, only their patient (the rule of `is_patient_of`,
    on the app's clock; the role table of docs/accounts.md)."""
    doctor_id = principal().doctor_id
    if doctor_id is None:
        return True
    app = services()
    return is_patient_of(
        app.query_engine,
        patient_id,
        doctor_id,
        now=app.bus.clock(),
        tz=app.tz,
        months=current_app.config["DOCTOR_PATIENT_MONTHS"],
    )


def may_see_appointment(doctor_id: UUID | None, patient_id: UUID | None) -> bool:
    """A doctor sees their own appointments, and (read-only) any of their patients'."""
    if sees_doctor(doctor_id):
        return True
    return patient_id is not None and may_see_patient(patient_id)


def require_own(doctor_id: UUID | None) -> None:
    """404, as for an unknown doctor, unless the user may see a record of this doctor's."""
    if not sees_doctor(doctor_id):
        conceal("a record of another doctor", "doctor")


def refuse(what: str) -> NoReturn:
    """Log the refusal and answer 403: the role does not open this page or command."""
    _log_refusal(what, 403)
    abort(403, description=gettext("Your role does not allow this. Ask an admin if you need it."))


def conceal(what: str, noun: str) -> NoReturn:
    """Log the refusal and answer exactly as for an unknown id of a `noun`."""
    _log_refusal(what, 404)
    abort(404, description=no_such(noun))


def _log_refusal(what: str, status: int) -> None:
    log.warning(
        "permission refused: %s %r (%s) to %s, role %s, answered %d",
        request.method,
        request.path,
        what,
        current_user.username,
        current_user.role.value,
        status,
    )


def guard() -> Response | None:
    """Before every request: sign-in first, then the endpoint's rule."""
    endpoint = request.endpoint
    if endpoint in RULES and RULES[endpoint] is PUBLIC:
        return None
    if not current_user.is_authenticated:
        # An unknown address too: nobody learns which pages exist before signing in.
        # Flask's typing does not know the attribute flask-login's init_app sets.
        return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
    if endpoint is None:
        return None  # routing failed: the 404 or 405 follows
    rule = RULES[endpoint]
    if rule is not PUBLIC and current_user.role not in rule:
        refuse(f"endpoint {endpoint}")
    return None


def check_rules(app: Flask) -> None:
    """Refuse to start with a route that has no rule, or a rule for no route."""
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    unguarded = endpoints - RULES.keys()
    stale = RULES.keys() - endpoints
    if unguarded or stale:
        raise RuntimeError(
            f"Access rules out of step with the routes: no rule for {sorted(unguarded)}; "
            f"rules for missing routes {sorted(stale)} (see app/web/kit/access.py)."
        )
