"""The booking form in Chromium: Enter books (or shows the form's errors), the buttons only
a browser without JavaScript needs are not shown, the duration follows the doctor."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from .accessibility import check_accessibility
from .clinic import Clinic, search_for, upcoming


def choose_patient_doctor_and_time(page: Page, clinic: Clinic, doctor: int, hhmm: str) -> None:
    """What a receptionist does before the reason: find the patient, doctor, day, time."""
    page.get_by_label("Find a patient by name or phone").fill(search_for(clinic.patients[0]))
    page.get_by_label(re.compile(clinic.patients[0].name)).check()
    page.get_by_label("Doctor").select_option(str(clinic.doctors[doctor].id))
    page.get_by_label("Day", exact=True).fill(upcoming(hhmm).date().isoformat())
    page.get_by_label(hhmm).check()


def test_enter_in_the_reason_field_books(page: Page, clinic: Clinic) -> None:
    page.goto("/appointments/new")
    choose_patient_doctor_and_time(page, clinic, doctor=1, hhmm="10:30")
    page.get_by_label("Reason for the visit").fill("Palpitations")
    page.get_by_label("Reason for the visit").press("Enter")
    root = page.locator("article#appointment")
    # Booked with the patient on the phone (the box starts ticked): confirmed in one go.
    expect(root).to_have_attribute("data-status", "confirmed")
    # The 30-minute doctor's slot length, not a 15-minute default.
    expect(root.locator("dl.facts")).to_contain_text("10:30 \N{EN DASH} 11:00")


def test_enter_with_fields_missing_shows_the_form_errors(page: Page, clinic: Clinic) -> None:
    page.goto("/appointments/new")
    page.get_by_label("Reason for the visit").fill("Check-up")
    page.get_by_label("Reason for the visit").press("Enter")
    expect(page.get_by_role("alert").first).to_contain_text("Please correct the marked fields")
    expect(page.locator("#patient-error")).to_be_visible()
    expect(page.get_by_label("Reason for the visit")).to_have_value("Check-up")
    # Enter in the patient search too: the form's messages, and the matches searched for.
    page.get_by_label("Find a patient by name or phone").fill(search_for(clinic.patients[1]))
    page.get_by_label("Find a patient by name or phone").press("Enter")
    expect(page.locator("#patient-error")).to_be_visible()
    expect(page.get_by_label(re.compile(clinic.patients[1].name))).to_be_visible()


def test_with_javascript_on_the_no_javascript_steps_are_not_shown(
    axe_page: Page, clinic: Clinic
) -> None:
    page = axe_page
    page.goto(f"/appointments/new?doctor_id={clinic.doctors[0].id}")
    expect(page.get_by_role("button", name="Book appointment")).to_have_count(1)
    expect(page.get_by_role("button", name="Search")).to_have_count(0)
    expect(page.get_by_role("button", name="Show free times")).to_have_count(0)
    expect(page.locator("[data-no-js-step]")).to_have_count(0)
    check_accessibility(page)


def test_the_duration_follows_the_doctor_chosen(page: Page, clinic: Clinic) -> None:
    page.goto("/appointments/new")
    duration = page.get_by_label("Duration (minutes)")
    page.get_by_label("Doctor").select_option(str(clinic.doctors[1].id))
    expect(duration).to_have_value("30")
    duration.fill("45")
    page.get_by_label("Day", exact=True).fill(upcoming("09:00").date().isoformat())
    expect(page.locator("#slot-list input[name=starts_at]").first).to_be_attached()
    expect(duration).to_have_value("45")  # another day, same doctor: what was typed stays
    page.get_by_label("Doctor").select_option(str(clinic.doctors[0].id))
    expect(duration).to_have_value("15")


def test_the_booking_page_at_desk_and_phone_widths(
    page: Page, clinic: Clinic, tmp_path: Path
) -> None:
    page.goto(f"/appointments/new?doctor_id={clinic.doctors[1].id}")
    choose_patient_doctor_and_time(page, clinic, doctor=1, hhmm="09:00")
    for width, height in ((1366, 768), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(tmp_path / f"booking-{width}.png"), full_page=True)
        book = page.get_by_role("button", name="Book appointment")
        box = book.bounding_box()
        assert box is not None and box["x"] + box["width"] <= width, width
