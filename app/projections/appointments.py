"""The appointments projection: the list and detail rows (with patient and doctor names),
the day counters of the dashboard, and the index of doctor-days each appointment touched."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta, tzinfo
from typing import Any
from uuid import UUID

from app import phones
from app.domain.appointment import Status
from app.domain.clinic_time import local_day, to_utc
from app.domain.events import (
    APPOINTMENT_EVENTS,
    AppointmentCancelled,
    AppointmentCheckedIn,
    AppointmentCompleted,
    AppointmentConfirmed,
    AppointmentCreated,
    AppointmentMarkedNoShow,
    AppointmentRescheduled,
    PatientDetailsChanged,
    PatientMergedInto,
    PatientRegistered,
    Undone,
)
from app.domain.staff import PATIENT_ACTOR
from app.eventstore import RecordedEvent

from . import availability, series_waitlist
from . import tables as t
from .keys import search_key
from .projection import Projection, stream_row
from .view import Row, Tag, View


def _appointment_tags(row: Row, tz: tzinfo) -> Iterator[Tag]:
    """An appointment row feeds its detail page, its doctor's counters for its day, and its
    doctor's agenda on every day it spans (an agenda shows what overlaps the day)."""
    yield ("appointment", row["appointment_id"])
    yield ("today", row["local_day"], row["doctor_id"])
    # Rows read back from SQLite hold naive UTC times.
    day = local_day(to_utc(row["starts_at"]), tz)
    last = local_day(to_utc(row["ends_at"]) - timedelta(microseconds=1), tz)
    while day <= last:
        yield ("agenda", row["doctor_id"], day)
        day += timedelta(days=1)


def _day_count_tags(row: Row, tz: tzinfo) -> Iterator[Tag]:
    """The clinic's counters for the day (None: no one doctor's)."""
    yield ("today", row["day"], None)


appointments = Projection(
    "appointments",
    # Version 2: the patient's phone in the national form (app/phones.py). Version 3: each
    # doctor's availability, the clinic's days, visit types and the call list. Version 4:
    # series (the visits' series on their rows) and the waitlist. Version 5: the patient's
    # own answer from their page (patient_answer).
    version=5,
    tables=(
        t.appointments,
        t.day_counts,
        t.agenda_touches,
        t.parties,
        t.doctor_availability,
        t.clinic_days,
        t.visit_types,
        t.call_list,
        t.series,
        t.waitlist,
    ),
    taggers={t.appointments: _appointment_tags, t.day_counts: _day_count_tags},
)
availability.register(appointments)
series_waitlist.register(appointments)


@appointments.on(PatientRegistered)
def on_patient_registered(view: View, record: RecordedEvent) -> None:
    event = record.event
    assert isinstance(event, PatientRegistered)
    view.put(
        t.parties,
        {
            "party_id": record.stream_id,
            "full_name": event.full_name,
            "detail": phones.display(event.phone, view.region),
            "merged_into": None,
        },
    )


def _both_records(record: RecordedEvent) -> list[tuple[Any, UUID]]:
    event = record.event
    assert isinstance(event, PatientMergedInto)
    return [(t.parties, record.stream_id), (t.parties, event.kept_id)]


@appointments.on(PatientMergedInto, loads=_both_records)
def on_patient_merged_into(view: View, record: RecordedEvent) -> None:
    """The merged record's appointments are the kept record's, named as it is."""
    event = record.event
    assert isinstance(event, PatientMergedInto)
    view.update(t.parties, record.stream_id, merged_into=event.kept_id)
    kept = view.require(t.parties, event.kept_id)
    view.update_where(
        t.appointments,
        {"patient_id": record.stream_id},
        patient_id=event.kept_id,
        patient_name=kept["full_name"],
        patient_name_key=search_key(kept["full_name"]),
        patient_phone=kept["detail"],
    )
    # Their waits and series are the kept record's too.
    view.update_where(t.waitlist, {"patient_id": record.stream_id}, patient_id=event.kept_id)
    view.update_where(t.series, {"patient_id": record.stream_id}, patient_id=event.kept_id)


