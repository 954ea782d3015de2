"""A doctor away, in Chromium against gunicorn, PostgreSQL and a real Celery worker: the desk
records the absence in one form, lands on the call list with every affected patient, moves
one to the time proposed and cancels the other; and books with a visit type (issue 17)."""

from __future__ import annotations

import re
import uuid

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from app.commands import DefineVisitType
from app.projections import tables as rm

from ..integration.projecting import wait_until
from .clinic import Clinic, search_for, upcoming


def away_over_two_appointments(page: Page, clinic: Clinic) -> None:
    doctor = clinic.doctors[0]
    first = clinic.book(upcoming("10:00", days=3), minutes=30)
    second = clinic.book(upcoming("11:00", days=3), minutes=30, patient=1)
    clinic.wait_for_read_models()
    day = upcoming("00:00", days=3)
    back = upcoming("00:00", days=4)
    page.goto(f"/doctors/{doctor.id}")
    page.wait_for_load_state("load")
    form = page.locator("#absence-form")
    form.get_by_label("Away from").fill(f"{day:%Y-%m-%dT%H:%M}")
    form.get_by_label("Back at").fill(f"{back:%Y-%m-%dT%H:%M}")
    form.get_by_label("Reason").select_option("training")
    form.get_by_role("button", name="Record the absence").click()

    # One form, and the desk is on the call list: both patients, with why and a new time.
    expect(page.get_by_role("heading", name="Call list")).to_be_visible()
    expect(page.get_by_text("Absence recorded. 2 appointments need a new time.")).to_be_visible()
    rows = page.locator("#call-list tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_have_attribute("data-appointment-id", str(first))
    expect(rows.nth(1)).to_have_attribute("data-appointment-id", str(second))
    expect(rows.nth(0)).to_contain_text(f"{doctor.name} is away")
    expect(rows.nth(0)).to_contain_text("(training)")
    expect(rows.nth(0)).to_contain_text(clinic.patients[0].name)

    # The first patient takes the time proposed: one click.
    proposal = rows.nth(0).locator('form[data-proposal="same"]')
    proposed = proposal.locator('input[name="starts_at"]').get_attribute("value")
    assert proposed is not None and proposed >= f"{back:%Y-%m-%dT%H:%M}", proposed
    proposal.get_by_role("button").click()
    remaining = page.locator("#call-list tbody tr")
    expect(remaining).to_have_count(1)
    expect(remaining.nth(0)).to_have_attribute("data-appointment-id", str(second))

    # The second cancels: "doctor absent", one click.
    remaining.nth(0).get_by_role("button", name="Cancel (doctor absent)").click()
    expect(page.get_by_text("No appointment needs a new time.")).to_be_visible()
    a = rm.appointments.c

    def settled() -> bool:
        with clinic.read_engine.connect() as conn:
            found = dict(
                conn.execute(
                    sa.select(a.appointment_id, a.status).where(
                        a.appointment_id.in_([first, second])
                    )
                ).all()
            )
        return found == {first: "confirmed", second: "cancelled"} or found == {
            first: "pending",
            second: "cancelled",
        }

    wait_until(settled, timeout=20, what="the move and the cancellation")
    with clinic.read_engine.connect() as conn:
        moved = conn.execute(sa.select(a.starts_at).where(a.appointment_id == first)).scalar_one()
        reason = conn.execute(
            sa.select(a.cancel_reason).where(a.appointment_id == second)
        ).scalar_one()
    assert f"{moved.astimezone(day.tzinfo):%Y-%m-%dT%H:%M}" == proposed
    assert reason == "Doctor absent"


def test_an_absence_over_two_appointments_is_worked_through_from_the_call_list(
    page: Page, clinic: Clinic
) -> None:
    away_over_two_appointments(page, clinic)


def test_the_call_list_works_with_javascript_off(no_js_page: Page, clinic: Clinic) -> None:
    away_over_two_appointments(no_js_page, clinic)


def book_with_a_visit_type(page: Page, clinic: Clinic, *, scripted: bool) -> None:
    doctor = clinic.doctors[0]
    label = f"First visit {clinic.tag}"
    clinic.bus.handle(
        DefineVisitType(
            visit_type_id=uuid.uuid4(), label=label, minutes=45, doctor_id=str(doctor.id)
        )
    )
    # The booking form offers the types of the read model, which the worker brings in.
    clinic.wait_for_everything_projected()
    page.goto("/appointments/new")
    page.wait_for_load_state("load")
    page.get_by_label("Find a patient by name or phone").fill(search_for(clinic.patients[0]))
    if not scripted:
        page.get_by_role("button", name="Search").click()
    page.get_by_label(re.compile(clinic.patients[0].name)).check()
    day = upcoming("10:00", days=2).date().isoformat()
    page.get_by_label("Day", exact=True).fill(day)
    if scripted:
        with page.expect_response(lambda r: "/slots?" in r.url and str(doctor.id) in r.url):
            page.get_by_label("Doctor").select_option(str(doctor.id))
    else:
        page.get_by_label("Doctor").select_option(str(doctor.id))
        page.get_by_role("button", name="Show free times").click()
    visit_type = page.get_by_label("Visit type")
    option = visit_type.locator("option", has_text=label)
    if scripted:
        with page.expect_response(lambda r: "/slots?" in r.url and "visit_type_id=" in r.url):
            visit_type.select_option(option.get_attribute("value"))
    else:
        visit_type.select_option(option.get_attribute("value"))
        page.get_by_role("button", name="Use its duration").click()
    # The duration follows the type.
    expect(page.get_by_label("Duration (minutes)")).to_have_value("45")
    page.get_by_label("10:00").check()
    page.get_by_label("Reason for the visit").fill("New patient")
    page.get_by_role("button", name="Book appointment").click()
    facts = page.locator("article#appointment dl.facts")
    expect(facts).to_contain_text(label)
    expect(facts).to_contain_text("45 min")
    expect(facts).to_contain_text("10:00 \N{EN DASH} 10:45")


def test_a_booking_with_a_visit_type_takes_its_duration(page: Page, clinic: Clinic) -> None:
    book_with_a_visit_type(page, clinic, scripted=True)


def test_a_visit_type_is_chosen_with_javascript_off(no_js_page: Page, clinic: Clinic) -> None:
    book_with_a_visit_type(no_js_page, clinic, scripted=False)
