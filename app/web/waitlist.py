"""The waitlist: patients waiting for an earlier time, in the order they joined; who fits
a freed time; and the one-click booking that takes them off the list.

A cancelled appointment's page lists the waiting patients who fit its time (while it is
ahead and still free); the waitlist itself shows, for each entry, the first free time that
fits it. Either way one button books the time and takes the entry off, in one transaction.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import Blueprint, Response, current_app, request, url_for

from app.commands import commands as c
from app.domain.waitlist import PARTS_OF_DAY, last_day_default
from app.extensions import services
from app.queries import directory as d
from app.queries import waitlist as q

from . import formatting as fmt
from . import forms, pickers
from .forms.fields import command_id, with_local_time
from .kit.outcomes import Expectation, Refusal, attempt
from .kit.rendering import missing, page, see_other, settle

bp = Blueprint("waitlist", __name__, url_prefix="/waitlist")


def _index(status: int = 200, **extra: Any) -> Response:
    engine = services().query_engine
    chosen = forms.uuid_or_none(request.values.get("doctor_id"))
    today = fmt.today()
    entries = q.waiting(engine, doctor_id=chosen, today=today)
    proposals = {
        entry.waitlist_id: q.earliest_fit(
            engine, entry, tz=services().tz, now=fmt.now(), today=today
        )
        for entry in entries
    }
    return page(
        "waitlist/index.html",
        status=status,
        entries=entries,
        people=services().accounts.names({entry.joined_by for entry in entries}),
        proposals=proposals,
        chosen=chosen,
        **extra,
    )


@bp.get("")
def index() -> Response:
    """Everyone waiting, first joined first, each with the first free time that fits."""
    return _index(updating=settle())


@bp.route("/new", methods=["GET", "POST"])
def new() -> Response:
    """The form to put a patient on the waitlist (the patient chosen by a search, or from
    their page or appointment)."""
    return _form(dict(request.values))


def _form(values: dict[str, str], refusal: Refusal | None = None) -> Response:
    engine = services().query_engine
    patient_id = forms.uuid_or_none(values.get("patient_id"))
    patient = d.patient(engine, patient_id) if patient_id else None
    query = (values.get("q") or "").strip()
    if not values.get("whom") and values.get("doctor_id"):
        values["whom"] = f"doctor:{values['doctor_id']}"
    values.setdefault("from_day", fmt.today().isoformat())
    values.setdefault("until_day", last_day_default(fmt.today()).isoformat())
    values.setdefault("part_of_day", "any")
    return page(
        "waitlist/new.html",
        status=refusal.status if refusal else 200,
        values=values,
        patient=patient,
        matches=d.search_patients(engine, query, limit=10, region=services().region)
        if query
        else [],
        searched=bool(query),
        doctors=pickers.doctors(),
        specialties=pickers.specialties(),
        parts=PARTS_OF_DAY,
        refusal=refusal,
        min_day=fmt.today().isoformat(),
    )


@bp.post("")
def join() -> Response:
    """Put the patient on the waitlist; a second wait for the same doctor is refused."""
    outcome = attempt(lambda: forms.join_waitlist(request.form))
    if isinstance(outcome, Refusal):
        return _form(dict(request.form), outcome)
    return see_other(url_for(".index", done="added"), Expectation.of("waitlist", outcome))


@bp.post("/<uuid:waitlist_id>/remove")
def remove(waitlist_id: UUID) -> Response:
    """Take a patient off the waitlist (they no longer need an earlier time)."""
    seen: dict[str, Any] = {"expected_version": request.form.get("expected_version") or None}
    outcome = attempt(
        lambda: c.LeaveWaitlist(waitlist_id=waitlist_id, **seen, **command_id(request.form))
    )
    if isinstance(outcome, Refusal):
        return _index(status=outcome.status, refusal=outcome)
    return see_other(url_for(".index", done="removed"), Expectation.of("waitlist", outcome))


@bp.post("/<uuid:waitlist_id>/book")
def book(waitlist_id: UUID) -> Response:
    """Book the waiting patient into the time offered: the appointment and the end of the
    wait in one transaction; on a refusal (the time taken meanwhile), the waitlist says
    why."""
    entry = q.entry(services().query_engine, waitlist_id)
    if entry is None:
        return missing("waitlist", False)
    form = request.form
    outcome = attempt(
        lambda: with_local_time(
            c.CreateAppointment,
            starts_at=form.get("starts_at", ""),
            patient_id=entry.patient_id,
            doctor_id=form.get("doctor_id", ""),
            duration_minutes=form.get("duration_minutes", ""),
            title=entry.title,
            confirmed=bool(current_app.config.get("BOOK_CONFIRMED", True)),
            waitlist_id=waitlist_id,
            **command_id(form),
        )
    )
    if isinstance(outcome, Refusal):
        return _index(status=outcome.status, refusal=outcome)
    return see_other(
        url_for("appointments.detail", appointment_id=outcome.stream_id, from_waitlist=1),
        Expectation.of("appointment", outcome),
    )
