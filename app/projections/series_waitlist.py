"""Series and the waitlist, as the appointments projection keeps them.

A series' visits are appointment rows (their `series_id` and `occurrence` come with the
booking); `rm_series` keeps the plan, for the series page. Waitlist entries are kept in the
order they joined: the position of their event in the store, which two desks adding
patients at the same moment cannot tie.
"""

from __future__ import annotations

from app.domain.events import SeriesCancelled, SeriesPlanned, WaitlistJoined, WaitlistLeft
from app.eventstore import RecordedEvent

from . import tables as t
from .projection import Projection, stream_row
from .view import View


def register(projection: Projection) -> None:
    """Add the series and waitlist handlers to `projection` (the appointments one)."""
    projection.on(SeriesPlanned)(on_series_planned)
    projection.on(SeriesCancelled, loads=stream_row(t.series))(on_series_cancelled)
    projection.on(WaitlistJoined, loads=stream_row(t.waitlist))(on_waitlist_joined)
    projection.on(WaitlistLeft, loads=stream_row(t.waitlist))(on_waitlist_left)


def on_series_planned(view: View, record: RecordedEvent) -> None:
    event = record.event
    assert isinstance(event, SeriesPlanned)
    view.put(
        t.series,
        {
            "series_id": record.stream_id,
            "patient_id": event.patient_id,
            "doctor_id": event.doctor_id,
            "title": event.title,
            "every_weeks": event.every_weeks,
            "monthly": event.monthly,
            "visits": list(event.visits),
            "cancelled_from": None,
            "planned_at": record.recorded_at,
            "planned_by": record.actor[:120],
            "version": record.version,
        },
    )


def on_series_cancelled(view: View, record: RecordedEvent) -> None:
    event = record.event
    assert isinstance(event, SeriesCancelled)
    row = view.require(t.series, record.stream_id)
    earlier = row["cancelled_from"] or event.from_occurrence
    view.update(
        t.series,
        record.stream_id,
        cancelled_from=min(earlier, event.from_occurrence),
        version=record.version,
    )


def on_waitlist_joined(view: View, record: RecordedEvent) -> None:
    event = record.event
    assert isinstance(event, WaitlistJoined)
    view.put(
        t.waitlist,
        {
            "waitlist_id": record.stream_id,
            "patient_id": event.patient_id,
            "doctor_id": event.doctor_id,
            "specialty": event.specialty,
            "from_day": event.from_day,
            "until_day": event.until_day,
            "part_of_day": event.part_of_day,
            "title": event.title,
            "note": event.note,
            "joined_at": record.recorded_at,
            "joined_by": record.actor[:120],
            "joined_position": record.position,
            "waiting": True,
            "left_reason": None,
            "appointment_id": None,
            "version": record.version,
        },
    )


def on_waitlist_left(view: View, record: RecordedEvent) -> None:
    event = record.event
    assert isinstance(event, WaitlistLeft)
    view.update(
        t.waitlist,
        record.stream_id,
        waiting=False,
        left_reason=event.reason,
        appointment_id=event.appointment_id,
        version=record.version,
    )
