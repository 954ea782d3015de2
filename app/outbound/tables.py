"""The reminder sender's ledger, on the write side beside the events: one row per reminder
(an appointment, a kind, the time it reminds of) and where its sending stands.

The ledger is operational state, not history: the history is the ReminderSent,
ReminderSkipped and ReminderParked events. It lives in the write database because a claim,
a hand-over and its outcome must be fenced there, whatever the read models' lag, and it
survives a rebuild of every projection. docs/reminders.md walks through its states.
"""

from __future__ import annotations

import sqlalchemy as sa

from app.eventstore.tables import UTCDateTime, metadata

# due: to send (at next_at); sending: claimed, being prepared (safe to take over once the
# lease is out); committing: past the point of hand-over, the outcome not yet recorded (a
# take-over records it rather than sending again, unless the channel is idempotent);
# sent, skipped: done; parked: failed too often, waits for staff; dropped: the appointment
# was cancelled, moved or passed before its reminder went.
STATES = ("due", "sending", "committing", "sent", "skipped", "parked", "dropped")

deliveries = sa.Table(
    "reminder_deliveries",
    metadata,
    sa.Column("key", sa.String(120), primary_key=True),
    sa.Column("appointment_id", sa.Uuid(), nullable=False),
    sa.Column("kind", sa.String(10), nullable=False),
    sa.Column("starts_at", UTCDateTime, nullable=False),
    sa.Column("state", sa.String(12), nullable=False),
    sa.Column("channel", sa.String(10), nullable=True),
    sa.Column("address", sa.String(254), nullable=True),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("next_at", UTCDateTime, nullable=False),
    sa.Column("lease_until", UTCDateTime, nullable=True),
    sa.Column("claimed_by", sa.String(120), nullable=True),
    sa.Column("provider_id", sa.String(200), nullable=True),
    sa.Column("error", sa.Text(), nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.CheckConstraint(
        "state IN ('due', 'sending', 'committing', 'sent', 'skipped', 'parked', 'dropped')",
        name="state",
    ),
    sa.Index(None, "state", "next_at"),
    sa.Index(None, "appointment_id"),
)
