"""A doctor's day as it stood at an earlier moment, as its page shows it: the history query
`agenda_as_of` (which folds the streams of every appointment ever on that day), with each
appointment's patient named from the read model."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.eventstore import EventStore
from app.metrics import timed
from app.projections import tables as t

from .history import AgendaAsOf, agenda_as_of


@dataclass(frozen=True)
class PastDay:
    as_of: AgendaAsOf
    patients: dict[UUID, str]  # by appointment id: the patient's name now


@timed("agenda_as_of")
def past_day(
    store: EventStore,
    engine: Engine,
    doctor_id: UUID,
    day: date,
    at: datetime,
    *,
    tz: tzinfo,
) -> PastDay:
    """The doctor's `day` as it stood at `at`, and every change to it since."""
    found = agenda_as_of(store, engine, doctor_id, day, at, tz=tz)
    ids = {a.id for a in found.appointments} | {c.appointment_id for c in found.changes_since}
    return PastDay(found, patient_names(engine, ids))


def patient_names(engine: Engine, appointment_ids: Iterable[UUID]) -> dict[UUID, str]:
    """Each appointment's patient, by name, from the appointments read model."""
    wanted = set(appointment_ids)
    if not wanted:
        return {}
    a = t.appointments
    query = sa.select(a.c.appointment_id, a.c.patient_name).where(a.c.appointment_id.in_(wanted))
    with engine.connect() as conn:
        return {row.appointment_id: row.patient_name for row in conn.execute(query)}
