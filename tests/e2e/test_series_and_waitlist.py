"""A course of visits and the waitlist in Chromium, JavaScript on and off, against gunicorn,
PostgreSQL and a real Celery worker (issue 19): a six-week series with one conflict is
booked from one form and one confirmation, taking the time proposed; the rest of a series
is cancelled from one of its visits; a cancellation offers the freed time to the first
patient waiting, who is booked in one click and leaves the waitlist."""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from app.commands import BookSeries, JoinWaitlist
from app.commands.series import book_series
from app.projections import tables as rm

from ..integration.projecting import wait_until
from .clinic import Clinic, search_for, upcoming


def book_a_course_around_a_conflict(page: Page, clinic: Clinic, *, scripted: bool) -> None:
    doctor = clinic.doctors[0]
    first = upcoming("10:00", days=2)
    # The third week's time is taken by another patient.
    clinic.book(first + timedelta(weeks=2), minutes=15, patient=1)
    clinic.wait_for_read_models()
    page.goto("/appointments/new")
    page.wait_for_load_state("load")
    page.get_by_label("Find a patient by name or phone").fill(search_for(clinic.patients[0]))
    if not scripted:
        page.get_by_role("button", name="Search").click()
    page.get_by_label(re.compile(clinic.patients[0].name)).check()
    page.get_by_label("Day", exact=True).fill(first.date().isoformat())
    if scripted:
        with page.expect_response(lambda r: "/slots?" in r.url and str(doctor.id) in r.url):
            page.get_by_label("Doctor").select_option(str(doctor.id))
    else:
        page.get_by_label("Doctor").select_option(str(doctor.id))
        page.get_by_role("button", name="Show free times").click()
    page.get_by_label("10:00").check()
    page.get_by_label("Reason for the visit").fill("Physiotherapy")
    page.get_by_label("Repeat", exact=True).select_option("1")
    page.get_by_label("Number of visits").fill("6")
    # Enter in a field does what the form is for: here, show the series.
    page.get_by_label("Number of visits").press("Enter")

    expect(page.get_by_role("heading", name="Check the series before booking")).to_be_visible()
    rows = page.locator("#series-visits tbody tr")
    expect(rows).to_have_count(6)
    conflict = page.locator('#series-visits tr[data-conflict="taken"]')
    expect(conflict).to_have_count(1)
    expect(conflict).to_have_attribute("data-occurrence", "3")
    expect(conflict).to_contain_text(clinic.patients[1].name)
    proposal = conflict.locator("input[data-proposal]")
    expect(proposal).to_be_checked()
    proposed = proposal.get_attribute("value")
    # On the conflict's own day, the free time nearest 10:00.
    assert proposed is not None, "no proposal"
    assert proposed[:10] == (first + timedelta(weeks=2)).date().isoformat(), proposed
    page.get_by_role("button", name="Book the series (6 visits)").click()

    expect(page.get_by_text("6 of 6 visits booked.")).to_be_visible()
    third = page.locator('#series-visits tr[data-occurrence="3"]')
    expect(third).to_have_attribute("data-appointment-id", re.compile(".+"))
    when = proposed.replace("T", " ")
    day = int(when[8:10])
    expect(third).to_contain_text(f"{day} ")
    expect(third).to_contain_text(when[11:])


def test_a_six_week_course_is_booked_around_its_conflict(page: Page, clinic: Clinic) -> None:
    book_a_course_around_a_conflict(page, clinic, scripted=True)


def test_a_course_is_booked_with_javascript_off(no_js_page: Page, clinic: Clinic) -> None:
    book_a_course_around_a_conflict(no_js_page, clinic, scripted=False)


