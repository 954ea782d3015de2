"""The reminder forms: a patient's consents (the desk's), the clinic in messages (an
admin's), and the patient's own answers from their page."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from app.commands import commands as c

from .fields import Fields, command_id


def set_patient_reminders(form: Any, patient_id: UUID) -> c.SetPatientReminders:
    """The consents ticked (each box sends "consents"), the preferred channel, the language."""
    # Text as sent: the command coerces each field, and refuses what it cannot.
    fields: dict[str, Any] = {
        "consents": form.getlist("consents"),
        "preferred_channel": form.get("preferred_channel", "email"),
        "language": form.get("language", ""),
        "expected_version": form.get("expected_version") or None,
    }
    return c.SetPatientReminders(**command_id(form), patient_id=patient_id, **fields)


def set_clinic_contact(form: Fields) -> c.SetClinicContact:
    return c.SetClinicContact(
        **command_id(form),
        clinic_name=form.get("name", ""),
        address=form.get("address", ""),
        phone=form.get("phone", ""),
        what_to_bring=form.get("what_to_bring", ""),
    )


def patient_answer(
    command: type[c.ConfirmAsPatient | c.CancelAsPatient], form: Fields, appointment_id: UUID
) -> c.ConfirmAsPatient | c.CancelAsPatient:
    """Confirm or Cancel from the patient's page, for the link's appointment whatever the
    form says, against the version the page showed."""
    fields: dict[str, Any] = {"expected_version": form.get("version") or None}
    if command is c.CancelAsPatient:
        fields["reason"] = form.get("reason", "")
    return command(**command_id(form), appointment_id=appointment_id, **fields)
