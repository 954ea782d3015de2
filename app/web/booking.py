"""Booking: find or register the patient, pick a doctor, a day and a free slot, book.

One form carries everything, so nothing typed is lost on the way. Without JavaScript its
secondary buttons ("Search", "Show free times", "Register patient") post back here and the
form comes back with their result; with htmx only the region concerned is refreshed.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode
from uuid import UUID, uuid4

from flask import Blueprint, Response, current_app, request, url_for

from app.extensions import services
from app.queries import agenda
from app.queries import directory as d
from app.queries.availability import VisitTypeRow, day_note, visit_types, visit_types_for

from . import formatting as fmt
from . import forms, pickers, registration, series
from .forms import PATIENT_FIELDS
from .kit.outcomes import Expectation, Refusal, attempt
from .kit.rendering import fragment, from_htmx, page, page_or_fragment, see_other, settle

# Under /appointments, as the appointment it makes will be.
bp = Blueprint("booking", __name__, url_prefix="/appointments")

# What the booking form carries from one step to the next.
# duration_for: the doctor whose slot length the duration was last set for (see _duration).
KEPT = (
    "patient_id", "doctor_id", "day", "starts_at", "duration_minutes", "duration_for", "title",
    "q", "confirmed", "visit_type_id", *forms.SERIES_FIELDS,
)  # fmt: skip


def _patient_context(values: dict[str, str]) -> dict[str, Any]:
    """The patient chosen so far and the patients matching the search."""
    engine = services().query_engine
    patient_id = forms.uuid_or_none(values.get("patient_id"))
    patient = d.patient(engine, patient_id) if patient_id else None
    merged = None
    if patient is not None and patient.merged_into is not None:
        # A link or a form from before a merge: the kept record is the patient now.
        merged, patient = patient, d.patient(engine, patient.merged_into)
        values["patient_id"] = str(patient.patient_id) if patient else ""
    query = (values.get("q") or "").strip()
    return {
        "values": values,
        "patient": patient,
        "merged_patient": merged,
        "matches": (
            d.search_patients(engine, query, limit=10, region=services().region) if query else []
        ),
        "searched": bool(query),
    }


def _slot_context(values: dict[str, str]) -> dict[str, Any]:
    """The chosen doctor and day, the doctor's free times that day, and the duration."""
    doctor_id = forms.uuid_or_none(values.get("doctor_id"))
    doctor = next((doc for doc in pickers.doctors() if doc.doctor_id == doctor_id), None)
    kinds = (
        visit_types_for(visit_types(services().query_engine), doctor.doctor_id, doctor.specialty)
        if doctor
        else []
    )
    _duration(values, doctor, kinds)
    day = forms.parse_day(values.get("day"))
    slots = []
    note = None
    found = agenda.doctor(services().query_engine, doctor.doctor_id) if doctor and day else None
    if found is not None and day is not None:
        note = day_note(found.schedule, day, services().tz)
        slots = agenda.free_slots_of(
            services().query_engine,
            found,
            day,
            tz=services().tz,
            now=fmt.now(),
            minutes=_minutes(values),
        )
    return {
        "values": values,
        "doctor": doctor,
        "day": day,
        "slots": slots,
        "visit_types": kinds,
        "day_note": note,
    }


def _minutes(values: dict[str, str]) -> int | None:
    """The duration typed, when it is one a booking accepts (the free times offered are
    those a visit that long fits in)."""
    try:
        minutes = int(values.get("duration_minutes") or "")
    except ValueError:
        return None
    return minutes if 5 <= minutes <= 8 * 60 else None


def _duration(
    values: dict[str, str], doctor: d.DoctorChoice | None, kinds: list[VisitTypeRow]
) -> None:
    """The duration follows the doctor and the visit type: a doctor or type other than the
    one it was last set for brings the type's length (else the doctor's slot length); for
    the same doctor and type what was typed stays."""
    kind = next((k for k in kinds if str(k.visit_type_id) == values.get("visit_type_id")), None)
    values["visit_type_id"] = str(kind.visit_type_id) if kind else ""
    chosen = str(doctor.doctor_id) if doctor else ""
    if kind is not None:
        chosen = f"{chosen}:{kind.visit_type_id}"
    if doctor and (values.get("duration_for") != chosen or not values.get("duration_minutes")):
        values["duration_minutes"] = str(kind.minutes if kind else doctor.slot_minutes)
    values["duration_for"] = chosen


def _booking_context(values: dict[str, str]) -> dict[str, Any]:
    """Everything the whole booking form shows."""
    context = {**_patient_context(values), **_slot_context(values)}
    values.setdefault("command_id", str(uuid4()))
    values.setdefault("patient_command_id", str(uuid4()))
    return {**context, "min_day": fmt.today().isoformat()}


