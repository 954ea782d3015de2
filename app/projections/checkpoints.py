"""Checkpoint rows: where each projection is, and what it is stuck on."""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from app.domain.clinic_time import to_utc
from app.eventstore import START, Checkpoint, RecordedEvent

from .projection import Projection
from .tables import checkpoints, skipped_events

CLEARED_FAILURE = {
    "failed_tx_id": None,
    "failed_position": None,
    "failed_event_type": None,
    "failures": 0,
    "last_error": None,
    "parked_at": None,
}


@dataclass(frozen=True)
class CheckpointRow:
    """A projection's checkpoint row as read."""

    name: str
    version: int
    tx_id: int
    position: int
    last_event_at: datetime | None
    updated_at: datetime | None
    failed_tx_id: int | None
    failed_position: int | None
    failed_event_type: str | None
    failures: int
    last_error: str | None
    parked_at: datetime | None

    @property
    def checkpoint(self) -> Checkpoint:
        return (self.tx_id, self.position)

    @property
    def failed_checkpoint(self) -> Checkpoint | None:
        if self.failed_position is None or self.failed_tx_id is None:
            return None
        return (self.failed_tx_id, self.failed_position)

    @classmethod
    def from_row(cls, row: Any) -> CheckpointRow:
        values = dict(row._mapping)
        for name in ("last_event_at", "updated_at", "parked_at"):
            if values[name] is not None:
                values[name] = to_utc(values[name])
        return cls(**values)


def last_line(error: str | None) -> str:
    """A recorded error's last line: the exception and its message."""
    lines = (error or "").strip().splitlines()
    return lines[-1] if lines else "(no message)"


def describe(error: BaseException) -> str:
    """An error as an operator needs it: the traceback, ending with the message."""
    return "".join(traceback.format_exception(error))[-4000:]


