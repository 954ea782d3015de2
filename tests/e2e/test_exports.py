"""The exports in Chromium against gunicorn and a worker: a doctor's calendar link made on
their page and read as a phone calendar would, and the appointment list downloaded as CSV."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from icalendar import Calendar
from playwright.sync_api import Page, expect

from .clinic import Clinic, upcoming


def test_a_calendar_link_made_on_the_doctors_page_serves_the_doctors_appointments(
    page: Page, clinic: Clinic
) -> None:
    booked = clinic.book(upcoming("10:00"))
    clinic.wait_for_read_models()
    doctor = clinic.doctors[0]
    page.goto(f"/doctors/{doctor.id}")
    page.get_by_role("button", name="Create subscription link").click()
    expect(page.get_by_text("it is shown only this once")).to_be_visible()
    address = page.get_by_role("textbox", name="Subscription link").input_value()

    # A phone calendar: no session, the secret in the address is the key.
    response = page.context.browser.new_context().request.get(address)  # type: ignore[union-attr]
    assert response.status == 200
    calendar = Calendar.from_ical(response.body())
    assert str(calendar["X-WR-CALNAME"]) == doctor.name
    uids = [str(event["UID"]) for event in calendar.walk("VEVENT")]
    assert f"{booked}@rendezvous" in uids

    page.get_by_role("link", name="Back to the doctor's page").click()
    expect(page.get_by_text("A subscription link exists since")).to_be_visible()
    expect(page.get_by_role("button", name="Reset link")).to_be_visible()


def test_the_appointment_list_downloads_as_csv(page: Page, clinic: Clinic) -> None:
    booked = clinic.book(upcoming("11:00"), doctor=1)
    clinic.wait_for_read_models()
    page.goto(f"/appointments?doctor_id={clinic.doctors[1].id}")
    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    assert download.value.suggested_filename.startswith("appointments-")
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    header, *rows = list(csv.reader(io.StringIO(text)))
    assert header[0] == "Date" and header[-1] == "Appointment id"
    assert [row[-1] for row in rows] == [str(booked)]
    assert rows[0][1] == "11:00" and rows[0][3] == clinic.doctors[1].name
