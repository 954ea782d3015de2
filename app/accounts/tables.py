"""Staff accounts. They live in the write database beside the event log: they are the
identities the log's events name as their actors."""

from __future__ import annotations

import sqlalchemy as sa

from app.eventstore.tables import UTCDateTime, metadata

users = sa.Table(
    "users",
    metadata,
    sa.Column("user_id", sa.Uuid(), primary_key=True),
    # Lower case; sign-in compares the lower-cased input.
    sa.Column("username", sa.String(32), nullable=False, unique=True),
    sa.Column("full_name", sa.String(120), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    # Which doctor a doctor's account is (None for other roles).
    sa.Column("doctor_id", sa.Uuid(), nullable=True),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("active", sa.Boolean(), nullable=False),
    # Part of the session's user id: bumping it ends every session of the account.
    sa.Column("session_epoch", sa.Integer(), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("created_by", sa.String(120), nullable=False),
    sa.Column("changed_at", UTCDateTime, nullable=False),
    sa.Column("changed_by", sa.String(120), nullable=False),
    sa.Column("last_sign_in_at", UTCDateTime, nullable=True),
    # The language the person reads pages in; None follows the clinic's (CLINIC_LOCALE).
    sa.Column("locale", sa.String(8), nullable=True),
    sa.CheckConstraint("role IN ('reception', 'doctor', 'admin')", name="role"),
    sa.CheckConstraint("(role = 'doctor') = (doctor_id IS NOT NULL)", name="doctor_id"),
)

# A doctor's calendar subscription: only the SHA-256 of its secret token is kept, so a copy
# of the database does not open anyone's feed. One row per doctor; a reset replaces it.
calendar_feeds = sa.Table(
    "calendar_feeds",
    metadata,
    sa.Column("doctor_id", sa.Uuid(), primary_key=True),
    sa.Column("token_hash", sa.String(64), nullable=False),
    sa.Column("issued_at", UTCDateTime, nullable=False),
    # The account (user id) that created or last reset the link: a staff action, not an event.
    sa.Column("issued_by", sa.String(120), nullable=False),
)
