"""The appointment forms: booking, and the actions on one appointment."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from app.commands import commands as c

from .fields import Fields, command_id, with_local_time


def create_appointment(form: Fields) -> c.CreateAppointment:
    """The booking form's appointment."""
    names = ("patient_id", "doctor_id", "duration_minutes", "title", "confirmed", "visit_type_id")
    fields = {k: form.get(k, "") for k in names}
    return with_local_time(
        c.CreateAppointment, starts_at=form.get("starts_at"), **fields, **command_id(form)
    )


def appointment_command(
    command: type[c.AppointmentCommand], appointment_id: UUID, form: Fields, extra: tuple[str, ...]
) -> c.AppointmentCommand:
    """An action on one appointment: the version the user saw, and the action's own fields."""
    fields: dict[str, Any] = {
        "expected_version": form.get("expected_version") or None,
        **command_id(form),
        **{name: form.get(name, "") for name in extra},
    }
    return with_local_time(command, appointment_id=appointment_id, **fields)
