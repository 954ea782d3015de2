"""The doctor's day as it stood at an earlier moment: the "show as of" form on the doctor's
day, its past-view page, and what it says to input it cannot use."""

from __future__ import annotations

import pytest

from app.commands import RescheduleAppointment

from ..clinic import local
from .projecting import catch_up
from .webclient import page_text

TUESDAY = "2027-01-12"


def as_of(staff, clinic, at, day=TUESDAY):
    return staff.get(f"/doctors/{clinic.doctor_id}/as-of?day={day}&at={at}")


def test_the_doctors_day_offers_a_past_view_of_itself(desk):
    staff, clinic = desk.staff, desk.clinic

    page = page_text(staff.get(f"/doctors/{clinic.doctor_id}?day={TUESDAY}"))

    assert f'action="/doctors/{clinic.doctor_id}/as-of"' in page
    assert "Show this day as it stood at" in page
    assert 'name="at" type="datetime-local"' in page
    assert f'name="day" value="{TUESDAY}"' in page


def test_the_past_view_shows_the_day_as_it_stood_and_every_change_since(desk, clock):
    staff, services, clinic = desk.staff, desk.services, desk.clinic
    kept = clinic.book(f"{TUESDAY} 09:00")
    moved = clinic.book(f"{TUESDAY} 10:00", patient=1)
    clock.advance(hours=1)  # 09:00 on Monday, in the clinic
    clock.advance(minutes=30)
    services.bus.handle(
        RescheduleAppointment(
            appointment_id=moved,
            starts_at=local("2027-01-13 10:00"),
            duration_minutes=30,
            actor="reception-2",
        )
    )
    added = clinic.book(f"{TUESDAY} 11:00", patient=2, actor="reception-3")
    catch_up(services.projector)

    response = as_of(staff, clinic, "2027-01-11T09:00")

    assert response.status_code == 200
    page = page_text(response)
    assert "Past view: Tue 12 Jan 2027 as it stood at Mon 11 Jan 2027, 09:00" in page
    assert "This is not the current agenda" in page
    then, since = page.split('id="since-title"')
    assert f'<tr data-appointment-id="{kept}" data-status="pending">' in then
    assert f'<tr data-appointment-id="{moved}" data-status="pending">' in then
    assert f'data-appointment-id="{added}"' not in then
    assert since.index(f'data-appointment-id="{moved}"') < since.index(
        f'data-appointment-id="{added}"'
    )
    assert "Appointment rescheduled" in since and "reception-2" in since
    assert "Appointment created" in since and "reception-3" in since
    assert "Patient 1" in since and "Patient 2" in since
    now = page_text(as_of(staff, clinic, "2027-01-11T09:30"))
    assert f'data-appointment-id="{added}" data-status="pending"' in now
    assert "Nothing has changed on this day since then." in now


@pytest.mark.parametrize(
    ("at", "message"),
    [
        ("yesterday", "&#39;yesterday&#39; is not a date and time (YYYY-MM-DDTHH:MM)."),
        ("", "Choose a time."),
        ("2027-01-11T12:00", "That moment has not come yet"),
    ],
)
def test_a_moment_it_cannot_show_gets_a_clear_message(desk, at, message):
    staff, clinic = desk.staff, desk.clinic

    response = as_of(staff, clinic, at)

    assert response.status_code == 422
    page = page_text(response)
    assert message in page
    assert 'aria-invalid="true"' in page and "Appointments then" not in page
