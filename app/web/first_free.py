"""First available: the next free times of a doctor, or of any doctor of a specialty.

A GET form (it changes nothing): a bad field is answered 422 with its message in the
form, and no search runs. With htmx the form swaps only the results.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from app.extensions import services
from app.queries import first_free as ff

from . import formatting as fmt
from . import forms, i18n, pickers
from .kit import access
from .kit.rendering import fragment, page, wants_fragment

# Under /calendar, beside the day grid (another blueprint owns /calendar itself).
bp = Blueprint("first_free", __name__, url_prefix="/calendar")

RESULTS = "first-free-results"
FIELDS = ("doctor_id", "specialty", "day", "part", "minutes", "count")
PARTS = ("morning", "afternoon")
MIN_MINUTES, MAX_MINUTES = 5, 240


def _read(args: Any) -> tuple[dict[str, str], dict[str, str], dict[str, Any]]:
    """The form's values as sent, each field's message, and the search's arguments."""
    values = {k: str(args.get(k, "")).strip() for k in FIELDS}
    errors: dict[str, str] = {}
    search: dict[str, Any] = {}
    me = access.principal()
    if me.is_doctor:
        # A doctor searches their own column only; another doctor's is answered as unknown.
        if values["specialty"]:
            access.refuse("a specialty search by a doctor")
        if values["doctor_id"] and forms.uuid_or_none(values["doctor_id"]) != me.doctor_id:
            access.require_own(forms.uuid_or_none(values["doctor_id"]))
        values["doctor_id"] = str(me.doctor_id or "")
    choices = pickers.doctors()
    if values["doctor_id"] and values["specialty"]:
        errors["doctor_id"] = i18n.gettext("Choose a doctor or a specialty, not both.")
    elif values["doctor_id"]:
        doctor_id = forms.uuid_or_none(values["doctor_id"])
        if doctor_id is None or not any(c.doctor_id == doctor_id for c in choices):
            errors["doctor_id"] = i18n.gettext("There is no such doctor. Choose one from the list.")
        search["doctor_id"] = doctor_id
    elif values["specialty"]:
        if values["specialty"] not in {c.specialty for c in choices}:
            errors["specialty"] = i18n.gettext(
                "No doctor has that specialty. Choose one from the list."
            )
        search["specialty"] = values["specialty"]
    else:
        errors["doctor_id"] = i18n.gettext("Choose a doctor or a specialty.")
    day = forms.parse_day(values["day"]) if values["day"] else fmt.today()
    if day is None:
        errors["day"] = i18n.gettext("Write the day as a date, e.g. 2026-12-08.")
    else:
        # The past has no free time: the 90 days start today at the earliest.
        day = max(day, fmt.today())
        values["day"] = day.isoformat()
        search["from_day"] = day
    if values["part"] and values["part"] not in PARTS:
        errors["part"] = i18n.gettext("Choose any time, the morning or the afternoon.")
    search["part"] = values["part"] or None
    if values["minutes"]:
        try:
            minutes = int(values["minutes"])
        except ValueError:
            minutes = 0
        if not MIN_MINUTES <= minutes <= MAX_MINUTES:
            errors["minutes"] = i18n.gettext(
                "The duration must be between %(least)d and %(most)d minutes.",
                least=MIN_MINUTES,
                most=MAX_MINUTES,
            )
        search["minutes"] = minutes
    try:
        search["count"] = min(max(int(values["count"] or ff.DEFAULT_COUNT), 1), ff.MAX_COUNT)
    except ValueError:
        search["count"] = ff.DEFAULT_COUNT
    return values, errors, search


@bp.get("/first-available")
def index() -> Response:
    """The search form and, once asked, the first free times."""
    submitted = any(key in request.args for key in FIELDS)
    values, errors, search = _read(request.args)
    if not submitted:
        errors = {}
    context: dict[str, Any] = {
        "values": values,
        "errors": errors,
        "specialties": pickers.specialties(),
        "is_doctor": access.principal().is_doctor,
        "horizon": ff.HORIZON_DAYS,
        "result": None,
        "who": "",
    }
    if submitted and not errors:
        app = services()
        result = ff.first_free(app.query_engine, tz=app.tz, now=fmt.now(), **search)
        context["result"] = result
        context["more"] = search["count"] + 10 if len(result.times) == search["count"] else None
        if search.get("doctor_id") and result.doctors:
            context["who"] = result.doctors[0].full_name
        context["specialty"] = search.get("specialty")
    status = 422 if errors else 200
    if wants_fragment(RESULTS):
        return fragment("calendar/_first_available_results.html", status=status, **context)
    return page("calendar/first_available.html", status=status, **context)
