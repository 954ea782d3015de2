"""Reminders of appointments: which one is due when, by which channel, and the record of
what was sent. Standard library only, like the rest of the domain.

Each appointment has its own reminders stream (`reminders_stream_id`), beside its own: a
reminder is a fact about the appointment, not a change of it. On the appointment's stream it
would move the version every open page saw (a receptionist's Confirm would meet a conflict
because a message went out) and would become the "last change" that Undo takes back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid5

from .events import Event, ReminderParked, ReminderSent, ReminderSkipped

CHANNELS = ("email", "sms")
# "first": REMINDER_HOURS_BEFORE (48 h); "second": REMINDER_SECOND_HOURS_BEFORE (2 h, 0 off).
KINDS = ("first", "second")
# Why a due reminder was not sent (the staff's patient page words each).
REMINDER_SKIPS = (
    "no_consent",  # no consent on any channel the clinic can send by
    "no_address",  # consent given, but no e-mail address or phone number to send to
    "invalid_email",
    "invalid_phone",  # not a number a text message can reach (a landline, a typo)
    "no_channel",  # the clinic has no SMTP server or SMS provider set up for it
)

_NAMESPACE = UUID("0b6c1f9e-6a52-4c55-9d1e-2f0e7d6b3a41")


def reminders_stream_id(appointment_id: UUID) -> UUID:
    """The id of an appointment's reminders stream: derived, so nothing needs looking up."""
    return uuid5(_NAMESPACE, str(appointment_id))


def reminder_key(appointment_id: UUID, kind: str, starts_at: datetime) -> str:
    """One reminder of one time: a move re-plans the reminder, under a new key, and the
    reminder sent for the old time stays what it was."""
    return f"{appointment_id}:{kind}:{starts_at.astimezone(UTC).strftime('%Y%m%dT%H%MZ')}"


@dataclass(frozen=True)
class Plan:
    """When the clinic reminds: hours before the visit (the second 0 when there is none)."""

    first_hours: int = 48
    second_hours: int = 0

    @property
    def horizon(self) -> timedelta:
        return timedelta(hours=max(self.first_hours, self.second_hours))

    def due_kind(self, starts_at: datetime, now: datetime) -> str | None:
        """The reminder due now for a visit at `starts_at`, if any. When both are due (a
        visit booked or moved within the second's hours) only the nearer one is sent: two
        messages in one minute about the same visit help no one."""
        if starts_at <= now:
            return None
        left = starts_at - now
        if self.second_hours and left <= timedelta(hours=self.second_hours):
            return "second"
        if left <= timedelta(hours=self.first_hours):
            return "first"
        return None


@dataclass(frozen=True)
class Contact:
    """What the patient's record says of reaching them."""

    email: str
    phone: str
    consents: frozenset[str]
    preferred: str


def choose_channel(
    contact: Contact, available: Iterable[str], *, email_ok: bool, phone_ok: bool
) -> tuple[str, str] | str:
    """(channel, address) to send by, or why none (one of REMINDER_SKIPS). The preferred
    channel first, then the other; a channel needs the patient's consent, an address that
    can be sent to, and the clinic's means of sending. `email_ok`/`phone_ok` say whether
    the address and the number can be sent to (the caller checks them)."""
    available = set(available)
    order = sorted(CHANNELS, key=lambda channel: channel != contact.preferred)
    consented = [channel for channel in order if channel in contact.consents]
    if not consented:
        return "no_consent"
    reasons: list[str] = []
    for channel in consented:
        address, usable, bad = (
            (contact.email, email_ok, "invalid_email")
            if channel == "email"
            else (contact.phone, phone_ok, "invalid_phone")
        )
        if not address:
            reasons.append("no_address")
        elif not usable:
            reasons.append(bad)
        elif channel not in available:
            reasons.append("no_channel")
        else:
            return channel, address
    # The reason of the channel the patient prefers says most.
    return reasons[0]


@dataclass
class Reminders:
    """An appointment's reminders, folded from their stream: what happened to each key."""

    id: UUID
    version: int = 0
    outcomes: dict[str, str] = field(default_factory=dict)  # key -> "sent" | "skipped" | ...

    @property
    def exists(self) -> bool:
        return True

    @classmethod
    def from_history(cls, stream_id: UUID, events: Iterable[Event]) -> Reminders:
        reminders = cls(id=stream_id)
        for event in events:
            reminders.apply(event)
        return reminders

    def apply(self, event: Event) -> None:
        match event:
            case ReminderSent():
                self.outcomes[event.key] = "sent"
            case ReminderSkipped():
                self.outcomes[event.key] = "skipped"
            case ReminderParked():
                self.outcomes.setdefault(event.key, "parked")
        self.version += 1

    def record(self, event: ReminderSent | ReminderSkipped | ReminderParked) -> list[Event]:
        """Record an outcome once per key: a send recorded again (a recovered pass, a
        retried commit) changes nothing. Parked can still be followed by sent (a retry)."""
        done = self.outcomes.get(event.key)
        if done in ("sent", "skipped"):
            return []
        if done == "parked" and isinstance(event, ReminderParked):
            return []
        return [event]
