"""The call list: appointments needing a new time since their doctor became unavailable,
each with a proposed new time that one click books, and a cancel for "doctor absent"."""

from __future__ import annotations

from uuid import UUID

from flask import Blueprint, Response, flash, request

from app.extensions import services
from app.queries import call_list as q
from app.queries.directory import list_doctors

from . import formatting as fmt
from . import forms, i18n
from .kit import access
from .kit.rendering import page, settle

bp = Blueprint("call_list", __name__, url_prefix="/call-list")


@bp.get("")
def index() -> Response:
    """Every appointment still ahead that needs a new time, soonest first (one doctor's
    with `doctor_id`; a doctor sees only their own)."""
    updating = settle()
    mine = access.principal().doctor_id
    chosen = mine or forms.uuid_or_none(request.args.get("doctor_id"))
    engine = services().query_engine
    entries = q.entries(
        engine, now=fmt.now(), today=fmt.today(), tz=services().tz, doctor_id=chosen
    )
    doctors = [] if mine else list_doctors(engine)
    return page(
        "call_list/index.html",
        updating=updating,
        entries=entries,
        chosen=chosen,
        doctors=doctors,
    )


def say_waiting(done: str, doctor_id: UUID | None = None) -> int:
    """After availability shrank (`done`: what was recorded, a catalog id): flash it with
    how many appointments now need a new time; that count."""
    waiting = q.count(services().query_engine, now=fmt.now(), doctor_id=doctor_id)
    if waiting:
        flash(
            i18n.ngettext(
                "%(done)s %(num)d appointment needs a new time.",
                "%(done)s %(num)d appointments need a new time.",
                waiting,
                done=i18n.gettext(done),
            )
        )
    else:
        flash(i18n.gettext(done))
    return waiting
