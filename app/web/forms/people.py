"""The patient and doctor forms: details, registration, working hours."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from uuid import UUID

from app.commands import commands as c
from app.domain.doctor import DAY_WORDS, parse_hours
from app.domain.errors import ValidationError
from app.domain.messages import Message, phrase
from app.domain.patient import PatientDetails
from app.domain.rules import WEEKDAYS

from .fields import Fields, clinic_today, command_id

PATIENT_FIELDS = ("full_name", "date_of_birth", "phone", "email")
HOURS_FIELDS = tuple(f"hours_{day}" for day in WEEKDAYS)
_PERIOD = re.compile(r"^\s*(\d{1,2}:\d{2})\s*[-\u2013\u2014]\s*(\d{1,2}:\d{2})\s*$")


def _patient_command(command: type[c.Command], form: Fields, key: str, **given: Any) -> Any:
    """Build a patient command; when it refuses a field (a malformed date), the domain's
    checks of the others have not run yet: run them too, so the form shows every message."""
    # Text as sent: the command coerces each field, and refuses what it cannot.
    fields: dict[str, Any] = {k: form.get(k, "") for k in PATIENT_FIELDS}
    try:
        return command(**fields, **command_id(form, key), **given)
    except ValidationError as exc:
        errors = exc.said_errors
    today = clinic_today()
    try:
        PatientDetails.checked(
            full_name=fields["full_name"],
            date_of_birth=today,  # a stand-in: the command has judged the real one
            phone=fields["phone"],
            email=fields["email"],
            today=today,
        )
    except ValidationError as exc:
        errors = {**exc.said_errors, **errors}
    raise ValidationError(errors)


def register_patient(form: Fields, key: str = "command_id") -> c.RegisterPatient:
    """A new patient from the directory's or the booking form's fields (`key` names the
    command id's field)."""
    command: c.RegisterPatient = _patient_command(c.RegisterPatient, form, key)
    return command


def change_patient(form: Fields, patient_id: UUID) -> c.ChangePatientDetails:
    """A patient's edited details, against the version the form was shown at."""
    version = form.get("expected_version") or None
    command: c.ChangePatientDetails = _patient_command(
        c.ChangePatientDetails, form, "command_id", patient_id=patient_id, expected_version=version
    )
    return command


def merge_patients(form: Fields, patient_id: UUID) -> c.MergePatients:
    """The duplicate chosen for the kept record, each at the version the admin saw."""
    # Text as sent: the command coerces each field, and refuses what it cannot.
    fields: dict[str, Any] = {
        "merged_id": form.get("merged_id", ""),
        "expected_version": form.get("expected_version") or None,
        "merged_version": form.get("merged_version") or None,
    }
    return c.MergePatients(patient_id=patient_id, **fields, **command_id(form))


def register_doctor(form: Fields) -> c.RegisterDoctor:
    """A new doctor; an empty slot length means the usual one (the command's default)."""
    sent = {k: form.get(k, "") for k in ("full_name", "specialty", "command_id", "slot_minutes")}
    # Text as sent: the command coerces each field, and refuses what it cannot.
    fields: dict[str, Any] = {k: v for k, v in sent.items() if v or k in ("full_name", "specialty")}
    return c.RegisterDoctor(**fields)


def hours_text(hours: Mapping[str, Any] | None) -> dict[str, str]:
    """Stored hours as the form shows them: {"hours_mon": "09:00-12:30, 14:00-18:00"}."""
    return {
        f"hours_{day}": ", ".join(f"{start}-{end}" for start, end in (hours or {}).get(day, []))
        for day in WEEKDAYS
    }


def parse_week(form: Fields) -> tuple[dict[str, list[list[str]]], dict[str, Message]]:
    """The form's hours in the command's shape, and a message for each day written wrongly."""
    hours: dict[str, list[list[str]]] = {}
    errors: dict[str, Message] = {}
    for day, name in zip(WEEKDAYS, DAY_WORDS, strict=True):
        text = (form.get(f"hours_{day}") or "").strip()
        periods = []
        for part in filter(None, (p.strip() for p in re.split(r"[,;]", text))):
            found = _PERIOD.match(part)
            if found is None:
                errors[f"hours_{day}"] = phrase(
                    "%(day)s: %(text)s is not a period; write e.g. 09:00-12:30, 14:00-18:00.",
                    day=name,
                    text=repr(part[:40]),
                )
                break
            # "9:00" is how people type it; the domain wants two-digit hours.
            periods.append([t.zfill(5) for t in found.groups()])
        if periods:
            hours[day] = periods
    return hours, errors


def set_hours(form: Fields, doctor_id: UUID) -> c.SetWorkingHours:
    """The hours form's command, or every message about it at once."""
    hours, errors = parse_week(form)
    fields: dict[str, Any] = {
        "expected_version": form.get("expected_version") or None,
        "slot_minutes": form.get("slot_minutes", ""),
        **command_id(form),
    }
    try:
        command = c.SetWorkingHours(doctor_id=doctor_id, hours=hours, **fields)
    except ValidationError as exc:
        errors = {**exc.said_errors, **errors}
    if errors:
        # The days written correctly may still be wrong (ends before it starts): say so now
        # rather than after the user has fixed the others.
        try:
            parse_hours(hours)
        except ValidationError as exc:
            errors = {**exc.said_errors, **errors}
        raise ValidationError(errors)
    return command
