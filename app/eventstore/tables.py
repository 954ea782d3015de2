"""Write-side tables: the append-only event log, doctor-time reservations, processed commands."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

JSONData = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
# SQLite only makes an INTEGER PRIMARY KEY an alias of its rowid (auto-assigned).
Position = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTCDateTime = sa.DateTime(timezone=True)

events = sa.Table(
    "events",
    metadata,
    sa.Column("position", Position, sa.Identity(always=False), primary_key=True),
    # The id of the writing transaction (PostgreSQL xid8 as bigint; 0 on SQLite), so a reader
    # can order by commit visibility; see docs/event-store.md.
    sa.Column("tx_id", sa.BigInteger(), nullable=False),
    sa.Column("stream_id", sa.Uuid(), nullable=False),
    sa.Column("stream_type", sa.String(40), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("event_type", sa.String(80), nullable=False),
    sa.Column("schema_version", sa.SmallInteger(), nullable=False),
    sa.Column("data", JSONData, nullable=False),
    sa.Column("metadata", JSONData, nullable=False),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("stream_id", "version", name="uq_events_stream_version"),
    sa.Index("ix_events_tx_id_position", "tx_id", "position"),
    sa.Index("ix_events_stream_type_event_type", "stream_type", "event_type"),
)

# One row per appointment that holds a doctor's time. On PostgreSQL an exclusion constraint
# makes overlapping rows for one doctor impossible, even for two transactions at once.
reservations = sa.Table(
    "reservations",
    metadata,
    sa.Column("appointment_id", sa.Uuid(), primary_key=True),
    sa.Column("doctor_id", sa.Uuid(), nullable=False),
    sa.Column("starts_at", UTCDateTime, nullable=False),
    sa.Column("ends_at", UTCDateTime, nullable=False),
    sa.Index("ix_reservations_doctor_id_starts_at", "doctor_id", "starts_at"),
)
reservations.append_constraint(
    postgresql.ExcludeConstraint(
        (reservations.c.doctor_id, "="),
        (sa.func.tstzrange(reservations.c.starts_at, reservations.c.ends_at), "&&"),
        name="reservations_no_overlap",
        using="gist",
    ).ddl_if(dialect="postgresql")
)

processed_commands = sa.Table(
    "processed_commands",
    metadata,
    sa.Column("command_id", sa.Uuid(), primary_key=True),
    sa.Column("command_type", sa.String(60), nullable=False),
    sa.Column("stream_id", sa.Uuid(), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("position", sa.BigInteger(), nullable=True),
    sa.Column("processed_at", UTCDateTime, nullable=False),
    # Who sent it, so that only they get its outcome again (null: logged before 0005).
    sa.Column("actor", sa.Text(), nullable=True),
)
