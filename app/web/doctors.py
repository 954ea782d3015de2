"""Doctors: the directory, registration, one doctor's agenda and working hours."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from flask import Blueprint, Response, abort, flash, request, url_for

from app.commands import Command, CommandResult
from app.domain.messages import N_
from app.extensions import services
from app.queries import agenda
from app.queries.availability import COMING_WEEKS, coming_day, day_note
from app.queries.directory import list_doctors

from . import formatting as fmt
from . import forms, i18n
from .call_list import say_waiting
from .forms import HOURS_FIELDS, hours_text
from .kit import access
from .kit.outcomes import Expectation, Refusal, attempt
from .kit.rendering import fragment, missing, page, see_other, settle, wants_fragment

bp = Blueprint("doctors", __name__, url_prefix="/doctors")

AGENDA = "agenda"  # the agenda region's element id, which htmx navigation targets


def _directory(status: int = 200, **context: Any) -> Response:
    context.setdefault("values", {})
    doctors = list_doctors(services().query_engine)
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
    engine, tz = services().query_engine, services().tz
    step = timedelta(days=7 if view == "week" else 1)
    context: dict[str, Any] = {
        "doctor": doctor,
        "chosen": chosen,
        "view": view,
        "today": fmt.today(),
        "previous": chosen - step,
        "next": chosen + step,
        "slots": agenda.free_slots_of(engine, doctor, chosen, tz=tz, now=fmt.now()),
        "day_note": day_note(doctor.schedule, chosen, tz),
    }
    if view == "week":
        context["week"] = services().reads.agenda_for_week(doctor.doctor_id, _week_of(chosen))
    else:
        rows = context["rows"] = services().reads.agenda_for_day(doctor.doctor_id, chosen)
        context["born"] = agenda.birth_dates(engine, {row.patient_id for row in rows})
    return context


def _availability_context(
    doctor: agenda.DoctorRow,
    refusal: Refusal | None = None,
    values: dict[str, str] | None = None,
    form: str = "",
) -> dict[str, Any]:
    """The absences and one-off hours still ahead, the coming weeks at a glance, and the
    forms to add them (with what was typed and its refusal, when `form` was refused)."""
    tz, now, today = services().tz, fmt.now(), fmt.today()
    schedule = doctor.schedule
    monday = today - timedelta(days=today.weekday())
    weeks = [
        [coming_day(schedule, monday + timedelta(days=7 * w + d), tz, today) for d in range(7)]
        for w in range(COMING_WEEKS)
    ]
    start, end = _default_absence(today)
    defaults = {"starts_at": start, "ends_at": end, "reason": "holiday", "day": ""}
    return {
        "absences": [a for a in schedule.absences if a.ends_at > now],
        "day_hours": sorted((d, p) for d, p in schedule.day_hours.items() if d >= today),
        "coming_weeks": weeks,
        "reasons": i18n.absence_reasons(),
        "weekdays_short": i18n.weekday_labels("abbreviated"),
        "absence_values": values if form == "absence" and values else defaults,
        "absence_refusal": refusal if form == "absence" else None,
        "day_values": values if form == "day" and values else {},
        "day_refusal": refusal if form == "day" else None,
        "may_change_availability": access.allowed("doctors.record_absence")
        and access.sees_doctor(doctor.doctor_id),
    }


def _default_absence(today: date) -> tuple[str, str]:
    """Next week, Monday to Friday: what the desk most often records."""
    monday = today + timedelta(days=7 - today.weekday())
    return f"{monday:%Y-%m-%d}T00:00", f"{monday + timedelta(days=5):%Y-%m-%d}T00:00"


def _doctor_page(
    doctor: agenda.DoctorRow,
    *,
    chosen: date,
    view: str,
    updating: bool = False,
    refusal: Refusal | None = None,
    values: dict[str, str] | None = None,
    form: str = "hours",
) -> Response:
    context = _agenda_context(doctor, chosen, view)
    context.update(_availability_context(doctor, refusal, values, form))
    if form != "hours":
        refusal, values = None, None
    if values is None:
        values = {**hours_text(doctor.hours), "slot_minutes": str(doctor.slot_minutes)}
        values["expected_version"] = str(doctor.version)
    refused = context["absence_refusal"] or context["day_refusal"] or refusal
    return page(
        "doctors/detail.html",
        status=refused.status if refused else 200,
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
    doctor = agenda.doctor(services().query_engine, doctor_id)
    if doctor is None:
        return missing("doctor", updating, url_for("doctors.index"))
    chosen, view = _chosen(request.args)
    if wants_fragment(AGENDA):
        return fragment("doctors/_agenda.html", **_agenda_context(doctor, chosen, view))
    return _doctor_page(doctor, chosen=chosen, view=view, updating=updating)


@bp.post("/<uuid:doctor_id>/hours")
def set_hours(doctor_id: UUID) -> Response:
    """Set the doctor's weekly working hours and slot length."""
    doctor = agenda.doctor(services().query_engine, doctor_id)
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


