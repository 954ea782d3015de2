"""Appointments: the list, the detail page, one row, the reschedule page, and an endpoint
for each action on one appointment (their views are in `appointment_actions`)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from uuid import UUID

from flask import Blueprint, Response, abort, request
from flask_babel import gettext

from app.domain.appointment import Status
from app.extensions import services
from app.queries import appointments as q
from app.queries import history
from app.queries.directory import patient

from . import formatting as fmt
from . import forms, i18n
from .actions import ACTIONS
from .appointment_actions import action_view, undo
from .kit import access
from .kit.outcomes import Expectation
from .kit.rendering import fragment, page, page_or_fragment, settle, wants_fragment
from .rows import detail_context, found, not_shown_yet, render_in, reschedule_page

bp = Blueprint("appointments", __name__, url_prefix="/appointments")

PAGE_SIZE = 50


def list_filters() -> tuple[q.AppointmentFilter, dict[str, Any]]:
    """The list's filters from the query string; malformed values are dropped, not fatal."""
    args = request.args
    statuses = [Status(s) for s in args.getlist("status") if s in Status.__members__.values()]
    # A first visit shows what is ahead; an explicitly empty `from` shows everything.
    day_from = forms.parse_day(args.get("from")) if "from" in args else fmt.today()
    where = q.AppointmentFilter(
        statuses=statuses,
        doctor_id=forms.uuid_or_none(args.get("doctor_id")),
        patient_id=forms.uuid_or_none(args.get("patient_id")),
        day_from=day_from,
        day_to=forms.parse_day(args.get("to")),
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
    where, shown = list_filters()
    engine = services().query_engine
    cursor = request.args.get("after") or None
    notice = None
    try:
        results = q.list_appointments(
            engine, where, tz=services().tz, after=cursor, limit=PAGE_SIZE
        )
    except q.BadCursorError:
        notice = gettext("That page link is out of date; showing the first page.")
        results = q.list_appointments(engine, where, tz=services().tz)
    patient_name = None
    if where.patient_id and access.may_see_patient(where.patient_id):
        shown_patient = patient(engine, where.patient_id)
        patient_name = shown_patient.full_name if shown_patient else None
    return page_or_fragment(
        "appointments/index.html",
        "appointments/_results.html",
        target="results",
        updating=updating,
        results=results,
        filters=shown,
        first_page=cursor is None,
        notice=notice,
        patient_name=patient_name,
        statuses=list(Status),
    )


@bp.get("/<uuid:appointment_id>")
def detail(appointment_id: UUID) -> Response:
    """Everything about one appointment, what can be done to it, and its history."""
    updating = settle()
    row = found(appointment_id)
    if row is None:
        return not_shown_yet()
    version = request.args.get("version", type=int)
    past = None
    if version is not None:
        past = history.appointment_at_version(services().store, appointment_id, version)
        if past is None:
            abort(
                404,
                description=i18n.gettext(
                    "This appointment has no version %(version)s.", version=str(version)
                ),
            )
    context = detail_context(row)
    if wants_fragment("appointment"):
        # The article alone, as a swap: the page's heading level does not change with it.
        return fragment("appointments/_detail.html", updating=updating, **context)
    return page("appointments/detail.html", past=past, updating=updating, **context)


@bp.get("/<uuid:appointment_id>/row")
def row(appointment_id: UUID) -> Response:
    """One row as a page region shows it (`context`), for htmx to refresh in place."""
    shown = found(appointment_id)
    if shown is None:
        return Response(status=204)  # no swap: the row's poll asks again
    expected = Expectation.parse(request.args)
    updating = expected is not None and not expected.met()
    return render_in(
        request.args.get("context", "list"),
        shown,
        updating,
        expectation=expected,
        cancelling=request.args.get("cancel") == "1",
    )


@bp.get("/<uuid:appointment_id>/reschedule")
def reschedule_form(appointment_id: UUID) -> Response:
    """Choose another day and free slot of the same doctor."""
    row = found(appointment_id)
    if row is None:
        return not_shown_yet()
    chosen = forms.parse_day(request.args.get("day")) or row.local_day
    # From the call list: where to come back to, and the reason it gives.
    kept = {name: request.args[name] for name in ("next", "reason") if request.args.get(name)}
    return reschedule_page(row, chosen, kept)


bp.add_url_rule("/<uuid:appointment_id>/undo", endpoint="undo", view_func=undo, methods=["POST"])

# One endpoint per action, so that each has its own access rule (kit/access.py).
for _action in ACTIONS.values():
    bp.add_url_rule(
        f"/<uuid:appointment_id>/{_action.slug}",
        endpoint=_action.endpoint,
        view_func=action_view(_action),
        methods=_action.methods,
    )
