"""Past views: a doctor's day as it stood at an earlier moment (the "show as of" form on the
doctor's day), answered from the event store's history, never from the live agenda."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import Blueprint, Response, abort, request
from flask_babel import gettext

from app.domain.errors import ValidationError
from app.domain.messages import N_
from app.extensions import services
from app.queries import agenda
from app.queries.past_day import past_day

from . import formatting as fmt
from . import forms, i18n
from .kit import access
from .kit.rendering import page

bp = Blueprint("past", __name__)

NOT_YET = N_("That moment has not come yet: the doctor's page shows the day as it stands now.")


@bp.get("/doctors/<uuid:doctor_id>/as-of")
def doctor_day(doctor_id: UUID) -> Response:
    """The doctor's day as it stood at `at` (clinic time), and every change to it since."""
    access.require_own(doctor_id)
    doctor = agenda.doctor(services().query_engine, doctor_id)
    if doctor is None:
        abort(404, description=i18n.no_such("doctor"))
    chosen = forms.parse_day(request.args.get("day")) or fmt.today()
    context: dict[str, Any] = {
        "doctor": doctor,
        "chosen": chosen,
        "at_text": request.args.get("at", ""),
    }
    try:
        at = forms.parse_local(request.args.get("at"), field="at")
    except ValidationError as exc:
        error = i18n.render(exc.said_errors["at"])
        return page("doctors/as_of.html", status=422, error=error, **context)
    if at > fmt.now():
        return page("doctors/as_of.html", status=422, error=gettext(NOT_YET), **context)
    found = past_day(
        services().store, services().query_engine, doctor_id, chosen, at, tz=services().tz
    )
    people = services().accounts.names(c.actor for c in found.as_of.changes_since)
    return page("doctors/as_of.html", past=found, people=people, **context)
