"""What one command decided, for the store to save in one go."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from app.domain.events import Event
from app.domain.messages import Message, phrase


@dataclass(frozen=True)
class Hold:
    """Hold a doctor's time for an appointment: a new hold, or a move of its existing one."""

    appointment_id: UUID
    doctor_id: UUID
    starts_at: datetime
    ends_at: datetime
    new: bool
    # What to tell staff if it is taken.
    refusal: Message = field(default_factory=lambda: phrase("That time is no longer free."))


@dataclass(frozen=True)
class Release:
    """Give an appointment's time back to the doctor."""

    appointment_id: UUID


@dataclass(frozen=True)
class Decision:
    """Events for one stream at the version it was loaded at, and any change of held time;
    `also`, events for other streams saved in the same transaction (each at its version),
    for the rare command that changes two records at once (a merge of two patients)."""

    stream_type: str
    stream_id: UUID
    version: int
    events: list[Event] = field(default_factory=list)
    reservation: Hold | Release | None = None
    also: tuple[Decision, ...] = ()

    @property
    def new_version(self) -> int:
        return self.version + len(self.events)