@appointments.on(PatientDetailsChanged, loads=stream_row(t.parties))
def on_patient_details_changed(view: View, record: RecordedEvent) -> None:
    event = record.event
    assert isinstance(event, PatientDetailsChanged)
    party = view.require(t.parties, record.stream_id)
    phone = phones.display(event.phone, view.region)
    if (party["full_name"], party["detail"]) == (event.full_name, phone):
        return  # another detail changed: no appointment row needs touching
    view.update(t.parties, record.stream_id, full_name=event.full_name, detail=phone)
    view.update_where(
        t.appointments,
        {"patient_id": record.stream_id},
        patient_name=event.full_name,
        patient_name_key=search_key(event.full_name),
        patient_phone=phone,
    )


def _people(record: RecordedEvent) -> list[tuple[Any, UUID]]:
    event = record.event
    assert isinstance(event, AppointmentCreated)
    return [
        (t.parties, event.patient_id),
        (t.parties, event.doctor_id),
        (t.doctor_availability, event.doctor_id),
        *availability.needs_review(record),
    ]


@appointments.on(AppointmentCreated, loads=_people)
def on_appointment_created(view: View, record: RecordedEvent) -> None:
    event = record.event
    assert isinstance(event, AppointmentCreated)
    patient = view.require(t.parties, event.patient_id)
    while patient["merged_into"] is not None:
        # Booked as the merge committed (the booking refuses a merged record after it); a
        # kept record may itself have been merged since, so follow to the open one.
        patient = view.require(t.parties, patient["merged_into"])
    doctor = view.require(t.parties, event.doctor_id)
    day = local_day(event.starts_at, view.tz)
    row = {
        "appointment_id": record.stream_id,
        "patient_id": patient["party_id"],
        "doctor_id": event.doctor_id,
        "patient_name": patient["full_name"],
        "patient_name_key": search_key(patient["full_name"]),
        "patient_phone": patient["detail"],
        "doctor_name": doctor["full_name"],
        "doctor_specialty": doctor["detail"],
        "title": event.title,
        "status": Status.PENDING.value,
        "starts_at": event.starts_at,
        "ends_at": event.ends_at,
        "local_day": day,
        "booked_at": record.recorded_at,
        "booked_by": _actor(record),
        "changed_at": record.recorded_at,
        "changed_by": _actor(record),
        "version": record.version,
        "cancel_reason": None,
        "reschedules": 0,
        "checked_in_at": None,
        "completed_at": None,
        "visit_type_id": event.visit_type_id,
        "series_id": event.series_id,
        "occurrence": event.occurrence,
        "patient_answer": None,
    }
    view.put(t.appointments, row)
    view.add(t.day_counts, (day, Status.PENDING.value), "count", 1)
    # Refused into an absence; but one booked as the absence committed is listed here.
    availability.review(view, row, at=record.recorded_at)
    view.put(
        t.agenda_touches,
        {"doctor_id": event.doctor_id, "day": day, "appointment_id": record.stream_id},
    )


def _actor(record: RecordedEvent) -> str:
    return record.actor[:120]


def _change(view: View, record: RecordedEvent, status: Status, **values: Any) -> None:
    """Move an appointment to `status`, keeping the day counters in step."""
    row = view.require(t.appointments, record.stream_id)
    old_key = (row["local_day"], row["status"])
    view.update(
        t.appointments,
        record.stream_id,
        status=status.value,
        changed_at=record.recorded_at,
        changed_by=_actor(record),
        version=record.version,
        **values,
    )
    new_key = (row["local_day"], row["status"])
    if new_key != old_key:
        view.add(t.day_counts, old_key, "count", -1)
        view.add(t.day_counts, new_key, "count", 1)
    availability.review(view, row, at=record.recorded_at)


