"""The booking form through the test client, as a browser without JavaScript (and htmx)
sends it: Enter books, the duration follows the doctor, a clash says what is in the way."""

from __future__ import annotations

import re
import uuid

import pytest

from app.commands import RegisterDoctor, SetWorkingHours

from ..clinic import WEEKDAYS
from .desk import TODAY, Desk
from .webclient import page_text


@pytest.fixture
def cardiologist(desk: Desk) -> str:
    """A doctor whose slots last 30 minutes (the clinic's own doctor has 15)."""
    bus = desk.services.bus
    doctor = bus.handle(
        RegisterDoctor(full_name="Dr Louis Bernard", specialty="Cardiology", slot_minutes=30)
    ).stream_id
    bus.handle(SetWorkingHours(doctor_id=doctor, hours=WEEKDAYS, slot_minutes=30))
    return str(doctor)


def duration(html: str) -> str:
    found = re.search(r'<input id="f-duration_minutes" name="duration_minutes"[^>]*>', html)
    assert found, "no duration field"
    return re.search(r'value="([^"]*)"', found.group(0)).group(1)


def form_of(html: str) -> str:
    return re.search(r'<form id="booking".*?</form>', html, re.S).group(0)


# -- Enter books --


def test_the_first_submit_button_books_so_enter_in_any_field_books(desk):
    form = form_of(page_text(desk.staff.get("/appointments/new")))
    # Outside <noscript> (what a browser with JavaScript on sees), the buttons in tree order.
    scripted = re.sub(r"<noscript>.*?</noscript>", "", form, flags=re.S)
    buttons = re.findall(r"<button[^>]*>[^<]*</button>", scripted)
    first = buttons[0]
    assert 'type="submit"' in first and "formaction" not in first and "Book appointment" in first
    assert "formnovalidate" in first  # Enter gets the form's own messages
    # Without JavaScript, the no-JS steps are there, but after the default button.
    assert form.index("data-enter-books") < form.index(">Search</button>")
    assert not re.search(r">(Search|Show free times)</button>", scripted)


def test_enter_with_fields_missing_shows_the_form_errors_and_writes_nothing(desk):
    before = desk.events()
    # What Enter in the reason field sends: every field as typed, no button's name.
    response = desk.staff.post(
        "/appointments",
        {"q": "", "doctor_id": str(desk.clinic.doctor_id), "day": TODAY, "title": "Check-up",
         "duration_minutes": "15", "duration_for": str(desk.clinic.doctor_id),
         "command_id": str(uuid.uuid4())},
    )  # fmt: skip
    assert response.status_code == 422
    page = page_text(response)
    assert "Please correct the marked fields." in page
    assert 'id="patient-error"' in page and 'id="slot-list-error"' in page
    assert desk.events() == before


def test_enter_with_everything_filled_books(desk):
    response = desk.book(f"{TODAY}T09:30")
    assert response.status_code == 303
    assert "/appointments/" in response.headers["Location"]


# -- the duration follows the doctor --


def test_a_preselected_doctor_sets_the_duration_to_their_slot_length(desk, cardiologist):
    page = page_text(desk.staff.get(f"/appointments/new?doctor_id={cardiologist}&day={TODAY}"))
    assert duration(page) == "30"


def test_no_doctor_yet_leaves_the_duration_to_fill(desk):
    assert duration(page_text(desk.staff.get("/appointments/new"))) == ""


def test_choosing_another_doctor_with_htmx_brings_their_slot_length(desk, cardiologist):
    first = str(desk.clinic.doctor_id)
    response = desk.staff.htmx_get(
        f"/appointments/new/slots?doctor_id={cardiologist}&day={TODAY}"
        f"&duration_minutes=15&duration_for={first}",
        "slot-list",
    )
    html = page_text(response)
    assert re.search(r'<div id="duration-field" hx-swap-oob="true">', html)
    assert duration(html) == "30"
    assert f'name="duration_for" value="{cardiologist}"' in html


def test_changing_only_the_day_keeps_a_typed_duration(desk, cardiologist):
    response = desk.staff.htmx_get(
        f"/appointments/new/slots?doctor_id={cardiologist}&day=2027-01-12"
        f"&duration_minutes=45&duration_for={cardiologist}",
        "slot-list",
    )
    assert duration(page_text(response)) == "45"


def test_show_free_times_without_javascript_brings_the_new_doctors_slot_length(desk, cardiologist):
    # The form was shown for the 15-minute doctor; the user picked the cardiologist.
    response = desk.staff.post(
        "/appointments/new",
        {"doctor_id": cardiologist, "day": TODAY, "duration_minutes": "15",
         "duration_for": str(desk.clinic.doctor_id), "title": "Kept"},
    )  # fmt: skip
    page = page_text(response)
    assert duration(page) == "30"
    assert 'value="Kept"' in page
    again = desk.staff.post(
        "/appointments/new",
        {"doctor_id": cardiologist, "day": "2027-01-12", "duration_minutes": "45",
         "duration_for": cardiologist},
    )  # fmt: skip
    assert duration(page_text(again)) == "45"  # same doctor: what was typed stays


def test_a_refused_booking_keeps_the_duration_sent(desk, cardiologist):
    response = desk.book(
        f"{TODAY}T09:00", doctor_id=cardiologist, duration_minutes="45", title="",
        duration_for=str(desk.clinic.doctor_id),
    )  # fmt: skip
    assert response.status_code == 422
    assert duration(page_text(response)) == "45"


# -- a clash says what is in the way --


def test_a_duration_running_into_the_next_appointment_names_it_and_what_fits(desk):
    desk.clinic.book(f"{TODAY} 10:30", 30, patient=1)
    before = desk.events()
    response = desk.book(f"{TODAY}T10:15", duration_minutes="30")
    assert response.status_code == 409
    assert (
        "A 30-minute appointment from 10:15 would run into Patient 1&#39;s appointment at "
        "10:30; at most 15 minutes are free from 10:15."
    ) in page_text(response)
    assert desk.events() == before


def test_a_start_inside_another_appointment_says_whose_and_until_when(desk):
    desk.clinic.book(f"{TODAY} 10:00", 30, patient=1)
    response = desk.book(f"{TODAY}T10:15")
    assert response.status_code == 409
    assert (
        "That time is no longer free: Dr Ada Martin already has an appointment with "
        "Patient 1 from 10:00 to 10:30."
    ) in page_text(response)
