"""Patients: the directory, registration, and one patient's page."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import Blueprint, Response, abort, flash, request, url_for

from app import phones
from app.extensions import services
from app.outbound import ledger
from app.queries import directory as d
from app.queries.appointments import appointments_for_patient, count_for_patient
from app.queries.patient_page import consent_history

from . import formatting as fmt
from . import forms, i18n, registration
from .kit import access
from .kit.outcomes import Expectation, Refusal, attempt
from .kit.rendering import fragment, missing, page, see_other, settle, wants_fragment

bp = Blueprint("patients", __name__, url_prefix="/patients")

RESULTS = "patient-results"  # the search results' element id, which htmx targets
PAGE_SIZE = 50


def _directory(status: int = 200, **context: Any) -> Response:
    query = (request.args.get("q") or "").strip()[:100]
    found = d.search_patients(
        services().query_engine, query, limit=PAGE_SIZE, region=services().region
    )
    results: dict[str, Any] = {"patients": found, "q": query, "more": len(found) >= PAGE_SIZE}
    if wants_fragment(RESULTS):
        return fragment("patients/_results.html", **results)
    context.setdefault("values", {})
    return page("patients/index.html", status=status, max_birth=fmt.today(), **results, **context)


@bp.get("")
def index() -> Response:
    """The patient directory, searched by name or phone as the user types."""
    return _directory(updating=settle())


@bp.post("")
def register() -> Response:
    """Register a patient from the directory's form, unless registered patients look like
    them: then the form comes back with those, to open one or to register anyway."""
    outcome = registration.register(request.form)
    if isinstance(outcome, Refusal):
        return _directory(outcome.status, refusal=outcome, values=dict(request.form))
    if isinstance(outcome, registration.LookAlikes):
        return _directory(outcome.status, look_alikes=outcome.found, values=dict(request.form))
    flash(i18n.gettext("Patient registered."))
    return see_other(
        url_for(".detail", patient_id=outcome.stream_id), Expectation.of("patient", outcome)
    )


def _shown(patient: d.PatientRow) -> dict[str, str]:
    """The edit form's values as the patient is now, at the version they carry."""
    return {
        "full_name": patient.full_name,
        "date_of_birth": patient.date_of_birth.isoformat() if patient.date_of_birth else "",
        "phone": patient.phone,
        "email": patient.email,
        "expected_version": str(patient.version),
    }


def _patient_page(
    patient: d.PatientRow,
    *,
    updating: bool = False,
    refusal: Refusal | None = None,
    values: dict[str, str] | None = None,
    reminder_refusal: Refusal | None = None,
    reminder_values: dict[str, Any] | None = None,
) -> Response:
    visits = appointments_for_patient(services().query_engine, patient.patient_id, now=fmt.now())
    consents = consent_history(services().store, patient.patient_id)
    shown = [*visits.upcoming, *visits.past[:10]]
    return page(
        "patients/detail.html",
        status=refusal.status if refusal else 200,
        updating=updating,
        patient=patient,
        visits=visits,
        change_refusal=refusal,
        change_values=values if values is not None else _shown(patient),
        max_birth=fmt.today(),
        merged=d.merged_into(services().query_engine, patient.patient_id),
        consents=consents,
        consent_people=services().accounts.names({change.actor for change in consents}),
        reminders=ledger.for_appointments(
            services().store_query_engine, [row.appointment_id for row in shown]
        )[:10],
        visit_times={row.appointment_id: row.starts_at for row in shown},
        reminder_refusal=reminder_refusal,
        reminder_values=reminder_values,
    )


@bp.get("/<uuid:patient_id>")
def detail(patient_id: UUID) -> Response:
    """One patient: details, an edit form, and their upcoming and past appointments."""
    updating = settle()
    patient = d.patient(services().query_engine, patient_id)
    if patient is None:
        return missing("patient", updating, url_for("patients.index"))
    if patient.merged_into is not None:
        return _to_kept(patient)
    if not access.may_see_patient(patient_id):
        access.conceal("a patient who is not theirs", "patient")
    return _patient_page(patient, updating=updating)


def _open_record(patient_id: UUID) -> d.PatientRow:
    """The patient a form is sent for, or 404: a form is no page to say "updating" on."""
    patient = d.patient(services().query_engine, patient_id)
    if patient is None:
        abort(404, description=i18n.no_such("patient"))
    return patient


