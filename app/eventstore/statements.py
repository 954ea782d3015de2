"""SQL statements of the write side, built once per store.

Building a SQLAlchemy statement costs more than running it on a local server, so the hot
path reuses these prebuilt ones with bound parameters.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from .tables import events, processed_commands, reservations

COLUMNS = (
    events.c.position,
    events.c.tx_id,
    events.c.stream_id,
    events.c.stream_type,
    events.c.version,
    events.c.event_type,
    events.c.schema_version,
    events.c.data,
    events.c.metadata,
    events.c.recorded_at,
)
# The oldest transaction still running anywhere on the server: rows of transactions below
# it have all committed (or rolled back), so nothing below it can still appear.
VISIBLE_HORIZON: sa.ColumnClause[int] = sa.literal_column(
    "pg_snapshot_xmin(pg_current_snapshot())::text::bigint"
)
CURRENT_TX: sa.ColumnClause[int] = sa.literal_column("pg_current_xact_id()::text::bigint")


class Statements:
    """Every statement the store runs, for one SQL dialect."""

    def __init__(self, postgres: bool) -> None:
        self.insert_events = (
            sa.insert(events)
            .values(tx_id=CURRENT_TX if postgres else sa.literal(0, sa.BigInteger))
            .returning(events.c.position, sort_by_parameter_order=True)
        )
        self.load = (
            sa.select(*COLUMNS)
            .where(events.c.stream_id.in_(sa.bindparam("stream_ids", expanding=True)))
            .order_by(events.c.stream_id, events.c.version)
        )
        self.version = sa.select(sa.func.coalesce(sa.func.max(events.c.version), 0)).where(
            events.c.stream_id == sa.bindparam("stream_id")
        )
        after = sa.tuple_(events.c.tx_id, events.c.position) > sa.tuple_(
            sa.bindparam("after_tx"), sa.bindparam("after_position")
        )
        read = sa.select(*COLUMNS).where(after)
        visible = sa.select(events.c.tx_id, events.c.position)
        if postgres:
            read = read.where(events.c.tx_id < VISIBLE_HORIZON)
            visible = visible.where(events.c.tx_id < VISIBLE_HORIZON)
        in_order = (events.c.tx_id, events.c.position)
        self.read_committed = read.order_by(*in_order).limit(sa.bindparam("limit"))
        # For projectors: payloads as text, parsed only for the event types wanted.
        as_text = [
            sa.cast(c, sa.Text).label(c.name) if c.name in ("data", "metadata") else c
            for c in COLUMNS
        ]
        page = sa.select(*as_text).where(after)
        if postgres:
            page = page.where(events.c.tx_id < VISIBLE_HORIZON)
        # No filter on the event type here: with one, PostgreSQL's planner leaves the
        # ordered index scan that stops at `limit` rows for a scan and sort of every row
        # after the checkpoint (7 ms a page became 580 ms on a million events). The reader
        # parses only the types it wants.
        self.read_page = page.order_by(*in_order).limit(sa.bindparam("limit"))
        # The last event a reader may see now: how far a filtered read has looked.
        self.visible_head = visible.order_by(events.c.tx_id.desc(), events.c.position.desc()).limit(
            1
        )
        # PostgreSQL: the page and the head in one statement, so one snapshot (the
        # horizon function is stable within a statement) without a transaction around
        # two: a row per event, each with the head beside it, or one row of the head alone.
        self.read_page_and_head = self._with_head(self.read_page)
        self.any_after = sa.select(events.c.position).where(after).limit(1)
        self.first_after = sa.select(events.c.recorded_at).where(after).order_by(*in_order).limit(1)
        self.backlog = sa.select(sa.func.count(), sa.func.min(events.c.recorded_at)).where(after)
        self.tail = (
            sa.select(*COLUMNS).order_by(events.c.position.desc()).limit(sa.bindparam("limit"))
        )
        self.count = sa.select(sa.func.count()).select_from(events)

        self.overlap = (
            sa.select(reservations.c.appointment_id)
            .where(
                reservations.c.doctor_id == sa.bindparam("doctor_id"),
                reservations.c.starts_at < sa.bindparam("ends_at"),
                reservations.c.ends_at > sa.bindparam("starts_at"),
                reservations.c.appointment_id != sa.bindparam("appointment_id"),
            )
            .limit(1)
        )
        self.insert_reservation = sa.insert(reservations)
        by_appointment = reservations.c.appointment_id == sa.bindparam("held_by")
        self.move_reservation = (
            sa.update(reservations)
            .where(by_appointment)
            .values(
                doctor_id=sa.bindparam("new_doctor_id"),
                starts_at=sa.bindparam("new_starts_at"),
                ends_at=sa.bindparam("new_ends_at"),
            )
        )
        self.release = sa.delete(reservations).where(by_appointment)

        self.find_command = sa.select(processed_commands).where(
            processed_commands.c.command_id == sa.bindparam("command_id")
        )
        self.record_command = sa.insert(processed_commands)
        self.processed = sa.select(processed_commands.c.command_id).where(
            processed_commands.c.command_id.in_(sa.bindparam("command_ids", expanding=True))
        )

    def _with_head(self, page: sa.Select[Any]) -> sa.Select[Any]:
        head = self.visible_head.subquery("head")
        found = page.subquery("page")
        return (
            sa.select(*found.c, head.c.tx_id.label("head_tx"), head.c.position.label("head_at"))
            .select_from(
                sa.select(sa.literal(1).label("one"))
                .subquery("one")
                .outerjoin(head, sa.true())
                .outerjoin(found, sa.true())
            )
            .order_by(found.c.tx_id, found.c.position)
        )
