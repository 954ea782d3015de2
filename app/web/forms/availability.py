"""The availability forms: a doctor's absences and one-off hours, the clinic's closures,
opening hours and visit types."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

from app.commands import commands as c
from app.domain.errors import ValidationError

from .fields import Fields, command_id, parse_day, with_local_time
from .people import parse_week


def _span(form: Fields) -> dict[str, str]:
    """`starts_at` and `ends_at` as the form sent them, a day alone ("2027-12-14") read as
    whole days, as scripts write them: from its start, or to the end of that day."""
    starts = (form.get("starts_at") or "").strip()
    ends = (form.get("ends_at") or "").strip()
    if len(starts) == len("YYYY-MM-DD"):
        starts = f"{starts}T00:00"
    last = parse_day(ends) if len(ends) == len("YYYY-MM-DD") else None
    if last is not None:
        ends = f"{last + timedelta(days=1):%Y-%m-%d}T00:00"
    return {"starts_at": starts, "ends_at": ends}


def record_absence(form: Fields, doctor_id: UUID) -> c.RecordAbsence:
    return with_local_time(
        c.RecordAbsence,
        ("starts_at", "ends_at"),
        **_span(form),
        doctor_id=doctor_id,
        reason=form.get("reason", ""),
        note=form.get("note", ""),
        **command_id(form),
    )


def change_absence(form: Fields, doctor_id: UUID, absence_id: UUID) -> c.ChangeAbsence:
    return with_local_time(
        c.ChangeAbsence,
        ("starts_at", "ends_at"),
        **_span(form),
        doctor_id=doctor_id,
        absence_id=absence_id,
        reason=form.get("reason", ""),
        note=form.get("note", ""),
        **command_id(form),
    )


def cancel_absence(form: Fields, doctor_id: UUID, absence_id: UUID) -> c.CancelAbsence:
    return c.CancelAbsence(doctor_id=doctor_id, absence_id=absence_id, **command_id(form))


def _fields(form: Fields, *names: str) -> dict[str, Any]:
    """The form's text for the command's fields (which the command coerces), and its id."""
    return {**{name: form.get(name, "") for name in names}, **command_id(form)}


def set_day_hours(form: Fields, doctor_id: UUID) -> c.SetDayHours:
    return c.SetDayHours(doctor_id=doctor_id, **_fields(form, "day", "hours"))


def clear_day_hours(form: Fields, doctor_id: UUID) -> c.ClearDayHours:
    return c.ClearDayHours(doctor_id=doctor_id, **_fields(form, "day"))


def close_clinic(form: Fields) -> c.CloseClinic:
    """One day and its label, or (`holiday` fields) the public holidays the desk kept."""
    chosen = [day for day in form.getlist("holiday") if day] if hasattr(form, "getlist") else []
    if chosen:
        days = {day: form.get(f"label_{day}", "") for day in chosen}
    else:
        days = {form.get("day", ""): form.get("label", "")}
    return c.CloseClinic(days=days, **command_id(form))


def reopen_clinic(form: Fields, day: str) -> c.ReopenClinic:
    fields: dict[str, Any] = {"day": day, **command_id(form)}
    return c.ReopenClinic(**fields)


def set_clinic_hours(form: Fields) -> c.SetClinicHours:
    hours, errors = parse_week(form)
    if errors:
        raise ValidationError(errors)
    fields: dict[str, Any] = {"expected_version": form.get("expected_version") or None}
    return c.SetClinicHours(hours=hours, **fields, **command_id(form))


def define_visit_type(form: Fields) -> c.DefineVisitType:
    fields = _fields(form, "label", "minutes", "specialty")
    fields["doctor_id"] = form.get("doctor_id") or None
    return c.DefineVisitType(**fields)


def retire_visit_type(form: Fields, visit_type_id: UUID) -> c.RetireVisitType:
    return c.RetireVisitType(visit_type_id=visit_type_id, **command_id(form))
