"""Recurring series: the preview of every visit before booking, the booking of the course,
its page, and stopping it from one visit on.

The booking form asks for a series by its "Repeat" field; its submit then shows the
preview (nothing is booked yet), whose one button books the free visits and the proposed
alternatives chosen. `POST /appointments/series` books directly from the booking fields
plus `every_weeks` and `occurrences` (or `until`), and answers which visits were booked
and which not, and why.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import Blueprint, Response, request, url_for

from app.commands.commands import BookSeries
from app.commands.handlers import series_visits
from app.commands.series import SeriesOutcome, book_series
from app.domain.errors import DomainError, ForbiddenError, NotFoundError, ValidationError
from app.domain.messages import phrase
from app.domain.series import Repeat, checked_repeat
from app.extensions import services
from app.queries import agenda
from app.queries import directory as d
from app.queries import series as q
from app.queries.availability import visit_types

from . import formatting as fmt
from . import forms, i18n
from .kit import access
from .kit.outcomes import Expectation, Refusal, attempt, refusal
from .kit.rendering import missing, page, see_other, settle

bp = Blueprint("series", __name__, url_prefix="/appointments/series")

NO_PATIENT = phrase("No patient with that id is registered.")
NO_DOCTOR = phrase("No doctor with that id is registered.")


def _minutes(values: dict[str, str]) -> int:
    """The visits' length: as typed, else the visit type's, else a quarter of an hour."""
    try:
        return max(5, min(int(values.get("duration_minutes") or ""), 8 * 60))
    except ValueError:
        pass
    kinds = {str(k.visit_type_id): k.minutes for k in visit_types(services().query_engine)}
    return kinds.get(values.get("visit_type_id") or "", 15) or 15


def preview(values: dict[str, str], booking_page: Any) -> Response:
    """Every visit of the series asked for, judged before anything is booked: free, or in
    conflict (taken, the doctor away, the clinic closed, outside hours) with the nearest
    free time proposed. `booking_page(refusal)` is the form again, for input to correct."""
    try:
        command = forms.book_series(request.form)
        kept, left = series_visits(command, services().tz)
    except ValidationError as exc:
        return booking_page(refusal(exc))
    engine = services().query_engine
    # As the booking will say, before a preview of nothing.
    if d.patient(engine, command.patient_id) is None:
        return booking_page(refusal(NotFoundError(NO_PATIENT, field="patient_id")))
    doctor = agenda.doctor(engine, command.doctor_id)
    if doctor is None:
        return booking_page(refusal(NotFoundError(NO_DOCTOR, field="doctor_id")))
    minutes = _minutes(values)
    visits = q.preview(
        engine,
        sorted([*kept, *left], key=lambda v: v.occurrence),
        doctor_id=doctor.doctor_id,
        schedule=doctor.schedule,
        minutes=minutes,
        tz=services().tz,
        now=fmt.now(),
    )
    free = sum(1 for v in visits if v.conflict is None or v.alternative is not None)
    return page(
        "appointments/series_preview.html",
        values=values,
        visits=visits,
        repeat=checked_repeat(command.every_weeks, command.monthly),
        minutes=minutes,
        to_book=free,
    )


@bp.post("")
def create() -> Response:
    """Book the series: each visit as its own appointment, once however often the button is
    pressed; the answer lists every visit, booked or not and why."""
    try:
        command = forms.book_series(request.form)
        outcome = book_series(services().bus, command, access.principal())
    except ForbiddenError as exc:
        access.refuse(exc.message)
    except DomainError as exc:
        return _form_again(refusal(exc))
    # One projection takes the log in order: the last visit booked shown, all are.
    booked = [v.appointment_id for v in outcome.booked if v.appointment_id is not None]
    last = Expectation("appointment", booked[-1], 1) if booked else None
    (last or Expectation.of("series", outcome.series)).wait()
    found = q.series(services().query_engine, outcome.series.stream_id)
    # Booked a moment ago and not projected yet: the answer is the outcome itself.
    return _render(found or _as_booked(command, outcome), outcome=outcome)


def _form_again(refused: Refusal) -> Response:
    from .booking import booking_form_page

    return booking_form_page(refused)


def _render(
    found: q.SeriesRow,
    *,
    outcome: SeriesOutcome | None = None,
    chosen: int | None = None,
    status: int = 200,
    **extra: Any,
) -> Response:
    """The series page: its visits, what a booking just did to them, and the way to stop it
    (from `chosen`, by default the first visit still to happen)."""
    if chosen is None and found.still_to_happen:
        chosen = found.still_to_happen[0].occurrence
    refusals = (
        {v.occurrence: i18n.render(v.refusal.said) for v in outcome.visits if v.refusal}
        if outcome
        else {}
    )
    return page(
        "appointments/series.html",
        status=status,
        series=found,
        people=services().accounts.names([found.planned_by]),
        outcome=outcome,
        refusals=refusals,
        repeat=Repeat(found.every_weeks, found.monthly),
        chosen=chosen,
        **extra,
    )


def _as_booked(command: BookSeries, outcome: SeriesOutcome) -> q.SeriesRow:
    """The series as the booking that just ran knows it, for a read model not there yet."""
    engine = services().query_engine
    patient = d.patient(engine, command.patient_id)
    doctor = agenda.doctor(engine, command.doctor_id)
    return q.SeriesRow(
        series_id=command.series_id,
        patient_id=command.patient_id,
        patient_name=patient.full_name if patient else "",
        doctor_id=command.doctor_id,
        doctor_name=doctor.full_name if doctor else "",
        title=command.title,
        every_weeks=command.every_weeks or 0,
        monthly=command.monthly,
        planned=[
            {"occurrence": v.occurrence, "starts_at": v.starts_at.isoformat()}
            for v in outcome.visits
            if v.starts_at is not None
        ],
        cancelled_from=None,
        planned_at=fmt.now(),
        planned_by=access.principal().actor,
        version=outcome.series.version,
        visits={},
    )


@bp.get("/<uuid:series_id>")
def detail(series_id: UUID) -> Response:
    """The course: every planned visit and what became of it, and the way to stop it."""
    updating = settle()
    found = q.series(services().query_engine, series_id)
    if found is None:
        return missing("series", updating, url_for("appointments.index"))
    return _render(found, chosen=request.args.get("from", type=int), updating=updating)


@bp.post("/<uuid:series_id>/cancel")
def cancel(series_id: UUID) -> Response:
    """Cancel the visits from one on that are still to happen, in one go."""
    outcome = attempt(lambda: forms.cancel_series(series_id, request.form))
    if isinstance(outcome, Refusal):
        found = q.series(services().query_engine, series_id)
        if found is None:
            return missing("series", False)
        return _render(
            found,
            chosen=request.form.get("from_occurrence", type=int),
            status=outcome.status,
            refusal=outcome,
            values=request.form,
        )
    return see_other(
        url_for(".detail", series_id=series_id, cancelled=1), Expectation.of("series", outcome)
    )