def cancel_the_rest(page: Page, clinic: Clinic) -> None:
    outcome = book_series(
        clinic.bus,
        BookSeries(
            patient_id=clinic.patients[0].id,
            doctor_id=clinic.doctors[0].id,
            starts_at=upcoming("09:00", days=1),
            duration_minutes=15,
            title="Injections",
            every_weeks=1,
            occurrences=4,
        ),
        None,
    )
    clinic.appointments.extend(v.appointment_id for v in outcome.booked)
    clinic.wait_for_read_models()
    second = next(v.appointment_id for v in outcome.visits if v.occurrence == 2)
    page.goto(f"/appointments/{second}")
    page.wait_for_load_state("load")
    expect(page.locator("[data-series]")).to_contain_text("Visit 2 of 4")
    page.get_by_role("link", name="Cancel this and later visits").click()
    expect(page.get_by_label("Cancel from visit")).to_have_value("2")
    page.get_by_label("Reason for cancelling").fill("Treatment ended early")
    page.get_by_role("button", name="Cancel this visit and the later ones").click()
    expect(page.get_by_text("Visits from number 2 on are cancelled.")).to_be_visible()
    rows = page.locator("#series-visits tbody tr")
    expect(rows.nth(0)).to_contain_text("Pending")
    for n in (1, 2, 3):
        expect(rows.nth(n)).to_contain_text("Cancelled")


def test_the_rest_of_a_series_is_cancelled_from_one_of_its_visits(
    page: Page, clinic: Clinic
) -> None:
    cancel_the_rest(page, clinic)


def test_the_rest_of_a_series_is_cancelled_with_javascript_off(
    no_js_page: Page, clinic: Clinic
) -> None:
    cancel_the_rest(no_js_page, clinic)


def offer_a_freed_time(page: Page, clinic: Clinic) -> None:
    doctor = clinic.doctors[0]
    booked = clinic.book(upcoming("15:00", days=3), minutes=30)
    waiting = clinic.bus.handle(
        JoinWaitlist(
            patient_id=clinic.patients[1].id,
            doctor_id=doctor.id,
            until_day=(upcoming("00:00", days=20)).date(),
            title="Earlier follow-up",
        )
    ).stream_id
    clinic.wait_for_read_models()

    def joined() -> bool:
        with clinic.read_engine.connect() as conn:
            query = sa.select(rm.waitlist.c.waiting).where(rm.waitlist.c.waitlist_id == waiting)
            return conn.execute(query).scalar() is True

    # The worker projects the wait after the booking: the page is drawn once it shows.
    wait_until(joined, timeout=20, what="the patient on the waitlist")
    page.goto("/waitlist")
    page.wait_for_load_state("load")
    entry = page.locator(f'#waitlist tr[data-patient-id="{clinic.patients[1].id}"]')
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text(doctor.name)

    page.goto(f"/appointments/{booked}")
    page.wait_for_load_state("load")
    page.get_by_text("Cancel…").click()
    page.get_by_label("Reason for cancelling").fill("Patient called")
    page.get_by_role("button", name="Cancel appointment").click()
    offer = page.locator("#waitlist-offer")
    expect(offer).to_be_visible()
    first = offer.locator("li").first
    expect(first).to_have_attribute("data-patient-id", str(clinic.patients[1].id))
    # One click books the freed time for them.
    first.get_by_role(
        "button", name=re.compile(f"^Book {re.escape(clinic.patients[1].name)}")
    ).click()
    expect(
        page.get_by_text("Booked from the waitlist; the patient is no longer waiting.")
    ).to_be_visible()
    facts = page.locator("article#appointment dl.facts")
    expect(facts).to_contain_text(clinic.patients[1].name)
    expect(facts).to_contain_text("15:00")
    expect(facts).to_contain_text("Earlier follow-up")

    def left() -> bool:
        with clinic.read_engine.connect() as conn:
            return (
                conn.execute(
                    sa.select(rm.waitlist.c.waiting).where(rm.waitlist.c.waitlist_id == waiting)
                ).scalar()
                is False
            )

    wait_until(left, timeout=20, what="the entry to leave the waitlist")
    page.goto("/waitlist")
    expect(page.locator(f'#waitlist tr[data-patient-id="{clinic.patients[1].id}"]')).to_have_count(
        0
    )


def test_a_cancellation_offers_the_time_to_the_first_waiting_patient(
    page: Page, clinic: Clinic
) -> None:
    offer_a_freed_time(page, clinic)


def test_the_waitlist_offer_works_with_javascript_off(no_js_page: Page, clinic: Clinic) -> None:
    offer_a_freed_time(no_js_page, clinic)
