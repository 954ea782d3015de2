"""The clinic's settings (admins): the days it is closed, with the coming year's public
holidays offered in one click, its opening hours, the visit types bookings pick, and what
messages to patients say of the clinic."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any
from uuid import UUID

import holidays
from flask import Blueprint, Response, current_app, flash, request, url_for

from app.commands import CommandResult
from app.commands import commands as c
from app.domain.messages import N_
from app.extensions import services
from app.queries import availability as q
from app.queries.directory import list_doctors
from app.queries.patient_page import clinic_contact

from . import formatting as fmt
from . import forms, i18n
from .call_list import say_waiting
from .forms import hours_text
from .kit.outcomes import Expectation, Refusal, attempt
from .kit.rendering import page, see_other, settle

bp = Blueprint("settings", __name__, url_prefix="/settings")


def proposed_holidays(today: date, region: str, locale: str) -> list[tuple[date, str]]:
    """The public holidays of the coming twelve months in the clinic's country, named in
    the reader's language where the library knows it (French by default for France)."""
    years = [today.year, today.year + 1]
    language = "fr" if locale == "fr" else "en_US"
    try:
        found = holidays.country_holidays(region, years=years, language=language)
    except NotImplementedError:  # a region the library does not know: nothing to offer
        return []
    last = (
        date(today.year + 1, today.month, today.day)
        if (today.month, today.day) != (2, 29)
        else date(today.year + 1, 2, 28)
    )
    return sorted((day, str(name)) for day, name in found.items() if today <= day < last)


def _page(
    status: int = 200, refusal: Refusal | None = None, form: str = "", **extra: Any
) -> Response:
    engine = services().query_engine
    with engine.connect() as conn:
        clinic = q.clinic_days(conn)
    today = fmt.today()
    closures = sorted((d, label) for d, label in clinic.closures.items() if d >= today)
    proposal = [
        (day, label)
        for day, label in proposed_holidays(
            today, current_app.config["CLINIC_REGION"], i18n.locale_code()
        )
        if day not in clinic.closures
    ]
    values = extra.pop("values", None) or {}
    doctors = list_doctors(engine)
    hours_values = values if form == "hours" else hours_text(clinic.hours)
    return page(
        "settings/index.html",
        status=status,
        refusal=refusal,
        form=form,
        values=values,
        closures=closures,
        proposal=proposal,
        hours_values=hours_values,
        weekdays=i18n.weekday_labels(),
        visit_types=q.visit_types(engine, include_retired=True),
        doctors=doctors,
        doctor_names={d.doctor_id: d.full_name for d in doctors},
        contact_values=values if form == "contact" else vars(clinic_contact(services().store)),
        **extra,
    )


@bp.get("")
def index() -> Response:
    """Closures, opening hours and visit types, each with its form."""
    return _page(updating=settle())


def _run(build: Callable[[], c.Command], form: str, done: str) -> Response:
    outcome = attempt(build)
    if isinstance(outcome, Refusal):
        return _page(outcome.status, outcome, form, values=dict(request.form))
    if outcome.position is None:
        flash(i18n.gettext("Nothing changed."))
        return see_other(url_for(".index"))
    return _after(outcome, done)


def _after(outcome: CommandResult, done: str) -> Response:
    """Back to the settings, or to the call list when a closure or shorter hours fell on
    booked appointments."""
    expectation = Expectation.of("clinic", outcome)
    expectation.wait()
    if say_waiting(done):
        return see_other(url_for("call_list.index"), expectation)
    return see_other(url_for(".index"), expectation)


@bp.post("/closures")
def close() -> Response:
    """Close the clinic on a day, or on the public holidays the admin kept."""
    return _run(
        lambda: forms.availability.close_clinic(request.form), "closure", N_("Closure recorded.")
    )


@bp.post("/closures/<day>/reopen")
def reopen(day: str) -> Response:
    """The clinic opens after all on a day recorded as closed."""
    return _run(
        lambda: forms.availability.reopen_clinic(request.form, day),
        "closure",
        N_("Closure removed."),
    )


@bp.post("/hours")
def set_hours() -> Response:
    """The clinic's opening hours, which bound every doctor's."""
    return _run(
        lambda: forms.availability.set_clinic_hours(request.form),
        "hours",
        N_("Opening hours saved."),
    )


@bp.post("/visit-types")
def define_visit_type() -> Response:
    """A new visit type, for a doctor, a specialty or anyone."""
    return _run(
        lambda: forms.availability.define_visit_type(request.form),
        "visit_type",
        N_("Visit type added."),
    )


@bp.post("/visit-types/<uuid:visit_type_id>/retire")
def retire_visit_type(visit_type_id: UUID) -> Response:
    """No longer offered to bookings; kept in history."""
    return _run(
        lambda: forms.availability.retire_visit_type(request.form, visit_type_id),
        "visit_type",
        N_("Visit type retired."),
    )


@bp.post("/contact")
def set_contact() -> Response:
    """What reminders and the patient's page say of the clinic: name, address, phone and
    what to bring."""
    form = request.form
    return _run(
        lambda: forms.reminders.set_clinic_contact(form),
        "contact",
        N_("Clinic details for patients saved."),
    )
