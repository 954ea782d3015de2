"""The patient's own page in Chromium on a phone with JavaScript off, against gunicorn and a
real worker (issue 20): the patient confirms one appointment and cancels another with a
reason from their links, and the front desk's Today shows both answers."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

import sqlalchemy as sa
from playwright.sync_api import Browser, Page, expect

from app.outbound.links import PatientLinks
from app.projections import tables as rm

from ..integration.projecting import wait_until
from .clinic import Clinic, upcoming
from .clock import CLINIC_ZONE
from .stack import LiveStack

PHONE = {"width": 390, "height": 844}


def _link(live_stack: LiveStack, appointment: UUID) -> str:
    """The link a reminder sent now carries: signed with the server's own secret."""
    services = live_stack.services
    version = services.store.stream_version(appointment)
    return "/p/" + PatientLinks(live_stack.secret, 30).make(appointment, version)


def _answered(clinic: Clinic, appointment: UUID, answer: str) -> Callable[[], bool]:
    def shown() -> bool:
        with clinic.read_engine.connect() as conn:
            found = conn.execute(
                sa.select(rm.appointments.c.patient_answer).where(
                    rm.appointments.c.appointment_id == appointment
                )
            ).scalar()
        return bool(found == answer)

    return shown


def test_a_patient_confirms_and_cancels_from_a_phone_and_the_desk_sees_it(
    browser: Browser,
    base_url: str,
    page: Page,
    live_stack: LiveStack,
    clinic: Clinic,
) -> None:
    confirming = clinic.book(upcoming("10:00", days=1), patient=0)
    cancelling = clinic.book(upcoming("11:00", days=1), patient=1)
    clinic.wait_for_read_models()
    # The patient's phone: a context of its own, without the staff's session or JavaScript.
    context = browser.new_context(
        base_url=base_url,
        java_script_enabled=False,
        viewport=PHONE,
        is_mobile=True,
        locale="en-GB",
        timezone_id=CLINIC_ZONE,
    )
    phone = context.new_page()

    phone.goto(_link(live_stack, confirming))
    card = phone.locator(f'[data-appointment-id="{confirming}"]')
    expect(card).to_have_attribute("data-status", "pending")
    expect(card).to_contain_text(clinic.doctors[0].name)
    expect(card).to_contain_text("10:00")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    phone.get_by_role("button", name="Confirm my appointment").click()
    expect(phone.get_by_text("Thank you: your appointment is confirmed.")).to_be_visible()
    expect(card).to_have_attribute("data-status", "confirmed")

    phone.goto(_link(live_stack, cancelling))
    phone.get_by_label("Reason (optional)").fill("I have to work that day")
    # Enter in the reason does what the form is for: cancel.
    phone.get_by_label("Reason (optional)").press("Enter")
    expect(phone.get_by_text("Your appointment is cancelled.")).to_be_visible()
    expect(phone.locator(f'[data-appointment-id="{cancelling}"]')).to_have_attribute(
        "data-status", "cancelled"
    )

    wait_until(_answered(clinic, confirming, "confirmed"), timeout=20, what="the confirmation")
    wait_until(_answered(clinic, cancelling, "cancelled"), timeout=20, what="the cancellation")
    page.goto(f"/?day={upcoming('10:00', days=1).date().isoformat()}")
    page.wait_for_load_state("load")
    confirmed_row = page.locator(f'tr[data-appointment-id="{confirming}"]')
    expect(confirmed_row).to_contain_text("confirmed by the patient")
    page.goto(f"/appointments/{cancelling}")
    expect(page.locator("article#appointment")).to_contain_text("cancelled by the patient")
    expect(page.locator("article#appointment")).to_contain_text("I have to work that day")
    context.close()