def mine(record: RecordedEvent) -> list[tuple[Any, Any]]:
    """The row, and what judging it for the call list reads."""
    return [(t.appointments, record.stream_id), *availability.needs_review(record)]


@appointments.on(AppointmentConfirmed, loads=mine)
def on_appointment_confirmed(view: View, record: RecordedEvent) -> None:
    _change(view, record, Status.CONFIRMED, patient_answer=_patient_answer(record, "confirmed"))


def _patient_answer(record: RecordedEvent, answer: str) -> str | None:
    """The patient's answer when they gave it themselves (their page's commands)."""
    return answer if record.actor == PATIENT_ACTOR else None


@appointments.on(AppointmentCancelled, loads=mine)
def on_appointment_cancelled(view: View, record: RecordedEvent) -> None:
    event = record.event
    assert isinstance(event, AppointmentCancelled)
    _change(
        view,
        record,
        Status.CANCELLED,
        cancel_reason=event.reason,
        patient_answer=_patient_answer(record, "cancelled"),
    )


def _moved(record: RecordedEvent) -> list[tuple[Any, UUID]]:
    """The row, and the doctor it moves to (their name and specialty go on the row)."""
    event = record.event
    assert isinstance(event, AppointmentRescheduled)
    rows: list[tuple[Any, UUID]] = mine(record)
    if event.doctor_id and event.doctor_id != event.previous_doctor_id:
        rows.append((t.parties, event.doctor_id))
    return rows


@appointments.on(AppointmentRescheduled, loads=_moved)
def on_appointment_rescheduled(view: View, record: RecordedEvent) -> None:
    event = record.event
    assert isinstance(event, AppointmentRescheduled)
    row = view.require(t.appointments, record.stream_id)
    day = local_day(event.starts_at, view.tz)
    doctor: dict[str, Any] = {}
    if event.doctor_id and event.doctor_id != row["doctor_id"]:
        party = view.require(t.parties, event.doctor_id)
        doctor = {
            "doctor_id": event.doctor_id,
            "doctor_name": party["full_name"],
            "doctor_specialty": party["detail"],
        }
    _change(
        view,
        record,
        Status.PENDING if event.awaits_confirmation else Status(row["status"]),
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        local_day=day,
        reschedules=row["reschedules"] + 1,
        # A new time is the patient's to answer again.
        patient_answer=None,
        **doctor,
    )
    view.put(
        t.agenda_touches,
        {
            "doctor_id": doctor.get("doctor_id", row["doctor_id"]),
            "day": day,
            "appointment_id": record.stream_id,
        },
    )


@appointments.on(AppointmentCheckedIn, loads=mine)
def on_appointment_checked_in(view: View, record: RecordedEvent) -> None:
    _change(view, record, Status.CHECKED_IN, checked_in_at=record.recorded_at)


@appointments.on(AppointmentCompleted, loads=mine)
def on_appointment_completed(view: View, record: RecordedEvent) -> None:
    _change(view, record, Status.COMPLETED, completed_at=record.recorded_at)


@appointments.on(AppointmentMarkedNoShow, loads=mine)
def on_appointment_marked_no_show(view: View, record: RecordedEvent) -> None:
    _change(view, record, Status.NO_SHOW)


# What an undo clears on the row, by the status it returns to: the arrival of a visit
# taken back to confirmed, the end of one taken back to checked in, the reason of a
# cancellation taken back.
_UNDONE_FIELDS = {
    Status.CONFIRMED: {"checked_in_at": None},
    Status.CHECKED_IN: {"completed_at": None},
}


def on_undone(view: View, record: RecordedEvent) -> None:
    event = record.event
    assert isinstance(event, Undone)
    status = Status(event.status)
    _change(view, record, status, cancel_reason=None, **_UNDONE_FIELDS.get(status, {}))


for _undo in (cls for cls in APPOINTMENT_EVENTS if issubclass(cls, Undone)):
    appointments.on(_undo, loads=mine)(on_undone)
