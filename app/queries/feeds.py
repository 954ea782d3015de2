"""What a doctor's calendar feed shows: their appointments in a window around now, read
from the appointments read model (never the event store), with the doctor's name."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.projections import tables as t

from .appointments import AppointmentRow


@dataclass(frozen=True)
class DoctorFeed:
    doctor_name: str
    appointments: list[AppointmentRow]


def doctor_feed(
    engine: Engine, doctor_id: UUID, *, since: datetime, until: datetime
) -> DoctorFeed | None:
    """The doctor's appointments starting in [since, until), every status (a cancelled one
    tells subscribed calendars to drop it), in one query; None for an unknown doctor."""
    d, a = t.doctors, t.appointments
    joined = d.outerjoin(
        a,
        sa.and_(a.c.doctor_id == d.c.doctor_id, a.c.starts_at >= since, a.c.starts_at < until),
    )
    query = (
        sa.select(d.c.full_name.label("feed_doctor_name"), *a.c)
        .select_from(joined)
        .where(d.c.doctor_id == doctor_id)
        .order_by(a.c.starts_at, a.c.appointment_id)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
    if not rows:
        return None
    found = [
        AppointmentRow.from_row({k: v for k, v in row.items() if k != "feed_doctor_name"})
        for row in rows
        if row["appointment_id"] is not None
    ]
    return DoctorFeed(rows[0]["feed_doctor_name"], found)
