"""An appointment's timeline from its read model (`rm_appointment_timeline`), as the detail
page shows it: who did what, when, and what it changed."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any
from uuid import UUID

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.eventstore import EventStore
from app.projections import tables as t

from . import history
from .appointments import AppointmentRow
from .history import Change, HistoryEntry, Names
from .rows import row_to

if TYPE_CHECKING:
    from .reads import Reads


def appointment_timeline(engine: Engine, appointment_id: UUID) -> list[HistoryEntry]:
    """The appointment's entries, oldest first, the people in them by id."""
    table = t.timeline
    query = (
        sa.select(
            table.c.version, table.c.recorded_at, table.c.actor, table.c.summary, table.c.changes
        )
        .where(table.c.appointment_id == appointment_id)
        .order_by(table.c.version)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
    return [
        row_to(HistoryEntry, row, changes=lambda found: [Change(*c) for c in found]) for row in rows
    ]


def timeline_beside(
    row: AppointmentRow, reads: Reads, store: EventStore, *, tz: tzinfo
) -> list[HistoryEntry]:
    """The timeline to show with `row`, its people named as `row` names them.

    Each projection goes at its own pace, so the timeline's read model may be behind the
    row on the same page (a change just made, read-your-writes by version): then the
    stream is folded for this once, the store being the truth, so the page never shows a
    version without its entry."""
    known = {row.patient_id: row.patient_name, row.doctor_id: row.doctor_name}
    entries = reads.appointment_timeline(row.appointment_id)
    if not entries or entries[-1].version < row.version:
        entries = history.appointment_history(store, row.appointment_id, tz=tz)
    # A move to another doctor names the one it left, whom the row no longer names.
    others = {
        UUID(value)
        for entry in entries
        for change in entry.changes
        if change.field in history.PARTY_FIELDS
        for value in (change.before, change.after)
        if value and UUID(value) not in known
    }
    if others:
        known |= party_names(reads.engine, others)
    names = history.names_from(known)
    return [named(entry, names) for entry in entries]


def party_names(engine: Engine, ids: set[UUID]) -> dict[UUID, str]:
    """Patients' and doctors' names, as the appointments projection keeps them."""
    query = sa.select(t.parties.c.party_id, t.parties.c.full_name).where(
        t.parties.c.party_id.in_(ids)
    )
    with engine.connect() as conn:
        return {party_id: name for party_id, name in conn.execute(query)}


def named(entry: HistoryEntry, names: Names) -> HistoryEntry:
    changes = [history.named(c.field, c.before, c.after, names) for c in entry.changes]
    return HistoryEntry(entry.version, entry.recorded_at, entry.actor, entry.summary, changes)


def timeline_from_json(raw: bytes) -> list[HistoryEntry]:
    """Entries as cached (orjson's encoding of the dataclasses)."""
    return [_entry(item) for item in orjson.loads(raw)]


def _entry(item: dict[str, Any]) -> HistoryEntry:
    return HistoryEntry(
        item["version"],
        datetime.fromisoformat(item["recorded_at"]),
        item["actor"],
        item["summary"],
        [Change(**change) for change in item["changes"]],
    )