def _values(source: Any) -> dict[str, str]:
    values = {
        k: str(source.get(k, ""))
        for k in (*KEPT, *PATIENT_FIELDS, "command_id")
        if source.get(k) is not None
    }
    # "Confirmed with the patient": a form sent back says it by the box's presence (a box
    # left unticked sends nothing); a fresh form, or a link, starts from the clinic's choice.
    if request.method == "POST":
        values["confirmed"] = "1" if source.get("confirmed") == "1" else "0"
    elif values.get("confirmed") not in ("0", "1"):
        values["confirmed"] = "1" if current_app.config.get("BOOK_CONFIRMED", True) else "0"
    return values


@bp.route("/new", methods=["GET", "POST"])
def new() -> Response:
    """The booking form. A POST here only refreshes it (no-JS steps); it books nothing."""
    updating = settle()
    values = _values(request.values)
    if request.method == "GET":
        values.pop("command_id", None)  # a fresh form is a fresh booking
    if not values.get("day"):
        values["day"] = fmt.today().isoformat()
    return page("appointments/new.html", updating=updating, **_booking_context(values))


def booking_form_page(refusal: Refusal) -> Response:
    """The booking form again as it was sent, with why nothing was booked."""
    values = _values(request.form)
    # Keep the duration as sent.
    values["duration_for"] = ":".join(
        filter(None, (values.get("doctor_id", ""), values.get("visit_type_id", "")))
    )
    context = _booking_context(values)
    context["refusal"] = refusal
    return page("appointments/new.html", status=refusal.status, **context)


@bp.get("/new/patients")
def patient_matches() -> Response:
    """Patients whose name or phone contains what was typed (search as you type)."""
    context = _patient_context(_values(request.args))
    return fragment("appointments/_patient_matches.html", **context)


@bp.get("/new/slots")
def slots() -> Response:
    """The chosen doctor's free times on the chosen day."""
    values = _values(request.args)
    if from_htmx():
        # The duration field comes along out of band: it follows the doctor chosen.
        return fragment(
            "appointments/_slot_picker.html", oob_duration=True, **_slot_context(values)
        )
    return page("appointments/new.html", **_booking_context(values))


@bp.post("/new/patient")
def register_patient() -> Response:
    """Register a new patient from the booking form, keeping everything else typed; or,
    when registered patients looked like them, use the one the desk chose instead."""
    values = _values(request.form)
    used = forms.uuid_or_none(request.form.get("use_patient"))
    if used is not None:
        return _patient_chosen(values, used)
    outcome = registration.register(request.form, "patient_command_id")
    if isinstance(outcome, registration.LookAlikes):
        return _new_patient_again(values, outcome.status, look_alikes=outcome.found)
    if isinstance(outcome, Refusal):
        return _new_patient_again(values, outcome.status, refusal=outcome)
    return _patient_chosen(values, outcome.stream_id, Expectation.of("patient", outcome))


def _new_patient_again(values: dict[str, str], status: int, **why: Any) -> Response:
    """The form back with the new patient's part open, and why nothing was registered."""
    context = {**_booking_context(values), **why, "new_patient_open": True}
    return page_or_fragment(
        "appointments/new.html", "appointments/_patient_picker.html", status=status, **context
    )


def _patient_chosen(
    values: dict[str, str], patient_id: UUID, registered: Expectation | None = None
) -> Response:
    """The booking form with this patient chosen and the new patient's fields emptied:
    with htmx its patient part (once the registration shows in the directory), without,
    the whole form again at an address of its own."""
    if from_htmx():
        if registered is not None:
            registered.wait()
        values = {**values, "patient_id": str(patient_id), "q": ""}
        values.update(dict.fromkeys(PATIENT_FIELDS, ""))
        values["patient_command_id"] = str(uuid4())
        context = _booking_context(values)
        context["chosen"] = "registered" if registered else "used"
        return fragment("appointments/_patient_picker.html", **context)
    kept = {k: values[k] for k in KEPT if values.get(k) and k not in ("q", "patient_id")}
    kept["patient_id"] = str(patient_id)
    return see_other(url_for(".new") + "?" + urlencode(kept), registered)


@bp.post("")
def create() -> Response:
    """Book: one appointment, once, however often the button is pressed. With "Repeat"
    chosen, the preview of the series instead (which books nothing yet)."""
    if request.form.get("every_weeks"):
        return series.preview(_values(request.form), booking_form_page)
    outcome = attempt(lambda: forms.create_appointment(request.form))
    if isinstance(outcome, Refusal):
        return booking_form_page(outcome)
    return see_other(
        url_for("appointments.detail", appointment_id=outcome.stream_id),
        Expectation.of("appointment", outcome),
    )
