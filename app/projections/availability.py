"""Availability, as the appointments projection keeps it, and the call list worked out from it.

Every doctor's weekly hours, one-off hours and absences, and the clinic's opening hours and
closures, are copied into rows of the appointments projection; whenever either side changes
(an absence recorded, an appointment booked), the appointments concerned are judged by the
one availability rule (`Schedule.fits`). A pending or confirmed appointment that no longer
fits is on the call list until it is moved, cancelled, checked in, or fits again.

Because the availability and the appointments are read at the same position of the log,
a booking and an absence that committed at the same moment are judged together in the
order the store gave them, whichever it was: the appointment is on the list either way.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from app.domain.appointment import Status
from app.domain.availability import Absence, Schedule, absence_data, clinic_from_data
from app.domain.clinic import CLINIC_ID
from app.domain.clinic_time import day_bounds, to_utc
from app.domain.events import (
    AbsenceCancelled,
    AbsenceChanged,
    AbsenceRecorded,
    ClinicClosed,
    ClinicHoursSet,
    ClinicReopened,
    DayHoursCleared,
    DayHoursSet,
    DoctorRegistered,
    VisitTypeDefined,
    VisitTypeRetired,
    WorkingHoursSet,
)
from app.eventstore import RecordedEvent

from . import tables as t
from .projection import Projection, stream_row
from .view import Row, View

# The statuses in which an appointment still needs its time: it is to happen.
NEEDS_TIME = (Status.PENDING.value, Status.CONFIRMED.value)

_CLINIC_ROW = [(t.clinic_days, CLINIC_ID)]


def schedule(view: View, doctor_id: UUID) -> Schedule:
    """The doctor's schedule as the projection stands, worked out once per change."""
    key = ("schedule", doctor_id)
    found = view.memo.get(key)
    if found is None:
        row = view.require(t.doctor_availability, doctor_id)
        found = view.memo[key] = Schedule.from_data(
            row["full_name"], row["hours"], row["day_hours"], row["absences"], _clinic(view)
        )
    assert isinstance(found, Schedule)
    return found


def _clinic(view: View) -> Any:
    found = view.memo.get("clinic")
    if found is None:
        row = view.get(t.clinic_days, CLINIC_ID) or {"hours": None, "closures": {}}
        found = view.memo["clinic"] = clinic_from_data(row["hours"], row["closures"])
    return found


def _forget(view: View, doctor_id: UUID | None = None) -> None:
    """Drop the memo a change makes stale: one doctor's, or (None) every schedule."""
    if doctor_id is not None:
        view.memo.pop(("schedule", doctor_id), None)
        return
    for key in [
        k for k in view.memo if k == "clinic" or (isinstance(k, tuple) and k[0] == "schedule")
    ]:
        del view.memo[key]


def review(view: View, appointment: Row, *, at: datetime) -> None:
    """Put the appointment on the call list, or take it off, as its doctor's hours say."""
    listed = view.get(t.call_list, appointment["appointment_id"])
    # Rows read back from SQLite hold naive UTC times.
    starts, ends = to_utc(appointment["starts_at"]), to_utc(appointment["ends_at"])
    needs = appointment["status"] in NEEDS_TIME and not schedule(
        view, appointment["doctor_id"]
    ).fits(starts, ends, view.tz)
    if needs:
        view.put(
            t.call_list,
            {
                "appointment_id": appointment["appointment_id"],
                "doctor_id": appointment["doctor_id"],
                "starts_at": starts,
                "listed_at": listed["listed_at"] if listed else at,
            },
        )
    elif listed is not None:
        view.delete(t.call_list, appointment["appointment_id"])


def _review_where(view: View, record: RecordedEvent, where: Any) -> None:
    """Judge again the appointments still to happen that `where` picks, and those already
    on the list that it picks (an absence cancelled takes them off)."""
    rows = view.select(
        t.appointments,
        lambda a: [a.c.status.in_(NEEDS_TIME), a.c.ends_at > record.recorded_at, *where(a)],
    )
    listed = view.select(t.call_list, lambda c: [*where(c, listed=True)])
    wanted = {row["appointment_id"] for row in rows}
    view.prefetch((t.call_list, key) for key in wanted)
    for row in rows:
        review(view, row, at=record.recorded_at)
    for entry in listed:
        if entry["appointment_id"] not in wanted:
            review(
                view, view.require(t.appointments, entry["appointment_id"]), at=record.recorded_at
            )


