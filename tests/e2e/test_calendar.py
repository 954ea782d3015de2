"""The calendar in Chromium: book from a free cell, open a block, see another desk's change
arrive, read the week's capacity, print the day sheet; without JavaScript too."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import BrowserContext, Page, expect

from app.commands import ConfirmAppointment

from .accessibility import check_accessibility
from .clinic import Clinic, search_for, upcoming
from .test_layout import pdf_pages


def grid_of(clinic: Clinic, day: str, doctor: int = 0) -> str:
    return f"/calendar?day={day}&doctor_id={clinic.doctors[doctor].id}"


def test_a_free_cell_books_that_time_and_a_block_opens_its_appointment(
    axe_page: Page, clinic: Clinic
) -> None:
    page = axe_page
    day = upcoming("10:00").date().isoformat()
    page.goto(grid_of(clinic, day))
    doctor = clinic.doctors[0]
    cell = page.locator(f'a[data-free-start="{day}T10:00"][data-doctor-id="{doctor.id}"]')
    cell.click()
    # Loaded, not only parsed: typed before htmx starts, the patient search never runs.
    page.wait_for_url(re.compile(r"/appointments/new\?"), wait_until="load")
    # The booking form, with the doctor, the day, the time and the slot length chosen.
    expect(page.get_by_label("Doctor")).to_have_value(str(doctor.id))
    expect(page.locator(f'#slot-list input[value="{day}T10:00"]')).to_be_checked()
    page.get_by_label("Find a patient by name or phone").fill(search_for(clinic.patients[0]))
    page.get_by_label(re.compile(clinic.patients[0].name)).check()
    page.get_by_label("Reason for the visit").fill("From the grid")
    page.get_by_role("button", name="Book appointment").click()
    root = page.locator("article#appointment")
    expect(root).to_have_attribute("data-status", "confirmed")  # the form's default
    booked = root.get_attribute("data-appointment-id")

    clinic.wait_for_read_models()
    page.goto(grid_of(clinic, day))
    block = page.locator(f'#calendar a[data-appointment-id="{booked}"]')
    expect(block).to_have_attribute("data-status", "confirmed")
    expect(block).to_contain_text("Confirmed")  # the status in words, not in colour alone
    expect(block).to_contain_text("From the grid")
    expect(
        page.locator(f'[data-free-start="{day}T10:00"][data-doctor-id="{doctor.id}"]')
    ).to_have_count(0)
    check_accessibility(page)
    block.click()
    expect(page.locator("article#appointment")).to_have_attribute("data-appointment-id", booked)


def test_the_grid_shows_another_desk_s_confirmation_in_place(page: Page, clinic: Clinic) -> None:
    starts = upcoming("11:00")
    booked = clinic.book(starts, minutes=15)
    clinic.wait_for_read_models()
    page.goto(grid_of(clinic, starts.date().isoformat()))
    block = page.locator(f'#calendar a[data-appointment-id="{booked}"]')
    expect(block).to_have_attribute("data-status", "pending")
    page.evaluate("window.__same_page = true")
    clinic.bus.handle(ConfirmAppointment(appointment_id=booked))  # another desk's action
    expect(block).to_have_attribute("data-status", "confirmed", timeout=25_000)
    assert page.evaluate("window.__same_page === true"), "the page was reloaded, not swapped"


def test_week_capacity_counts_the_bookings_and_leads_into_the_day(
    page: Page, clinic: Clinic
) -> None:
    starts = upcoming("09:00", days=2)
    clinic.book(starts, minutes=30, doctor=1)
    clinic.wait_for_read_models()
    day = starts.date().isoformat()
    page.goto(f"/calendar/week?start={day}&doctor_id={clinic.doctors[1].id}")
    cell = page.locator(f'td[data-doctor-id="{clinic.doctors[1].id}"][data-day="{day}"]')
    expect(cell).to_have_attribute("data-booked", "1")
    free = int(cell.get_attribute("data-free") or "-1")
    page.goto(grid_of(clinic, day, doctor=1))
    offered = page.locator(f'#calendar [data-free-start][data-doctor-id="{clinic.doctors[1].id}"]')
    expect(offered).to_have_count(free)
    page.goto(f"/calendar/week?start={day}&doctor_id={clinic.doctors[1].id}")
    cell.get_by_role("link").click()
    expect(page).to_have_url(re.compile(rf"/calendar\?day={day}&doctor_id={clinic.doctors[1].id}"))


def test_the_day_sheet_prints_one_doctor_per_page_without_buttons(
    page: Page, clinic: Clinic
) -> None:
    starts = upcoming("08:00", days=3)
    for doctor in (0, 1):
        clinic.book(starts, minutes=15, doctor=doctor, patient=doctor)
    clinic.wait_for_read_models()
    day = starts.date().isoformat()
    page.goto(f"/calendar?day={day}&print=1")
    sheet = page.locator(f'.sheet-page[data-doctor-id="{clinic.doctors[0].id}"]')
    expect(sheet).to_contain_text("06 12 34 56 78")
    page.emulate_media(media="print")
    expect(page.locator("header.site-header")).to_be_hidden()
    expect(
        page.locator("main button:visible, main a.button:visible, main a:visible")
    ).to_have_count(0)
    sheets = page.locator(".sheet-page").count()
    assert pdf_pages(page.pdf(format="A4")) == sheets >= 1


def test_without_javascript_the_grid_navigates_and_books_from_a_cell(
    no_js_page: Page, clinic: Clinic
) -> None:
    page = no_js_page
    day = upcoming("10:00").date().isoformat()
    page.goto(grid_of(clinic, day))
    page.get_by_role("link", name=re.compile("Next day")).click()
    expect(page.locator("#calendar")).not_to_have_attribute("data-day", day)
    page.go_back()
    page.locator(f'a[data-free-start="{day}T14:00"]').click()
    expect(page).to_have_url(re.compile(r"/appointments/new\?"))
    expect(page.locator(f'#slot-list input[value="{day}T14:00"]')).to_be_checked()


def test_nothing_runs_off_the_page_at_the_desk_s_widths(
    new_context: Callable[..., BrowserContext], clinic: Clinic
) -> None:
    page = new_context().new_page()
    day = upcoming("10:00").date().isoformat()
    clinic.book(upcoming("10:00"), minutes=30)
    clinic.wait_for_read_models()
    for width in (1024, 1366, 1920, 820, 390):
        page.set_viewport_size({"width": width, "height": 900})
        for path in (f"/calendar?day={day}", f"/calendar/week?start={day}"):
            page.goto(path)
            overflow = page.evaluate("document.documentElement.scrollWidth - innerWidth")
            assert overflow <= 0, f"{path} runs {overflow} px off a {width} px screen"
            for action in page.locator("main .button, main button").all():
                expect(action).to_be_visible()
