"""Reading the reminder sender's ledger for pages (an appointment's reminders, a patient's,
the operations page's counts) and the operator's retry of a parked reminder."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.queries.rows import row_to

from .sender import utc
from .tables import deliveries as d


@dataclass(frozen=True)
class Delivery:
    key: str
    appointment_id: UUID
    kind: str
    starts_at: datetime
    state: str
    channel: str | None
    address: str | None
    attempts: int
    next_at: datetime
    provider_id: str | None
    error: str | None
    updated_at: datetime


def _rows(engine: Engine, query: sa.Select[tuple[object, ...]]) -> list[Delivery]:
    with engine.connect() as conn:
        return [row_to(Delivery, row) for row in conn.execute(query).mappings()]


def for_appointments(engine: Engine, appointment_ids: Iterable[UUID]) -> list[Delivery]:
    """The reminders of these appointments, newest first."""
    ids = list(appointment_ids)
    if not ids:
        return []
    query = sa.select(d).where(d.c.appointment_id.in_(ids)).order_by(d.c.updated_at.desc())
    return _rows(engine, query)


@dataclass(frozen=True)
class Summary:
    counts: dict[str, int]
    parked: list[Delivery]
    failing: list[Delivery]  # due again after a failure


def summary(engine: Engine, *, limit: int = 20) -> Summary:
    with engine.connect() as conn:
        by_state = sa.select(d.c.state, sa.func.count()).group_by(d.c.state)
        counts = {str(state): int(n) for state, n in conn.execute(by_state)}
    parked = _rows(
        engine,
        sa.select(d).where(d.c.state == "parked").order_by(d.c.updated_at.desc()).limit(limit),
    )
    failing = _rows(
        engine,
        sa.select(d).where(d.c.state == "due", d.c.attempts > 0).order_by(d.c.next_at).limit(limit),
    )
    return Summary(counts, parked, failing)


def retry(engine: Engine, key: str, now: datetime) -> bool:
    """Send a parked reminder again at the next pass, with its attempts counted afresh."""
    update = (
        sa.update(d)
        .where(d.c.key == key, d.c.state == "parked")
        .values(state="due", attempts=0, next_at=utc(now), updated_at=utc(now), claimed_by=None)
    )
    with engine.begin() as conn:
        return conn.execute(update).rowcount == 1