def _of_doctor(
    doctor_id: UUID, starts: datetime | None = None, ends: datetime | None = None
) -> Any:
    def where(table: sa.Table, listed: bool = False) -> list[Any]:
        found = [table.c.doctor_id == doctor_id]
        if starts is not None and ends is not None and not listed:
            found += [table.c.starts_at < ends, table.c.ends_at > starts]
        elif starts is not None and ends is not None:
            # A listed row knows its start only: anything starting in the day before the
            # span may reach into it (no visit lasts longer).
            found += [table.c.starts_at < ends, table.c.starts_at >= starts - timedelta(days=1)]
        return found

    return where


def _on_days(days: Iterable[date], tz: Any) -> Any:
    spans = [day_bounds(day, tz) for day in days]

    def where(table: sa.Table, listed: bool = False) -> list[Any]:
        return [sa.or_(*(sa.and_(table.c.starts_at >= a, table.c.starts_at < b) for a, b in spans))]

    return where


def _everything(table: sa.Table, listed: bool = False) -> list[Any]:
    return []


def register(projection: Projection) -> None:
    """Add the availability handlers to `projection` (the appointments projection)."""
    mine = stream_row(t.doctor_availability)

    @projection.on(DoctorRegistered)
    def on_doctor_registered(view: View, record: RecordedEvent) -> None:
        event = record.event
        assert isinstance(event, DoctorRegistered)
        view.put(
            t.doctor_availability,
            {
                "doctor_id": record.stream_id,
                "full_name": event.full_name,
                "specialty": event.specialty,
                "hours": {},
                "day_hours": {},
                "absences": [],
                "version": record.version,
            },
        )
        view.put(
            t.parties,
            {
                "party_id": record.stream_id,
                "full_name": event.full_name,
                "detail": event.specialty,
                "merged_into": None,
            },
        )

    @projection.on(WorkingHoursSet, loads=mine)
    def on_working_hours_set(view: View, record: RecordedEvent) -> None:
        event = record.event
        assert isinstance(event, WorkingHoursSet)
        _change_doctor(view, record, hours=event.hours)
        _review_where(view, record, _of_doctor(record.stream_id))

    def _absences(view: View, record: RecordedEvent) -> tuple[list[Any], Any]:
        row = view.require(t.doctor_availability, record.stream_id)
        event = record.event
        assert isinstance(event, AbsenceRecorded | AbsenceChanged | AbsenceCancelled)
        kept = [a for a in row["absences"] if a["absence_id"] != str(event.absence_id)]
        old = next((a for a in row["absences"] if a["absence_id"] == str(event.absence_id)), None)
        return kept, old

    @projection.on(AbsenceRecorded, loads=mine)
    @projection.on(AbsenceChanged, loads=mine)
    def on_absence(view: View, record: RecordedEvent) -> None:
        event = record.event
        assert isinstance(event, AbsenceRecorded | AbsenceChanged)
        kept, old = _absences(view, record)
        absence = Absence(
            event.absence_id, event.starts_at, event.ends_at, event.reason, event.note
        )
        kept.append(absence_data(absence))
        kept.sort(key=lambda a: a["starts_at"])
        _change_doctor(view, record, absences=kept)
        starts, ends = event.starts_at, event.ends_at
        if old is not None:
            starts = min(starts, datetime.fromisoformat(old["starts_at"]))
            ends = max(ends, datetime.fromisoformat(old["ends_at"]))
        _review_where(view, record, _of_doctor(record.stream_id, starts, ends))

    @projection.on(AbsenceCancelled, loads=mine)
    def on_absence_cancelled(view: View, record: RecordedEvent) -> None:
        kept, old = _absences(view, record)
        _change_doctor(view, record, absences=kept)
        if old is not None:
            starts = datetime.fromisoformat(old["starts_at"])
            ends = datetime.fromisoformat(old["ends_at"])
            _review_where(view, record, _of_doctor(record.stream_id, starts, ends))

    @projection.on(DayHoursSet, loads=mine)
    @projection.on(DayHoursCleared, loads=mine)
    def on_day_hours(view: View, record: RecordedEvent) -> None:
        event = record.event
        assert isinstance(event, DayHoursSet | DayHoursCleared)
        row = view.require(t.doctor_availability, record.stream_id)
        days = {d: r for d, r in row["day_hours"].items() if d != event.day.isoformat()}
        if isinstance(event, DayHoursSet):
            days[event.day.isoformat()] = event.hours
        _change_doctor(view, record, day_hours=days)
        starts, ends = day_bounds(event.day, view.tz)
        _review_where(view, record, _of_doctor(record.stream_id, starts, ends))

    @projection.on(ClinicHoursSet, loads=lambda record: _CLINIC_ROW)
    def on_clinic_hours_set(view: View, record: RecordedEvent) -> None:
        event = record.event
        assert isinstance(event, ClinicHoursSet)
        _change_clinic(view, record, hours=event.hours or None)
        _review_where(view, record, _everything)

    @projection.on(ClinicClosed, loads=lambda record: _CLINIC_ROW)
    def on_clinic_closed(view: View, record: RecordedEvent) -> None:
        event = record.event
        assert isinstance(event, ClinicClosed)
        closures = {**_clinic_row(view)["closures"], **event.days}
        _change_clinic(view, record, closures=closures)
        days = [date.fromisoformat(day) for day in event.days]
        if days:
            _review_where(view, record, _on_days(days, view.tz))

    @projection.on(ClinicReopened, loads=lambda record: _CLINIC_ROW)
    def on_clinic_reopened(view: View, record: RecordedEvent) -> None:
        event = record.event
        assert isinstance(event, ClinicReopened)
        closures = dict(_clinic_row(view)["closures"])
        closures.pop(event.day.isoformat(), None)
        _change_clinic(view, record, closures=closures)
        _review_where(view, record, _on_days([event.day], view.tz))

    @projection.on(VisitTypeDefined)
    def on_visit_type_defined(view: View, record: RecordedEvent) -> None:
        event = record.event
        assert isinstance(event, VisitTypeDefined)
        view.put(
            t.visit_types,
            {
                "visit_type_id": event.visit_type_id,
                "label": event.label,
                "minutes": event.minutes,
                "doctor_id": event.doctor_id,
                "specialty": event.specialty,
                "retired": False,
                "defined_at": record.recorded_at,
            },
        )

    def _the_type(record: RecordedEvent) -> list[tuple[sa.Table, UUID]]:
        event = record.event
        assert isinstance(event, VisitTypeRetired)
        return [(t.visit_types, event.visit_type_id)]

    @projection.on(VisitTypeRetired, loads=_the_type)
    def on_visit_type_retired(view: View, record: RecordedEvent) -> None:
        event = record.event
        assert isinstance(event, VisitTypeRetired)
        view.update(t.visit_types, event.visit_type_id, retired=True)


def _change_doctor(view: View, record: RecordedEvent, **values: Any) -> None:
    view.update(t.doctor_availability, record.stream_id, version=record.version, **values)
    _forget(view, record.stream_id)


def _clinic_row(view: View) -> Row:
    row = view.get(t.clinic_days, CLINIC_ID)
    if row is None:
        row = {"clinic_id": CLINIC_ID, "hours": None, "closures": {}, "version": 0}
        view.put(t.clinic_days, row)
    return row


def _change_clinic(view: View, record: RecordedEvent, **values: Any) -> None:
    row = _clinic_row(view)
    view.put(t.clinic_days, {**row, **values, "version": record.version})
    _forget(view)


def needs_review(record: RecordedEvent) -> list[tuple[sa.Table, Any]]:
    """What judging an appointment reads: its call-list entry and the clinic's days (the
    doctor's availability is loaded by the handler's own rows)."""
    return [(t.call_list, record.stream_id), *_CLINIC_ROW]
