"""Appointments: the list, the detail page, and every action on one appointment."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from typing import Any
from uuid import UUID

from flask import Blueprint, Response, abort, flash, g, request, url_for

from app.commands import CommandResult
from app.commands import commands as c
from app.domain.appointment import TRANSITIONS, Status
from app.extensions import services
from app.queries import appointments as q
from app.queries import history
from app.queries.agenda import birth_dates, free_slots_for_day
from app.queries.directory import patient
from app.queries.freshness import recorded

from . import access
from . import formatting as fmt
from .outcomes import Expectation, Refusal, attempt, form_command_id
from .pages import fragment, missing, page, safe_next, see_other, settle, wants_fragment

bp = Blueprint("appointments", __name__, url_prefix="/appointments")

PAGE_SIZE = 50


@dataclass(frozen=True)
class Action:
    """One thing staff can do to an appointment, as the pages offer it."""

    slug: str  # in the URL
    label: str  # on the button
    domain: str  # key of domain TRANSITIONS
    command: type[c.AppointmentCommand]
    done: str  # said once it is done

    @property
    def endpoint(self) -> str:
        return self.slug.replace("-", "_")

    @property
    def verb(self) -> str:
        """The htmx attribute that sends it: confirm is the seed route's PUT."""
        return "hx-put" if self.slug == "confirm" else "hx-post"

    def path(self, row: q.AppointmentRow) -> str:
        if self.slug == "reschedule":
            return f"{appointment_path(row)}/reschedule"
        return f"{appointment_path(row)}/{self.slug}"


ACTIONS = {
    a.slug: a
    for a in (
        Action("confirm", "Confirm", "confirm", c.ConfirmAppointment, "Appointment confirmed."),
        Action("check-in", "Check in", "check_in", c.CheckInAppointment, "Patient checked in."),
        Action("complete", "Complete", "complete", c.CompleteAppointment, "Visit completed."),
        Action("no-show", "No-show", "mark_no_show", c.MarkNoShow, "Marked as a no-show."),
        Action("cancel", "Cancel", "cancel", c.CancelAppointment, "Appointment cancelled."),
        Action("reschedule", "Reschedule", "reschedule", c.RescheduleAppointment, "Rescheduled."),
    )
}
# Rows and the detail page are the places an action can be started from, and re-rendered.
CONTEXTS = {
    "queue": "appointments/_queue_row.html",
    "agenda": "appointments/_agenda_row.html",
    "doctor-day": "appointments/_doctor_day_row.html",
    "list": "appointments/_list_row.html",
    "detail": "appointments/_detail.html",
}


def appointment_path(row: q.AppointmentRow) -> str:
    """The detail page's address. Pages list fifty rows with several links each; building
    them from one prefix costs a fraction of a url_for per link."""
    return f"{request.script_root}/appointments/{row.appointment_id}"


def patient_path(patient_id: UUID) -> str:
    return f"{request.script_root}/patients/{patient_id}"


# Status is never shown by colour alone: each badge has a symbol and a word.
STATUS_ICONS = {
    "pending": "◷",
    "confirmed": "✓",
    "checked_in": "➜",
    "completed": "✔",
    "cancelled": "✕",
    "no_show": "∅",
}


def _permitted() -> list[Action]:
    """The actions the user's role allows (a page of rows asks once)."""
    if "permitted_actions" not in g:
        g.permitted_actions = [a for a in ACTIONS.values() if access.may(a.command)]
    return g.permitted_actions


def actions_for(row: q.AppointmentRow) -> list[Action]:
    """The actions the user's role, the row's status and the clock allow now, in the order
    staff use them."""
    if not access.sees_doctor(row.doctor_id):
        return []
    now = fmt.now()
    allowed = []
    for action in _permitted():
        if row.status not in TRANSITIONS[action.domain][0]:
            continue
        if action.slug == "check-in" and row.starts_at.astimezone(services().tz).date() != (
            now.astimezone(services().tz).date()
        ):
            continue
        if action.slug == "no-show" and now < row.starts_at:
            continue
        allowed.append(action)
    return allowed


def _uuid(value: str | None) -> UUID | None:
    try:
        return UUID((value or "").strip())
    except ValueError:
        return None


def _filters() -> tuple[q.AppointmentFilter, dict[str, Any]]:
    """The list's filters from the query string; malformed values are dropped, not fatal."""
    args = request.args
    statuses = [Status(s) for s in args.getlist("status") if s in Status.__members__.values()]
    # A first visit shows what is ahead; an explicitly empty `from` shows everything.
    day_from = fmt.parse_day(args.get("from")) if "from" in args else fmt.today()
    where = q.AppointmentFilter(
        statuses=statuses,
        doctor_id=_uuid(args.get("doctor_id")),
        patient_id=_uuid(args.get("patient_id")),
        day_from=day_from,
        day_to=fmt.parse_day(args.get("to")),
        text=(args.get("q") or "").strip()[:100],
    )
    if mine := access.principal().doctor_id:
        # A doctor's list is their own appointments, whatever the address asks for.
        where = replace(where, doctor_id=mine)
    shown = {
        "status": [s.value for s in statuses],
        "doctor_id": str(where.doctor_id or ""),
        "patient_id": str(where.patient_id or ""),
        "from": day_from.isoformat() if day_from else "",
        "to": where.day_to.isoformat() if where.day_to else "",
        "q": where.text,
    }
    return where, shown


