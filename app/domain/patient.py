"""The Patient aggregate: who the clinic sees, and how to reach them."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from uuid import UUID

from .errors import AlreadyExistsError, InvalidTransitionError, ValidationError
from .events import (
    ConsentGiven,
    ConsentWithdrawn,
    ContactPreferenceSet,
    Event,
    PatientDetailsChanged,
    PatientMerged,
    PatientMergedInto,
    PatientRegistered,
)
from .messages import Message, phrase
from .reminders import CHANNELS
from .rules import clean_text

_PHONE = re.compile(r"^\+?[0-9 ().-]{6,25}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def valid_email(text: str) -> bool:
    """Whether an address can be written to: what the registration form checks (an older
    record may hold one typed before it did)."""
    return bool(_EMAIL.match(text))


@dataclass
class PatientDetails:
    """The details a patient is registered with, checked and tidied."""

    full_name: str
    date_of_birth: date
    phone: str
    email: str

    @classmethod
    def checked(
        cls, *, full_name: str, date_of_birth: date | None, phone: str, email: str, today: date
    ) -> PatientDetails:
        """Check every field at once, so the form can show all its messages together."""
        errors: dict[str, Message] = {}
        name = phone_ = email_ = ""
        try:
            name = clean_text(
                full_name, field="full_name", label=phrase("The patient's name"), max_length=120
            )
        except ValidationError as exc:
            errors.update(exc.said_errors)
        if date_of_birth is None:
            errors["date_of_birth"] = phrase("The date of birth is required.")
        elif date_of_birth > today:
            errors["date_of_birth"] = phrase("The date of birth cannot be in the future.")
        elif date_of_birth.year < today.year - 130:
            errors["date_of_birth"] = phrase("That date of birth is more than 130 years ago.")
        try:
            phone_ = clean_text(
                phone,
                field="phone",
                label=phrase("The phone number"),
                max_length=25,
                required=False,
            )
            if phone_ and not _PHONE.match(phone_):
                errors["phone"] = phrase(
                    "The phone number may hold only digits, spaces, +, -, ( and )."
                )
        except ValidationError as exc:
            errors.update(exc.said_errors)
        try:
            email_ = clean_text(
                email,
                field="email",
                label=phrase("The email address"),
                max_length=254,
                required=False,
            )
            if email_ and not _EMAIL.match(email_):
                errors["email"] = phrase(
                    "That email address does not look right (name@example.org)."
                )
        except ValidationError as exc:
            errors.update(exc.said_errors)
        if errors:
            raise ValidationError(errors)
        assert date_of_birth is not None
        return cls(full_name=name, date_of_birth=date_of_birth, phone=phone_, email=email_)


@dataclass
class Patient:
    """A registered patient, folded from its stream."""

    id: UUID
    version: int = 0
    details: PatientDetails | None = None
    merged_into: UUID | None = None  # closed: this person's record is that one
    # Reminders: the channels the patient agreed to, the one they prefer, their language.
    consents: set[str] = field(default_factory=set)
    preferred_channel: str = "email"
    language: str = ""

    @property
    def exists(self) -> bool:
        return self.details is not None

    @classmethod
    def from_history(cls, patient_id: UUID, events: Iterable[Event]) -> Patient:
        patient = cls(id=patient_id)
        for event in events:
            patient.apply(event)
        return patient

    def apply(self, event: Event) -> None:
        """Fold one event into the state."""
        if isinstance(event, PatientRegistered | PatientDetailsChanged):
            self.details = PatientDetails(
                event.full_name, event.date_of_birth, event.phone, event.email
            )
        elif isinstance(event, PatientMergedInto):
            self.merged_into = event.kept_id
        elif isinstance(event, ConsentGiven):
            self.consents.add(event.channel)
        elif isinstance(event, ConsentWithdrawn):
            self.consents.discard(event.channel)
        elif isinstance(event, ContactPreferenceSet):
            self.preferred_channel, self.language = event.preferred_channel, event.language
        self.version += 1

    @property
    def name(self) -> str:
        return self.details.full_name if self.details else ""

    def register(self, details: PatientDetails) -> list[Event]:
        """Decide the registration of a new patient."""
        if self.version:
            raise AlreadyExistsError(phrase("This patient is already registered."))
        return [
            PatientRegistered(
                details.full_name, details.date_of_birth, details.phone, details.email
            )
        ]

    def refuse_if_merged(self) -> None:
        """A merged record is closed: what is done for this person is done on the kept one."""
        if self.merged_into is not None:
            raise InvalidTransitionError(
                phrase(
                    "%(name)s's record was merged into another one: use that record.",
                    name=self.name,
                )
            )

    def change_details(self, details: PatientDetails) -> list[Event]:
        """Decide a change of details; nothing happens when nothing changed."""
        self.refuse_if_merged()
        if details == self.details:
            return []
        return [
            PatientDetailsChanged(
                details.full_name, details.date_of_birth, details.phone, details.email
            )
        ]

    def set_reminders(
        self, *, consents: set[str], preferred_channel: str, language: str, languages: set[str]
    ) -> list[Event]:
        """Decide the patient's consents (each one given or withdrawn is its own event, so
        the record says when and by whom) and how they prefer to be reached."""
        self.refuse_if_merged()
        errors: dict[str, Message] = {}
        if not consents <= set(CHANNELS):
            errors["consents"] = phrase("Choose e-mail, text message, or both.")
        if preferred_channel not in CHANNELS:
            errors["preferred_channel"] = phrase("Choose e-mail or text message.")
        if language and language not in languages:
            errors["language"] = phrase("Choose one of the languages offered.")
        details = self.details
        if details is not None and "email" in consents and not details.email:
            errors["consents"] = phrase(
                "Record the patient's e-mail address before consent to e-mails."
            )
        if details is not None and "sms" in consents and not details.phone:
            errors["consents"] = phrase(
                "Record the patient's phone number before consent to text messages."
            )
        if errors:
            raise ValidationError(errors)
        events: list[Event] = [
            ConsentGiven(channel) for channel in CHANNELS if channel in consents - self.consents
        ]
        events += [
            ConsentWithdrawn(channel) for channel in CHANNELS if channel in self.consents - consents
        ]
        if (preferred_channel, language) != (self.preferred_channel, self.language):
            events.append(ContactPreferenceSet(preferred_channel, language))
        return events


def merge(kept: Patient, merged: Patient) -> tuple[list[Event], list[Event]]:
    """Decide that `merged` is the same person as `kept`: the events of the kept record and
    of the merged one. Both must be open records, and two of them."""
    if kept.id == merged.id:
        raise ValidationError(
            {"merged_id": phrase("A record cannot be merged into itself: choose another.")}
        )
    kept.refuse_if_merged()
    merged.refuse_if_merged()
    return (
        [PatientMerged(merged_id=merged.id, merged_name=merged.name)],
        [PatientMergedInto(kept_id=kept.id, kept_name=kept.name)],
    )
