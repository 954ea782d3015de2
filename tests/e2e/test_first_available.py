"""First available in Chromium: a doctor booked solid for a week, the search (Enter in the
form) finds the next week's first time, and its link books exactly that time and length."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import Page, expect

from app.commands import RegisterDoctor, SetWorkingHours

from .clinic import Clinic, Person, upcoming

EARLY_HOUR = {d: [["09:00", "10:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def test_a_week_booked_solid_gives_the_next_weeks_first_time(page: Page, clinic: Clinic) -> None:
    bus = clinic.bus
    name = f"Dr Chloé Petit {clinic.tag}"
    doctor_id = bus.handle(
        RegisterDoctor(full_name=name, specialty=f"Dermatology {clinic.tag}", slot_minutes=30)
    ).stream_id
    bus.handle(SetWorkingHours(doctor_id=doctor_id, hours=EARLY_HOUR, slot_minutes=30))
    clinic.doctors.append(Person(doctor_id, name))
    for days in range(1, 8):
        for hhmm in ("09:00", "09:30"):
            clinic.book(upcoming(hhmm, days=days), 30, doctor=2)
    clinic.wait_for_read_models()
    first = upcoming("09:00", days=8)

    page.goto("/calendar/first-available")
    page.get_by_label("Doctor").select_option(str(doctor_id))
    page.get_by_label("From").fill(upcoming("09:00").date().isoformat())
    page.get_by_label("Duration (minutes)").press("Enter")
    results = page.locator("#first-free-results li a")
    expect(results.first).to_contain_text(f"at 09:00 \N{EN DASH} {name} (30 min)")
    expect(results.first).to_contain_text(first.strftime("%A"))

    results.first.click()
    expect(page.get_by_role("heading", name="Book an appointment")).to_be_visible()
    chosen = page.locator(f'input[name="starts_at"][value="{first:%Y-%m-%dT%H:%M}"]')
    expect(chosen).to_be_checked()
    expect(page.locator("#f-duration_minutes")).to_have_value("30")
    assert first - timedelta(days=7) > upcoming("00:00")  # the booked week came first
