"""Who acts: staff roles, and what each role may ask of the clinic's records."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from .messages import N_


class Role(StrEnum):
    """A member of staff's role; it decides what they see and do."""

    RECEPTION = "reception"  # every patient and appointment page and command
    DOCTOR = "doctor"  # their own agenda; check in, complete, no-show their own appointments
    ADMIN = "admin"  # everything, plus staff accounts and operations


# The actor of what a patient does from their own page (no account: app/web/patient_page.py).
PATIENT_ACTOR = "patient"
# The actor of what the reminder sender records.
REMINDERS_ACTOR = "reminders"

# Catalog ids: the pages show gettext(label).
ROLE_LABELS = {
    Role.RECEPTION: N_("Reception"),
    Role.DOCTOR: N_("Doctor"),
    Role.ADMIN: N_("Admin"),
}


@dataclass(frozen=True)
class Principal:
    """The signed-in person a command runs for: their user id (recorded as the events'
    actor), their role and, for a doctor, which doctor they are."""

    actor: str
    role: Role
    doctor_id: UUID | None = None

    @property
    def is_doctor(self) -> bool:
        return self.role is Role.DOCTOR

    def owns(self, doctor_id: UUID | None) -> bool:
        """Whether a doctor's record (an agenda, an appointment with that doctor) is theirs."""
        return self.doctor_id is not None and self.doctor_id == doctor_id