@bp.get("")
def index() -> Response:
    """Appointments narrowed by status, doctor, patient, dates and name, a page at a time."""
    updating = settle()
    where, shown = _filters()
    engine = services().read_engine
    cursor = request.args.get("after") or None
    notice = None
    try:
        results = q.list_appointments(
            engine, where, tz=services().tz, after=cursor, limit=PAGE_SIZE
        )
    except q.BadCursorError:
        notice = "That page link is out of date; showing the first page."
        results = q.list_appointments(engine, where, tz=services().tz)
    patient_name = None
    if where.patient_id and access.may_see_patient(where.patient_id):
        found = patient(engine, where.patient_id)
        patient_name = found.full_name if found else None
    context = {
        "results": results,
        "filters": shown,
        "first_page": cursor is None,
        "notice": notice,
        "patient_name": patient_name,
        "statuses": list(Status),
    }
    if wants_fragment("results"):
        return fragment("appointments/_results.html", **context)
    return page("appointments/index.html", updating=updating, **context)


def _found(appointment_id: UUID) -> q.AppointmentRow | None:
    """The appointment's row once the user may see it; None for one the store has and the
    read model does not show yet (it lags, or is being rebuilt); 404 for no appointment."""
    row = services().reads.appointment_detail(appointment_id)
    if row is not None:
        _require_sight(row.doctor_id, row.patient_id)
        return row
    # The store is the truth: a command may have been taken on a record not projected yet.
    found = recorded(services().store, "appointment", appointment_id)
    if found is None:
        abort(404, description="There is no appointment with that id.")
    _require_sight(found.doctor_id, found.patient_id)
    return None


def _require_sight(doctor_id: UUID | None, patient_id: UUID | None) -> None:
    """404, as for an unknown id, unless the user may see this appointment."""
    if not access.may_see_appointment(doctor_id, patient_id):
        access.conceal("an appointment of another doctor's patient", "appointment")


def _not_shown_yet() -> Response:
    """An appointment the read model does not show yet, on a page: it refreshes itself."""
    return missing("appointment", True, url_for("appointments.index"))


def _detail_context(row: q.AppointmentRow) -> dict[str, Any]:
    entries = history.appointment_history(
        services().store,
        row.appointment_id,
        tz=services().tz,
        names=history.names_from(
            {row.patient_id: row.patient_name, row.doctor_id: row.doctor_name}
        ),
    )
    # Events name their actor by user id; people read names.
    actors = [row.booked_by, row.changed_by, *(entry.actor for entry in entries)]
    return {"row": row, "history": entries, "people": services().accounts.names(actors)}


@bp.get("/<uuid:appointment_id>")
def detail(appointment_id: UUID) -> Response:
    """Everything about one appointment, what can be done to it, and its history."""
    updating = settle()
    row = _found(appointment_id)
    if row is None:
        return _not_shown_yet()
    version = request.args.get("version", type=int)
    past = None
    if version is not None:
        past = history.appointment_at_version(services().store, appointment_id, version)
        if past is None:
            abort(404, description=f"This appointment has no version {version}.")
    context = _detail_context(row)
    if wants_fragment("appointment"):
        return fragment("appointments/_detail.html", updating=updating, **context)
    return page("appointments/detail.html", past=past, updating=updating, **context)


@bp.get("/<uuid:appointment_id>/row")
def row(appointment_id: UUID) -> Response:
    """One row as a page region shows it (`context`), for htmx to refresh in place."""
    found = _found(appointment_id)
    if found is None:
        return Response(status=204)  # no swap: the row's poll asks again
    expected = Expectation.parse(request.args)
    updating = expected is not None and not expected.met()
    return _render_in(
        request.args.get("context", "list"),
        found,
        updating,
        expectation=expected,
        cancelling=request.args.get("cancel") == "1",
    )


def _render_in(
    context: str,
    row: q.AppointmentRow,
    updating: bool = False,
    refusal: Refusal | None = None,
    status: int = 200,
    **extra: Any,
) -> Response:
    template = CONTEXTS.get(context, CONTEXTS["list"])
    values = dict(request.form) if refusal else {}
    state = {"updating": updating, "refusal": refusal, "values": values, **extra}
    if context == "detail":
        return fragment(template, status=status, **state, **_detail_context(row))
    if context == "doctor-day":
        # The doctor's day shows the patient's date of birth under the name (print too).
        born = birth_dates(services().read_engine, {row.patient_id})
        return fragment(template, status=status, row=row, state=state, born=born)
    return fragment(template, status=status, row=row, state=state)