def ensure(conn: Connection, projection: Projection) -> bool:
    """Create the projection's checkpoint row at the start of the log, if it is missing;
    returns whether it was missing. Commit it before locking it: a second inserter waits for
    the first one's transaction, where a locker of a committed row can skip it."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    result = conn.execute(
        dialect.insert(checkpoints)
        .values(
            name=projection.name,
            version=projection.version,
            tx_id=START[0],
            position=START[1],
            failures=0,
        )
        .on_conflict_do_nothing(index_elements=[checkpoints.c.name])
    )
    return bool(result.rowcount)


def lock(conn: Connection, projection: Projection, *, wait: bool) -> CheckpointRow | None:
    """Lock the projection's row for this transaction; None if another holds it and not
    `wait`, or if the row does not exist yet (see `ensure`). (SQLite has no row locks: its
    write lock already admits one writer.)"""
    query = (
        sa.select(checkpoints)
        .where(checkpoints.c.name == projection.name)
        .with_for_update(skip_locked=not wait)
    )
    row = conn.execute(query).first()
    return CheckpointRow.from_row(row) if row is not None else None


def lock_many(conn: Connection, names: list[str]) -> dict[str, CheckpointRow]:
    """Lock the rows of `names` that no other transaction holds, for this transaction
    (skipping, not waiting for, the others); the rows found, by name."""
    query = (
        sa.select(checkpoints)
        .where(checkpoints.c.name.in_(names))
        .with_for_update(skip_locked=True)
    )
    return {row.name: CheckpointRow.from_row(row) for row in conn.execute(query)}


def exists(conn: Connection, name: str) -> bool:
    query = sa.select(checkpoints.c.name).where(checkpoints.c.name == name)
    return conn.execute(query).first() is not None


def read_all(conn: Connection) -> dict[str, CheckpointRow]:
    rows = conn.execute(sa.select(checkpoints))
    return {row.name: CheckpointRow.from_row(row) for row in rows}


def _update(conn: Connection, name: str, **values: Any) -> None:
    conn.execute(sa.update(checkpoints).where(checkpoints.c.name == name).values(**values))


def advance(
    conn: Connection,
    projection: Projection,
    checkpoint: Checkpoint,
    last_event_at: datetime | None,
    now: datetime,
) -> None:
    """Move to `checkpoint`; a failure counted on an earlier event is behind us now.
    (`last_event_at` None keeps the time of the last event applied.)"""
    values: dict[str, Any] = {"last_event_at": last_event_at} if last_event_at else {}
    _update(
        conn,
        projection.name,
        version=projection.version,
        tx_id=checkpoint[0],
        position=checkpoint[1],
        updated_at=now,
        **values,
        **CLEARED_FAILURE,
    )


def advance_many(
    conn: Connection,
    moves: list[tuple[Projection, Checkpoint, datetime | None]],
    now: datetime,
) -> None:
    """`advance` for several projections in one statement (one round trip: psycopg sends
    an executemany as a pipeline)."""
    if not moves:
        return
    statement = (
        sa.update(checkpoints)
        .where(checkpoints.c.name == sa.bindparam("b_name"))
        .values(
            version=sa.bindparam("b_version"),
            tx_id=sa.bindparam("b_tx_id"),
            position=sa.bindparam("b_position"),
            updated_at=now,
            last_event_at=sa.func.coalesce(
                sa.bindparam("b_last_event_at", type_=checkpoints.c.last_event_at.type),
                checkpoints.c.last_event_at,
            ),
            **CLEARED_FAILURE,
        )
    )
    conn.execute(
        statement,
        [
            {
                "b_name": projection.name,
                "b_version": projection.version,
                "b_tx_id": checkpoint[0],
                "b_position": checkpoint[1],
                "b_last_event_at": last_event_at,
            }
            for projection, checkpoint, last_event_at in moves
        ],
    )


def record_failure(
    conn: Connection,
    row: CheckpointRow,
    record: RecordedEvent,
    error: BaseException,
    max_failures: int,
    now: datetime,
) -> int:
    """Count a failure on `record`, parking it at `max_failures`; returns the count."""
    again = row.failed_checkpoint == record.checkpoint
    failures = row.failures + 1 if again else 1
    _update(
        conn,
        row.name,
        failed_tx_id=record.tx_id,
        failed_position=record.position,
        failed_event_type=record.event_type,
        failures=failures,
        last_error=describe(error),
        parked_at=now if failures >= max_failures else None,
    )
    return failures


def unpark(conn: Connection, name: str) -> None:
    """Let the projection try its failed event again, with a fresh count."""
    _update(conn, name, failures=0, parked_at=None)


def skip(conn: Connection, row: CheckpointRow, now: datetime) -> None:
    """Pass over the failed event for good, keeping a record of it."""
    failed = row.failed_checkpoint
    if failed is None:
        raise LookupError(f"{row.name} has no failed event to skip.")
    conn.execute(
        sa.insert(skipped_events).values(
            name=row.name,
            tx_id=failed[0],
            position=failed[1],
            event_type=row.failed_event_type,
            error=row.last_error or "",
            skipped_at=now,
        )
    )
    _update(conn, row.name, tx_id=failed[0], position=failed[1], updated_at=now, **CLEARED_FAILURE)


def skipped(conn: Connection, name: str) -> set[Checkpoint]:
    rows = conn.execute(
        sa.select(skipped_events.c.tx_id, skipped_events.c.position).where(
            skipped_events.c.name == name
        )
    )
    return {(row.tx_id, row.position) for row in rows}


def restart_from(
    conn: Connection,
    projection: Projection,
    checkpoint: Checkpoint,
    last_event_at: datetime | None,
    now: datetime,
) -> None:
    """After a rebuild: the rebuilt tables' position and version, and no failure. Skipped
    events stay skipped (the rebuild passed over them too)."""
    _update(
        conn,
        projection.name,
        version=projection.version,
        tx_id=checkpoint[0],
        position=checkpoint[1],
        last_event_at=last_event_at,
        updated_at=now,
        **CLEARED_FAILURE,
    )