def _to_kept(merged: d.PatientRow) -> Response:
    """A merged record's old address (a bookmark, a link in an old page) leads to the
    record it was merged into, for those who may see that one."""
    assert merged.merged_into is not None
    if not access.may_see_patient(merged.merged_into):
        access.conceal("a patient who is not theirs", "patient")
    kept = d.patient(services().query_engine, merged.merged_into)
    flash(
        i18n.gettext(
            "%(merged)s's record was merged into %(kept)s's: this is the record now.",
            merged=merged.full_name,
            kept=kept.full_name if kept else "",
        )
    )
    return see_other(url_for(".detail", patient_id=merged.merged_into))


def _merge_page(
    kept: d.PatientRow,
    status: int = 200,
    refusal: Refusal | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    """The merge of a duplicate into `kept`: the records that look like it (or those found
    by a search), then the one chosen beside it, with how many appointments each holds."""
    engine = services().query_engine
    values = values or {}
    query = (values.get("q") or request.args.get("q") or "").strip()[:100]
    if query:
        found = [
            p
            for p in d.search_patients(engine, query, limit=20, region=services().region)
            if p.patient_id != kept.patient_id
        ]
    else:
        phone_key = phones.key(kept.phone, services().region) if kept.phone else ""
        alike = d.look_alikes(
            engine, kept.full_name, kept.date_of_birth, phone_key, besides=kept.patient_id
        )
        found = [a.patient for a in alike]
    chosen_id = forms.uuid_or_none(values.get("merged_id") or request.args.get("merged_id"))
    chosen = d.patient(engine, chosen_id) if chosen_id else None
    if chosen is not None and (chosen.merged_into or chosen.patient_id == kept.patient_id):
        chosen = None  # offered only as the form would accept it; the bus has the last word
    return page(
        "patients/merge.html",
        status=status,
        kept=kept,
        found=found,
        q=query,
        searched=bool(query),
        chosen=chosen,
        counts={
            p.patient_id: count_for_patient(engine, p.patient_id)
            for p in (kept, chosen)
            if p is not None
        },
        refusal=refusal,
        values=values,
    )


@bp.get("/<uuid:patient_id>/merge")
def merge_form(patient_id: UUID) -> Response:
    """Choose the duplicate of this patient to merge into this record (admins)."""
    kept = _open_record(patient_id)
    if kept.merged_into is not None:
        return _to_kept(kept)
    return _merge_page(kept)


@bp.post("/<uuid:patient_id>/merge")
def merge(patient_id: UUID) -> Response:
    """Merge the chosen duplicate into this record, both at the versions the admin saw:
    its appointments become this patient's, and its address leads here."""
    kept = _open_record(patient_id)
    form = request.form
    outcome = attempt(lambda: forms.merge_patients(form, patient_id))
    if isinstance(outcome, Refusal):
        return _merge_page(kept, outcome.status, outcome, dict(form))
    merged_id = forms.uuid_or_none(form.get("merged_id"))
    merged = d.patient(services().query_engine, merged_id) if merged_id else None
    flash(
        i18n.gettext(
            "%(merged)s's record was merged into this one, with its appointments.",
            merged=merged.full_name if merged else "",
        )
    )
    return see_other(url_for(".detail", patient_id=patient_id), Expectation.of("patient", outcome))


@bp.post("/<uuid:patient_id>")
def change(patient_id: UUID) -> Response:
    """Change a patient's details, refused if someone changed them since the form was shown."""
    patient = _open_record(patient_id)
    form = request.form
    outcome = attempt(lambda: forms.change_patient(form, patient_id))
    if isinstance(outcome, Refusal):
        # What was typed stays, and so does the version it was typed against: after a
        # conflict the form keeps refusing until the user has reloaded and seen the change.
        return _patient_page(patient, refusal=outcome, values=dict(form))
    flash(
        i18n.gettext("Patient details saved.")
        if outcome.position is not None
        else i18n.gettext("Nothing to change.")
    )
    return see_other(url_for(".detail", patient_id=patient_id), Expectation.of("patient", outcome))


@bp.post("/<uuid:patient_id>/reminders")
def set_reminders(patient_id: UUID) -> Response:
    """The patient's consents to reminders, preferred channel and language."""
    patient = _open_record(patient_id)
    form = request.form
    outcome = attempt(lambda: forms.reminders.set_patient_reminders(form, patient_id))
    if isinstance(outcome, Refusal):
        values = {**form, "consents": form.getlist("consents")}
        return _patient_page(patient, reminder_refusal=outcome, reminder_values=values)
    flash(
        i18n.gettext("Reminder settings saved.")
        if outcome.position is not None
        else i18n.gettext("Nothing to change.")
    )
    return see_other(
        url_for(".detail", patient_id=patient_id) + "#reminders-title",
        Expectation.of("patient", outcome),
    )