@bp.get("/<uuid:appointment_id>/reschedule")
def reschedule_form(appointment_id: UUID) -> Response:
    """Choose another day and free slot of the same doctor."""
    row = _found(appointment_id)
    if row is None:
        return _not_shown_yet()
    chosen = fmt.parse_day(request.args.get("day")) or row.local_day
    return _reschedule_page(row, chosen, {})


def _reschedule_page(
    row: q.AppointmentRow,
    chosen: date,
    values: dict[str, str],
    refusal: Refusal | None = None,
    status: int = 200,
) -> Response:
    slots = free_slots_for_day(
        services().read_engine, row.doctor_id, chosen, tz=services().tz, now=fmt.now()
    )
    context = {"row": row, "day": chosen, "slots": slots, "values": values, "refusal": refusal}
    if wants_fragment("slots"):
        return fragment("appointments/_slots.html", status=status, **context)
    return page("appointments/reschedule.html", status=status, **context)


def _command_fields(action: Action) -> dict[str, Any]:
    form = request.form
    fields: dict[str, Any] = {
        "expected_version": form.get("expected_version") or None,
        **form_command_id(form),
    }
    if action.slug == "cancel":
        fields["reason"] = form.get("reason", "")
    elif action.slug == "reschedule":
        fields["starts_at"] = form.get("starts_at")
        fields["duration_minutes"] = form.get("duration_minutes", "")
        fields["reason"] = form.get("reason", "")
    return fields


def _act(appointment_id: UUID, action: Action) -> Response:
    context = request.form.get("context", "detail")

    def build() -> c.Command:
        return fmt.with_local_time(
            action.command, appointment_id=appointment_id,
            **_command_fields(action),
        )  # fmt: skip

    outcome = attempt(build)
    if isinstance(outcome, Refusal):
        return _refused_action(appointment_id, context, outcome)
    return _acted(appointment_id, action, context, outcome)


def _acted(appointment_id: UUID, action: Action, context: str, result: CommandResult) -> Response:
    expectation = Expectation.of("appointment", result)
    if not request.htmx:
        flash(action.done)
        default = url_for("appointments.detail", appointment_id=appointment_id)
        return see_other(safe_next(default), expectation)
    caught_up = expectation.wait()
    row = _found(appointment_id)
    if row is None:
        # No row to swap in yet: the appointment's page says "updating" until there is.
        detail = url_for("appointments.detail", appointment_id=appointment_id)
        response = Response(status=204)
        response.headers["HX-Redirect"] = f"{detail}?expect={expectation.param()}"
        return response
    response = _render_in(
        context, row, not caught_up, done=action.done, expectation=expectation
    )  # fmt: skip
    # Other regions (Today's counters) refresh themselves when they hear this.
    response.headers["HX-Trigger"] = "appointment-changed"
    return response


def _refused_action(appointment_id: UUID, context: str, refusal: Refusal) -> Response:
    row = _found(appointment_id)
    if row is None:
        return _refused_unshown(appointment_id, refusal)
    if context == "reschedule":
        chosen = fmt.parse_day(request.form.get("day")) or row.local_day
        return _reschedule_page(row, chosen, dict(request.form), refusal, refusal.status)
    if request.htmx:
        return _render_in(context, row, refusal=refusal, status=refusal.status)
    if refusal.status == 422:
        return page(
            "appointments/detail.html",
            status=422,
            refusal=refusal,
            values=dict(request.form),
            **_detail_context(row),
        )
    return page("refused.html", status=refusal.status, refusal=refusal, row=row)


def _refused_unshown(appointment_id: UUID, refusal: Refusal) -> Response:
    """A refusal on an appointment the read model does not show yet: the refusal as it is
    (409 with what changed), never "no such appointment"."""
    reload = url_for("appointments.detail", appointment_id=appointment_id)
    if not request.htmx:
        return page("refused.html", status=refusal.status, refusal=refusal, reload=reload)
    response = fragment(
        "_refusal_notice.html", status=refusal.status, refusal=refusal, reload=reload
    )
    # No row to show it in: the page's message area, as for other errors (web/errors.py).
    response.headers["HX-Retarget"] = "#flash"
    response.headers["HX-Reswap"] = "innerHTML"
    return response


def _action_view(action: Action) -> Callable[[UUID], Response]:
    def view(appointment_id: UUID) -> Response:
        return _act(appointment_id, action)

    view.__doc__ = f"{action.label} one appointment."
    return view


# One endpoint per action, so that each has its own access rule (app/web/access.py).
for _action in ACTIONS.values():
    bp.add_url_rule(
        f"/<uuid:appointment_id>/{_action.slug}",
        endpoint=_action.endpoint,
        view_func=_action_view(_action),
        # Confirm keeps the seed's PUT; a form without JavaScript posts.
        methods=["PUT", "POST"] if _action.slug == "confirm" else ["POST"],
    )
