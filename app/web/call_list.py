"""The call list: appointments needing a new time since their doctor became unavailable,
each with a proposed new time that one click books, and a cancel for "doctor absent"."""

from __future__ import annotations

from flask import Blueprint, Response, request

from app.extensions import services
from app.queries import call_list as q
from app.queries.directory import list_doctors

from . import formatting as fmt
from . import forms
from .kit import access
from .kit.rendering import here, page, settle

bp = Blueprint("call_list", __name__, url_prefix="/call-list")


@bp.get("")
def index() -> Response:
    """Every appointment still ahead that needs a new time, soonest first (one doctor's
    with `doctor_id`; a doctor sees only their own)."""
    updating = settle()
    mine = access.principal().doctor_id
    chosen = mine or forms.uuid_or_none(request.args.get("doctor_id"))
    engine = services().read_engine
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
        back=here(),
    )
