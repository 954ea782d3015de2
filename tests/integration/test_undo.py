"""Undo at the desk, on PostgreSQL through the web: Undo is offered beside the action just
done, takes it back by a compensating event (the history shows both), only within
UNDO_MINUTES for reception (always for admins), and a cancellation whose time was booked
meanwhile is not restored: the refusal says when the doctor is next free."""

from __future__ import annotations

import re
import uuid

import pytest
from flask import Flask

from app.commands import (
    CancelAppointment,
    CheckInAppointment,
    CreateAppointment,
    UndoAppointmentChange,
)
from app.domain.errors import ForbiddenError
from app.domain.staff import Principal, Role

from ..clinic import local
from ..conftest import Clock
from .desk import TODAY, Desk
from .projecting import catch_up
from .webclient import Staff, page_text


@pytest.fixture
def reception(app: Flask, desk: Desk) -> Staff:
    return Staff(app, "reception")


def book(desk: Desk, starts: str = "2027-01-11 09:00", patient: int = 0):
    return desk.services.bus.handle(
        CreateAppointment(
            patient_id=desk.clinic.patient_ids[patient],
            doctor_id=desk.clinic.doctor_id,
            starts_at=local(starts),
            duration_minutes=30,
            title="Check-up",
            confirmed=True,
        )
    ).stream_id


def undo(staff: Staff, appointment, version: int, undoing: str, **extra):
    return staff.post(
        f"/appointments/{appointment}/undo",
        {"expected_version": str(version), "undoing": undoing,
         "command_id": str(uuid.uuid4()), **extra},
    )  # fmt: skip


def test_undo_is_offered_beside_a_check_in_just_done_and_takes_it_back(desk, reception):
    appointment = book(desk)
    catch_up(desk.services.projector)
    done = reception.post(
        f"/appointments/{appointment}/check-in",
        {"expected_version": "2", "context": "list", "command_id": str(uuid.uuid4())},
        htmx="list",
    )
    assert done.status_code == 200
    row = page_text(done)
    assert "Patient checked in." in row
    assert re.search(r'data-action="undo".*name="expected_version" value="3"', row, re.S)
    assert "Undo check-in" in row

    undone = undo(reception, appointment, 3, "AppointmentCheckedIn", context="list")
    assert undone.status_code == 303
    catch_up(desk.services.projector)
    page = page_text(reception.get(f"/appointments/{appointment}"))
    assert 'data-status="confirmed"' in page
    # The history tells both: the arrival, then its undo.
    assert "Appointment checked in" in page and "Check-in undone" in page
    events = [r.event_type for r in desk.services.store.load(appointment)]
    assert events[-2:] == ["AppointmentCheckedIn", "AppointmentCheckInUndone"]


def test_past_the_window_reception_is_refused_and_an_admin_may(desk, reception, clock: Clock):
    appointment = book(desk)
    desk.services.bus.handle(CheckInAppointment(appointment_id=appointment))
    catch_up(desk.services.projector)
    assert "Undo check-in" in page_text(reception.get(f"/appointments/{appointment}"))
    clock.advance(minutes=16)
    assert "Undo check-in" not in page_text(reception.get(f"/appointments/{appointment}"))
    before = desk.events()

    late = undo(reception, appointment, 3, "AppointmentCheckedIn")

    assert late.status_code == 409
    assert "It is too late to undo the check-in" in page_text(late)
    assert desk.events() == before
    # An admin still can.
    assert "Undo check-in" in page_text(desk.staff.get(f"/appointments/{appointment}"))
    assert undo(desk.staff, appointment, 3, "AppointmentCheckedIn").status_code == 303
    assert desk.events() == before + 1


def test_an_undo_of_an_undo_and_a_stale_undo_write_nothing(desk):
    appointment = book(desk)
    desk.services.bus.handle(CheckInAppointment(appointment_id=appointment))
    assert undo(desk.staff, appointment, 3, "AppointmentCheckedIn").status_code == 303
    before = desk.events()
    again = undo(desk.staff, appointment, 4, "AppointmentCheckedIn")
    assert again.status_code == 409 and "already been undone" in page_text(again)
    stale = undo(desk.staff, appointment, 3, "AppointmentCheckedIn")
    assert stale.status_code == 409 and "changed by someone else" in page_text(stale)
    assert desk.events() == before


def test_an_undone_cancellation_takes_its_time_back(desk):
    appointment = book(desk, "2027-01-11 10:00")
    desk.services.bus.handle(CancelAppointment(appointment_id=appointment, reason="Called"))
    assert undo(desk.staff, appointment, 3, "AppointmentCancelled").status_code == 303
    catch_up(desk.services.projector)
    page = page_text(desk.staff.get(f"/appointments/{appointment}"))
    assert 'data-status="confirmed"' in page and "Cancelled because" not in page
    # The time is held again: the same 10:00 cannot be booked over it.
    taken = desk.book(f"{TODAY}T10:00")
    assert taken.status_code == 409


def test_a_cancellation_whose_time_was_booked_meanwhile_is_not_undone(desk):
    appointment = book(desk, "2027-01-11 10:00")
    desk.services.bus.handle(CancelAppointment(appointment_id=appointment, reason="Called"))
    book(desk, "2027-01-11 10:00", patient=1)  # someone took the freed time
    catch_up(desk.services.projector)
    before = desk.events()

    refused = undo(desk.staff, appointment, 3, "AppointmentCancelled")

    assert refused.status_code == 409
    said = page_text(refused)
    assert "That time is no longer free" in said and "Patient 1" in said
    # When the doctor is next free for the same 30 minutes (the clock says 08:00).
    assert "The next free time with Dr Ada Martin is Monday 11 January 2027 at 09:00." in said
    assert desk.events() == before


def test_a_doctor_may_undo_their_own_check_in_but_not_a_cancellation(desk):
    doctor = Principal(str(uuid.uuid4()), Role.DOCTOR, desk.clinic.doctor_id)
    bus = desk.services.bus
    arrived = book(desk)
    bus.handle(CheckInAppointment(appointment_id=arrived), doctor)
    bus.handle(UndoAppointmentChange(appointment_id=arrived), doctor)
    cancelled = book(desk, "2027-01-11 11:00", patient=1)
    bus.handle(CancelAppointment(appointment_id=cancelled, reason="Called"))
    before = desk.events()
    with pytest.raises(ForbiddenError):
        bus.handle(UndoAppointmentChange(appointment_id=cancelled), doctor)
    assert desk.events() == before