def _availability_outcome(
    doctor_id: UUID, build: Callable[[], Command], form: str, done: str
) -> Response:
    """Run a change to the doctor's availability from their page; refused, the page again
    with the form as typed. An absence over booked appointments leads to the call list."""
    access.require_own(doctor_id)
    doctor = agenda.doctor(services().query_engine, doctor_id)
    if doctor is None:
        abort(404, description=i18n.no_such("doctor"))
    outcome = attempt(build)
    chosen, view = _chosen(request.form)
    if isinstance(outcome, Refusal):
        return _doctor_page(
            doctor, chosen=chosen, view=view, refusal=outcome, values=dict(request.form), form=form
        )
    if outcome.position is None:
        flash(i18n.gettext("Nothing changed."))
        return see_other(url_for(".detail", doctor_id=doctor_id, day=chosen))
    return _after_availability(doctor_id, outcome, done)


@bp.post("/<uuid:doctor_id>/absences")
def record_absence(doctor_id: UUID) -> Response:
    """Record that the doctor is away (whole days or part of one)."""
    return _availability_outcome(
        doctor_id,
        lambda: forms.availability.record_absence(request.form, doctor_id),
        "absence",
        N_("Absence recorded."),
    )


@bp.get("/<uuid:doctor_id>/absences/<uuid:absence_id>")
def absence_form(doctor_id: UUID, absence_id: UUID) -> Response:
    """Change an absence's times or reason."""
    access.require_own(doctor_id)
    doctor = agenda.doctor(services().query_engine, doctor_id)
    absence = (
        next((a for a in doctor.schedule.absences if a.absence_id == absence_id), None)
        if doctor
        else None
    )
    if doctor is None or absence is None:
        return missing("absence", settle(), url_for(".index"))
    tz = services().tz
    values = {
        "starts_at": fmt.input_moment(absence.starts_at.astimezone(tz)),
        "ends_at": fmt.input_moment(absence.ends_at.astimezone(tz)),
        "reason": absence.reason,
        "note": absence.note,
    }
    return page(
        "doctors/absence.html",
        doctor=doctor,
        absence=absence,
        values=values,
        reasons=i18n.absence_reasons(),
    )


@bp.post("/<uuid:doctor_id>/absences/<uuid:absence_id>")
def change_absence(doctor_id: UUID, absence_id: UUID) -> Response:
    """Change an absence; refused, the change form again."""
    access.require_own(doctor_id)
    doctor = agenda.doctor(services().query_engine, doctor_id)
    if doctor is None:
        abort(404, description=i18n.no_such("doctor"))
    outcome = attempt(
        lambda: forms.availability.change_absence(request.form, doctor_id, absence_id)
    )
    if isinstance(outcome, Refusal):
        absence = next((a for a in doctor.schedule.absences if a.absence_id == absence_id), None)
        return page(
            "doctors/absence.html",
            status=outcome.status,
            doctor=doctor,
            absence=absence,
            values=dict(request.form),
            refusal=outcome,
            reasons=i18n.absence_reasons(),
        )
    return _after_availability(doctor_id, outcome, N_("Absence changed."))


@bp.post("/<uuid:doctor_id>/absences/<uuid:absence_id>/cancel")
def cancel_absence(doctor_id: UUID, absence_id: UUID) -> Response:
    """The doctor is not away after all: the absence is cancelled (kept in the history)."""
    return _availability_outcome(
        doctor_id,
        lambda: forms.availability.cancel_absence(request.form, doctor_id, absence_id),
        "absence",
        N_("Absence cancelled."),
    )


@bp.post("/<uuid:doctor_id>/day-hours")
def set_day_hours(doctor_id: UUID) -> Response:
    """Hours for one date that differ from the weekly ones."""
    return _availability_outcome(
        doctor_id,
        lambda: forms.availability.set_day_hours(request.form, doctor_id),
        "day",
        N_("Hours of the day saved."),
    )


@bp.post("/<uuid:doctor_id>/day-hours/clear")
def clear_day_hours(doctor_id: UUID) -> Response:
    """A date back to the weekly hours."""
    return _availability_outcome(
        doctor_id,
        lambda: forms.availability.clear_day_hours(request.form, doctor_id),
        "day",
        N_("The day follows the weekly hours again."),
    )


def _after_availability(doctor_id: UUID, outcome: CommandResult, done: str) -> Response:
    """Where a change to the doctor's availability leads: the call list when appointments
    need a new time (or when it is not known yet), else back to the doctor's page."""
    expectation = Expectation.of("availability", outcome)
    caught_up = expectation.wait()
    if say_waiting(done, doctor_id) or not caught_up:
        return see_other(url_for("call_list.index", doctor_id=doctor_id), expectation)
    return see_other(url_for(".detail", doctor_id=doctor_id), expectation)
