"""Saving a decision on PostgreSQL in one round trip.

A decision writes up to three statements (its doctor-time change, its events, its command
record). Sent one by one they cost a network round trip each; psycopg's pipeline mode sends
them together and waits once. The statements are the same rows the portable path writes
through SQLAlchemy (see StoreTransaction.save); only the transport differs.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb

from .decisions import Hold, Release

INSERT_EVENT = (
    "INSERT INTO events (tx_id, stream_id, stream_type, version, event_type, schema_version, "
    "data, metadata, recorded_at) VALUES (pg_current_xact_id()::text::bigint, "
    "%s, %s, %s, %s, %s, %s, %s, %s) RETURNING position"
)
HOLD_NEW = (
    "INSERT INTO reservations (appointment_id, doctor_id, starts_at, ends_at) "
    "VALUES (%s, %s, %s, %s)"
)
# A move also restores a hold that is missing (an upsert), so a reschedule always holds time.
HOLD_MOVE = (
    "INSERT INTO reservations (appointment_id, doctor_id, starts_at, ends_at) "
    "VALUES (%s, %s, %s, %s) ON CONFLICT (appointment_id) DO UPDATE SET "
    "doctor_id = EXCLUDED.doctor_id, starts_at = EXCLUDED.starts_at, ends_at = EXCLUDED.ends_at"
)
RELEASE = "DELETE FROM reservations WHERE appointment_id = %s"
# currval() is the last position this session drew, i.e. this decision's last event.
RECORD_COMMAND = (
    "INSERT INTO processed_commands "
    "(command_id, command_type, stream_id, version, position, processed_at, actor) "
    "VALUES (%s, %s, %s, %s, {position}, %s, %s)"
)
LAST_POSITION = "currval(pg_get_serial_sequence('events', 'position'))"


def send(
    connection: psycopg.Connection[Any],
    *,
    reservation: Hold | Release | None,
    rows: Sequence[dict[str, Any]],
    command: tuple[UUID, str, UUID, int],
    actor: str,
    processed_at: datetime,
) -> list[int]:
    """Write everything in one pipeline; returns the events' positions.

    Integrity errors surface from the pipeline's sync with the violated constraint's name,
    which the caller maps to the store's errors.
    """
    with connection.pipeline():
        if isinstance(reservation, Hold):
            held = (
                reservation.appointment_id,
                reservation.doctor_id,
                reservation.starts_at,
                reservation.ends_at,
            )
            connection.execute(HOLD_NEW if reservation.new else HOLD_MOVE, held)
        elif isinstance(reservation, Release):
            connection.execute(RELEASE, (reservation.appointment_id,))
        cursors = [
            connection.execute(
                INSERT_EVENT,
                (
                    row["stream_id"],
                    row["stream_type"],
                    row["version"],
                    row["event_type"],
                    row["schema_version"],
                    Jsonb(row["data"]),
                    Jsonb(row["metadata"]),
                    row["recorded_at"],
                ),
            )
            for row in rows
        ]
        position = LAST_POSITION if rows else "NULL"
        recorded = (*command, processed_at, actor)
        connection.execute(RECORD_COMMAND.format(position=position), recorded)
    return [_returned(cursor) for cursor in cursors]


def _returned(cursor: psycopg.Cursor[Any]) -> int:
    """The position an INSERT … RETURNING gave back: one row, always."""
    row = cursor.fetchone()
    assert row is not None
    return row[0]
