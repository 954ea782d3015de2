"""Doctors: the directory, registration, one doctor's agenda and working hours."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from flask import Blueprint, Response, abort, flash, request, url_for

from app.extensions import services
from app.queries import agenda
from app.queries.directory import list_doctors

from . import formatting as fmt
from . import forms, i18n
from .forms import HOURS_FIELDS, hours_text
from .kit import access
from .kit.outcomes import Expectation, Refusal, attempt
from .kit.rendering import fragment, missing, page, see_other, settle, wants_fragment

bp = Blueprint("doctors", __name__, url_prefix="/doctors")

AGENDA = "agenda"  # the agenda region's element id, which htmx navigation targets


def _directory(status: int = 200, **context: Any) -> Response:
    context.setdefault("values", {})
    doctors = list_doctors(services().read_engine)
    return page("doctors/index.html", status=status, doctors=doctors, **context)


@bp.get("")
def index() -> Response:
    """Every doctor, with their specialty and slot length, and a form to register one."""
    return _directory(updating=settle())


@bp.post("")
def register() -> Response:
    """Register a doctor from the directory's form."""
    form = request.form
    outcome = attempt(lambda: forms.register_doctor(form))
    if isinstance(outcome, Refusal):
        return _directory(outcome.status, refusal=outcome, values=dict(form))
    flash(i18n.gettext("Doctor registered."))
    return see_other(
        url_for(".detail", doctor_id=outcome.stream_id), Expectation.of("doctor", outcome)
    )


def _week_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _agenda_context(doctor: agenda.DoctorRow, chosen: date, view: str) -> dict[str, Any]:
    engine, tz = services().read_engine, services().tz
    step = timedelta(days=7 if view == "week" else 1)
    context: dict[str, Any] = {
        "doctor": doctor,
        "chosen": chosen,
        "view": view,
        "today": fmt.today(),
        "previous": chosen - step,
        "next": chosen + step,
        "slots": agenda.free_slots_for_day(engine, doctor.doctor_id, chosen, tz=tz, now=fmt.now()),
    }
    if view == "week":
        context["week"] = services().reads.agenda_for_week(doctor.doctor_id, _week_of(chosen))
    else:
        rows = context["rows"] = services().reads.agenda_for_day(doctor.doctor_id, chosen)
        context["born"] = agenda.birth_dates(engine, {row.patient_id for row in rows})
    return context


def _doctor_page(
    doctor: agenda.DoctorRow,
    *,
    chosen: date,
    view: str,
    updating: bool = False,
    refusal: Refusal | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    context = _agenda_context(doctor, chosen, view)
    if values is None:
        values = {**hours_text(doctor.hours), "slot_minutes": str(doctor.slot_minutes)}
        values["expected_version"] = str(doctor.version)
    return page(
        "doctors/detail.html",
        status=refusal.status if refusal else 200,
        updating=updating,
        hours_refusal=refusal,
        hours_values=values,
        weekdays=i18n.weekday_labels(),
        hours_fields=[*HOURS_FIELDS, "slot_minutes"],
        # Only for those who may manage it: the doctor themselves (require_own) and admins.
        feed_link=(
            services().feeds.link(doctor.doctor_id)
            if access.allowed("exports.issue_feed")
            else None
        ),
        **context,
    )


def _chosen(source: Mapping[str, str]) -> tuple[date, str]:
    view = "week" if source.get("view") == "week" else "day"
    return forms.parse_day(source.get("day")) or fmt.today(), view


@bp.get("/<uuid:doctor_id>")
def detail(doctor_id: UUID) -> Response:
    """A doctor's agenda for a day or a week, their free slots, and their working hours."""
    access.require_own(doctor_id)
    updating = settle()
    doctor = agenda.doctor(services().read_engine, doctor_id)
    if doctor is None:
        return missing("doctor", updating, url_for("doctors.index"))
    chosen, view = _chosen(request.args)
    if wants_fragment(AGENDA):
        return fragment("doctors/_agenda.html", **_agenda_context(doctor, chosen, view))
    return _doctor_page(doctor, chosen=chosen, view=view, updating=updating)


@bp.post("/<uuid:doctor_id>/hours")
def set_hours(doctor_id: UUID) -> Response:
    """Set the doctor's weekly working hours and slot length."""
    doctor = agenda.doctor(services().read_engine, doctor_id)
    if doctor is None:
        abort(404, description=i18n.no_such("doctor"))
    form = request.form
    chosen, view = _chosen(form)
    outcome = attempt(lambda: forms.set_hours(form, doctor_id))
    if isinstance(outcome, Refusal):
        return _doctor_page(doctor, chosen=chosen, view=view, refusal=outcome, values=dict(form))
    flash(
        i18n.gettext("Working hours saved.")
        if outcome.position is not None
        else i18n.gettext("The hours were unchanged.")
    )
    day = forms.parse_day(form.get("day"))
    back = url_for(".detail", doctor_id=doctor_id, day=day, view="week" if view == "week" else None)
    return see_other(back, Expectation.of("doctor", outcome))
