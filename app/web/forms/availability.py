"""The availability forms: a doctor's absences and one-off hours, the clinic's closures,
opening hours and visit types."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID

from app.commands import commands as c
from app.domain.errors import ValidationError
from app.domain.messages import Message

from .fields import Fields, command_id, parse_local
from .people import parse_week

T = TypeVar("T")


def _local_span(form: Fields, build: Callable[..., T], **fields: Any) -> T:
    """`build` with `starts_at` and `ends_at` read as clinic-local times, every field's
    message at once. A day alone ("2027-12-14") means its start, for `starts_at`, and the
    end of that day, for `ends_at`: whole days, as scripts write them."""
    errors: dict[str, Message | str] = {}
    for name in ("starts_at", "ends_at"):
        text = (form.get(name) or "").strip()
        whole_day = len(text) == 10
        try:
            moment = parse_local(f"{text}T00:00" if whole_day else text, name)
            if whole_day and name == "ends_at":
                moment = parse_local(
                    f"{(datetime.fromisoformat(text) + timedelta(days=1)):%Y-%m-%d}T00:00", name
                )
            fields[name] = moment
        except (ValidationError, ValueError) as exc:
            if isinstance(exc, ValidationError):
                errors.update(exc.said_errors)
            fields[name] = datetime.now(UTC)  # a stand-in, so the rest gets checked
    try:
        built = build(**fields)
    except ValidationError as exc:
        raise ValidationError({**exc.said_errors, **errors}) from None
    if errors:
        raise ValidationError(errors)
    return built


def record_absence(form: Fields, doctor_id: UUID) -> c.RecordAbsence:
    return _local_span(
        form,
        c.RecordAbsence,
        doctor_id=doctor_id,
        reason=form.get("reason", ""),
        note=form.get("note", ""),
        **command_id(form),
    )


def change_absence(form: Fields, doctor_id: UUID, absence_id: UUID) -> c.ChangeAbsence:
    return _local_span(
        form,
        c.ChangeAbsence,
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
