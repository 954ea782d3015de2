"""Today: the front desk's start page."""

from __future__ import annotations

from datetime import timedelta
from itertools import groupby
from typing import Any

from flask import Blueprint, Response, request

from app.commands import ConfirmAppointment
from app.domain.appointment import Status
from app.extensions import services
from app.queries import appointments as q
from app.queries import call_list

from . import formatting as fmt
from . import forms
from .kit import access
from .kit.rendering import fragment, page, settle, wants_fragment

bp = Blueprint("home", __name__)

# The agenda shows the day's first hundred appointments (a front desk's day for a dozen
# doctors); a bigger clinic gets a link to the full list, so the page's cost stays bounded.
DAY_LIMIT = 100
QUEUE_LIMIT = 12


@bp.get("/")
def index() -> Response:
    """The day's counters and agenda across doctors (a doctor's own only, for a doctor),
    and the bookings awaiting confirmation."""
    updating = settle()
    engine, tz = services().query_engine, services().tz
    today = fmt.today()
    day = forms.parse_day(request.args.get("day")) or today
    mine = access.principal().doctor_id  # a doctor's own day; None for the front desk
    counts = services().reads.day_counts(day, doctor_id=mine)
    agenda = q.list_appointments(
        engine,
        q.AppointmentFilter(day_from=day, day_to=day, doctor_id=mine),
        tz=tz,
        limit=DAY_LIMIT,
    )
    rows = agenda.items
    by_doctor = [
        (name, list(group))
        for name, group in groupby(
            sorted(rows, key=lambda r: (r.doctor_name, r.starts_at)), key=lambda r: r.doctor_name
        )
    ]
    board: dict[str, Any] = {
        "day": day,
        "today": today,
        "previous_day": day - timedelta(days=1),
        "next_day": day + timedelta(days=1),
        "counts": counts,
        "total": sum(counts.values()),
        "by_doctor": by_doctor,
        "shown": len(rows),
        "more": agenda.next_cursor is not None,
    }
    if wants_fragment("day-board"):
        return fragment("_day_board.html", **board)
    # Appointments whose doctor is away meanwhile: the desk calls them first.
    board["waiting"] = call_list.count(engine, now=fmt.now(), doctor_id=mine)
    if not access.may(ConfirmAppointment):
        return page("home.html", updating=updating, queue=None, **board)
    queue = q.list_appointments(
        engine,
        q.AppointmentFilter(statuses=[Status.PENDING], day_from=today),
        tz=tz,
        limit=QUEUE_LIMIT,
    )
    return page("home.html", updating=updating, queue=queue, **board)
