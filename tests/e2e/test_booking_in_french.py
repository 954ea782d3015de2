"""The front desk in French, in Chromium: a French account books through the form, and
meets a colleague's change as a 409 conflict; the pages it passes through are French
(words, dates, `lang`) and pass axe."""

from __future__ import annotations

import re
from collections.abc import Callable
from uuid import uuid4

from babel.dates import format_date
from playwright.sync_api import Browser, BrowserContext, Page, expect

from .accessibility import check_accessibility
from .clinic import Clinic, search_for, upcoming
from .clock import clinic_now
from .conftest import E2E_PASSWORD, FRONT_DESK_SETTINGS
from .stack import LiveStack


def _french_desk(browser: Browser, base_url: str, live_stack: LiveStack) -> BrowserContext:
    """A receptionist's browser, signed in on an account that chose French."""
    username = f"e2e-fr-{uuid4().hex[:8]}"
    user = live_stack.services.accounts.create(
        username, E2E_PASSWORD, "reception", by="tests", full_name="Julie Accueil"
    )
    live_stack.services.accounts.set_locale(user.user_id, "fr")
    context = browser.new_context(base_url=base_url, bypass_csp=True, **FRONT_DESK_SETTINGS)
    page = context.new_page()
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(E2E_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)
    page.close()
    return context


def test_a_french_receptionist_books_an_appointment_in_french(
    browser: Browser, base_url: str, clinic: Clinic, live_stack: LiveStack
) -> None:
    username = f"e2e-fr-desk-{uuid4().hex[:8]}"
    live_stack.services.accounts.create(
        username, E2E_PASSWORD, "reception", by="tests", full_name="Julie Accueil"
    )
    context = browser.new_context(
        base_url=base_url, bypass_csp=True, **{**FRONT_DESK_SETTINGS, "locale": "fr-FR"}
    )
    page = context.new_page()
    try:
        page.goto("/login")
        page.get_by_label("Identifiant").fill(username)
        page.get_by_label("Mot de passe").fill(E2E_PASSWORD)
        page.get_by_role("button", name="Se connecter").click()
        page.wait_for_url(lambda url: "/login" not in url)
        page.get_by_role("button", name="Français").click()
        expect(page.locator("html")).to_have_attribute("lang", "fr")
        expect(page.get_by_role("heading", name="En attente de confirmation")).to_be_visible()

        page.get_by_role("link", name="Prendre rendez-vous").first.click()
        expect(page.get_by_role("heading", name="Prendre rendez-vous")).to_be_visible()
        expect(page.locator("html")).to_have_attribute("lang", "fr")
        check_accessibility(page)

        # The form's own messages, in French, when something is missing (Enter skips the
        # browser's checks: see tests/e2e/test_booking_form.py).
        page.get_by_label("Motif de consultation").fill("Douleurs thoraciques")
        page.get_by_label("Motif de consultation").press("Enter")
        expect(page.get_by_role("alert").first).to_contain_text("Corrigez les champs signalés.")
        check_accessibility(page)

        starts = upcoming("10:30")
        patient = clinic.patients[0]
        page.get_by_label("Rechercher un patient par nom ou téléphone").fill(search_for(patient))
        page.get_by_label(re.compile(patient.name)).check()
        doctor = str(clinic.doctors[1].id)
        page.get_by_label("Jour", exact=True).fill(starts.date().isoformat())
        with page.expect_response(lambda r: "/slots?" in r.url and f"doctor_id={doctor}" in r.url):
            page.locator("#f-doctor").select_option(doctor)
        # The free times' heading names the day as French writes it.
        day_fr = format_date(starts.date(), "EEE d MMM y", locale="fr")
        expect(page.locator("#slot-list")).to_contain_text(day_fr)
        page.get_by_label("10:30").check()
        expect(page.get_by_label("Motif de consultation")).to_have_value("Douleurs thoraciques")
        page.get_by_label("Confirmé avec le patient maintenant").uncheck()
        page.get_by_role("button", name="Enregistrer le rendez-vous", exact=True).click()

        root = page.locator("article#appointment")
        expect(root).to_have_attribute("data-status", "pending")
        expect(page.locator("html")).to_have_attribute("lang", "fr")
        expect(root.locator(".badge, [class*=status]").first).to_contain_text("En attente")
        expect(root.get_by_text("Rendez-vous créé")).to_be_visible()
        expect(root.get_by_role("heading", name="Historique")).to_be_visible()
        expect(root.locator("dl.facts")).to_contain_text(day_fr)
        expect(root.locator("dl.facts")).to_contain_text("Motif de consultation")
        expect(root.get_by_role("button", name="Confirmer")).to_be_visible()
        check_accessibility(page)

        # Confirmed from the detail page: the notice is French too.
        root.get_by_role("button", name="Confirmer").click()
        expect(root).to_have_attribute("data-status", "confirmed")
        expect(page.get_by_text("Rendez-vous confirmé.")).to_be_visible()
        check_accessibility(page)
    finally:
        context.close()


def test_a_french_receptionist_s_stale_page_gets_the_conflict_in_french(
    browser: Browser,
    base_url: str,
    clinic: Clinic,
    live_stack: LiveStack,
    new_context: Callable[..., BrowserContext],
) -> None:
    booked = clinic.book(upcoming("11:00"))
    clinic.wait_for_read_models()
    french = _french_desk(browser, base_url, live_stack)
    try:
        first: Page = french.new_page()
        second = new_context().new_page()  # an English colleague
        for desk in (first, second):
            desk.goto(f"/appointments/{booked}")
        expect(first.locator("html")).to_have_attribute("lang", "fr")
        second.get_by_text("Cancel…").click()
        second.get_by_label("Reason for cancelling").fill("Called to cancel")
        second.get_by_role("button", name="Cancel appointment").click()
        expect(second.locator("article#appointment")).to_have_attribute("data-status", "cancelled")

        first.get_by_role("button", name="Confirmer").click()
        alert = first.get_by_role("alert")
        expect(alert).to_contain_text("Modifié entre-temps")
        # What the colleague did, and when, as French says a moment.
        today = clinic_now().date()
        expect(alert).to_contain_text("rendez-vous annulé par")
        expect(alert).to_contain_text(f"le {format_date(today, 'EEEE d MMMM y', locale='fr')} à")
        expect(
            alert.get_by_role("link", name="Recharger pour voir la version actuelle")
        ).to_be_visible()
        root = first.locator("article#appointment")
        expect(root).to_have_attribute("data-status", "cancelled")  # nothing overwritten
        expect(root.locator(".badge, [class*=status]").first).to_contain_text("Annulé")
        expect(first.locator("html")).to_have_attribute("lang", "fr")
        check_accessibility(first)
    finally:
        french.close()
