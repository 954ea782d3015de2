"""Every screen passes axe-core (no serious or critical violation), and `make screenshots`
saves the main ones for the README from here."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta

import pytest
from babel.dates import format_date
from playwright.sync_api import Browser, Page, expect

from app import seed
from app.commands import JoinWaitlist, RecordAbsence
from app.outbound.links import PatientLinks
from app.queries import directory

from .accessibility import check_accessibility
from .clinic import Clinic, upcoming
from .clock import CLINIC_TZ
from .conftest import E2E_PASSWORD, FRONT_DESK_SETTINGS
from .stack import LiveStack


def test_screens_pass_axe(
    axe_page: Page,
    clinic: Clinic,
    shoot: Callable[[Page, str], None],
    live_stack: LiveStack,
    pytestconfig: pytest.Config,
) -> None:
    page = axe_page
    if pytestconfig.getoption("screenshots"):
        # Pictures for the README: a clinic's day rather than a test's few rows.
        seed.seed_demo(live_stack.services, echo=lambda _: None)
        live_stack.wait_until_projected(timeout=60)
    booked = clinic.book(upcoming("09:00"), minutes=30)
    clinic.book(upcoming("10:00"), minutes=15, patient=1, title="Blood test results")
    clinic.wait_for_read_models()
    day = upcoming("09:00").date().isoformat()
    doctor, patient = clinic.doctors[0].id, clinic.patients[0].id
    # The confirm makes a second version, so the history and the past-version view show.
    page.goto(f"/appointments/{booked}")
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator("article#appointment")).to_have_attribute("data-status", "confirmed")

    if pytestconfig.getoption("screenshots"):
        # The demo clinic's people, with office hours, make the pictures; the checks are
        # the same.
        engine = live_stack.read_engine
        doctor = directory.list_doctors(engine, "Camille Martin")[0].doctor_id
        patient = directory.search_patients(engine, "Jeanne Dupont")[0].patient_id
        weekday = upcoming("09:00").date()
        while weekday.weekday() >= 5:  # the demo doctors work Monday to Friday
            weekday += timedelta(days=1)
        day = weekday.isoformat()
    midnight = upcoming("00:00", days=0).strftime("%Y-%m-%dT%H:%M")
    screens = {
        "today": "/",
        "appointments": f"/appointments?doctor_id={doctor}",
        "booking": f"/appointments/new?patient_id={patient}&doctor_id={doctor}&day={day}",
        "appointment": f"/appointments/{booked}",
        "appointment-version-1": f"/appointments/{booked}?version=1",
        "reschedule": f"/appointments/{booked}/reschedule",
        "patients": f"/patients?q={clinic.tag}",
        "patient": f"/patients/{patient}",
        "doctors": "/doctors",
        "doctor-day": f"/doctors/{doctor}?day={day}",
        "doctor-week": f"/doctors/{doctor}?view=week&day={day}",
        "calendar": f"/calendar?day={day}",
        "calendar-week": f"/calendar/week?start={day}",
        "calendar-sheet": f"/calendar?day={day}&print=1",
        # Since midnight: the bookings above are the changes since then.
        "doctor-day-as-of": f"/doctors/{doctor}/as-of?day={day}&at={midnight}",
        "staff": "/admin/users",
        "not-found": "/appointments/00000000-0000-0000-0000-000000000000",
        # Last: by now the pages above have filled its charts.
        "ops": "/ops",
    }
    for name, url in screens.items():
        response = page.goto(url)
        assert response is not None
        assert response.status == (404 if name == "not-found" else 200), url
        expect(page.get_by_role("heading", level=1).first).to_be_visible()
        check_accessibility(page)
        if name == "calendar" and pytestconfig.getoption("screenshots"):
            # Other tests' doctors work round the clock: the picture opens on office hours.
            page.locator(".grid-scroll").evaluate(
                "box => { const row = [...box.querySelectorAll('tbody th')]"
                ".find(th => th.textContent.trim().startsWith('08:00'));"
                " const head = box.querySelector('thead').offsetHeight;"
                " if (row) box.scrollTop = row.offsetTop - head; }"
            )
        shoot(page, name)

    # The doctor away on that day: the call list fills, and the doctor's page shows it.
    live_stack.services.bus.handle(
        RecordAbsence(
            doctor_id=doctor,
            starts_at=datetime.combine(date.fromisoformat(day), time(), CLINIC_TZ),
            ends_at=datetime.combine(date.fromisoformat(day), time(), CLINIC_TZ)
            + timedelta(days=1),
            reason="training",
        )
    )
    live_stack.wait_until_projected(timeout=60)
    for name, url in {
        "call-list": f"/call-list?doctor_id={doctor}",
        "doctor-availability": f"/doctors/{doctor}?day={day}#availability",
        "settings": "/settings",
    }.items():
        response = page.goto(url)
        assert response is not None and response.status == 200, url
        expect(page.get_by_role("heading", level=1).first).to_be_visible()
        check_accessibility(page)
        if name == "doctor-availability":
            page.locator("#availability").scroll_into_view_if_needed()
        shoot(page, name)

    # A course of visits and the waitlist (issue 19): the preview, the series, the list.
    own = clinic.doctors[1].id
    page.goto(f"/appointments/new?patient_id={clinic.patients[1].id}&doctor_id={own}&day={day}")
    page.locator('input[name="starts_at"]').first.check()
    page.get_by_label("Reason for the visit").fill("Physiotherapy")
    page.get_by_label("Repeat", exact=True).select_option("2")
    page.get_by_label("Number of visits").fill("4")
    page.get_by_label("Number of visits").press("Enter")
    expect(page.locator("#series-visits tbody tr")).to_have_count(4)
    check_accessibility(page)
    shoot(page, "series-preview")
    page.get_by_role("button", name="Book the series (4 visits)").click()
    expect(page.get_by_text("4 of 4 visits booked.")).to_be_visible()
    check_accessibility(page)
    shoot(page, "series")
    live_stack.services.bus.handle(
        JoinWaitlist(
            patient_id=clinic.patients[0].id,
            doctor_id=own,
            until_day=date.fromisoformat(day) + timedelta(days=28),
            title="Earlier follow-up",
        )
    )
    live_stack.wait_until_projected(timeout=60)
    for name, url in {
        "waitlist": f"/waitlist?doctor_id={own}",
        "waitlist-new": f"/waitlist/new?patient_id={clinic.patients[1].id}&doctor_id={own}",
    }.items():
        response = page.goto(url)
        assert response is not None and response.status == 200, url
        expect(page.get_by_role("heading", level=1).first).to_be_visible()
        check_accessibility(page)
        shoot(page, name)

    # Reminders (issue 20): the patient's own page, and the staff's reminder settings.
    version = live_stack.services.store.stream_version(booked)
    for name, url in {
        "patient-page": "/p/" + PatientLinks(live_stack.secret, 30).make(booked, version),
        "patient-reminders": f"/patients/{clinic.patients[0].id}#reminders",
        "settings-contact": "/settings#clinic-contact",
    }.items():
        response = page.goto(url)
        assert response is not None and response.status == 200, url
        expect(page.get_by_role("heading", level=1).first).to_be_visible()
        check_accessibility(page)
        shoot(page, name)

    # A form with errors is a screen too: messages tied to their fields.
    page.goto("/appointments/new")
    page.get_by_text("Register a new patient").click()
    page.get_by_role("button", name="Register patient").click()
    expect(page.locator("#patient-picker [aria-invalid=true]").first).to_be_visible()
    check_accessibility(page)


def test_the_main_screens_in_french_pass_axe_with_lang_fr(
    browser: Browser,
    base_url: str,
    clinic: Clinic,
    shoot: Callable[[Page, str], None],
    live_stack: LiveStack,
) -> None:
    """A French browser gets the sign-in page in French; once signed in, the account follows
    the clinic's language (English here) until its owner picks French in the header, and
    from then on every page is French, `<html lang="fr">`, and still passes axe."""
    live_stack.services.accounts.create(
        "e2e-fr", E2E_PASSWORD, "admin", by="tests", full_name="Claire Accueil"
    )
    settings = {**FRONT_DESK_SETTINGS, "locale": "fr-FR"}
    context = browser.new_context(base_url=base_url, bypass_csp=True, **settings)
    page = context.new_page()
    try:
        page.goto("/login")
        expect(page.locator("html")).to_have_attribute("lang", "fr")
        expect(page.get_by_role("heading", name="Se connecter")).to_be_visible()
        check_accessibility(page)
        shoot(page, "sign-in-fr")
        page.get_by_label("Identifiant").fill("e2e-fr")
        page.get_by_label("Mot de passe").fill(E2E_PASSWORD)
        page.get_by_role("button", name="Se connecter").click()
        page.wait_for_url(lambda url: "/login" not in url)
        # Signed in, the clinic's language (CLINIC_LOCALE=en in tests) until chosen.
        expect(page.locator("html")).to_have_attribute("lang", "en")
        page.get_by_role("button", name="Français").click()
        expect(page.locator("html")).to_have_attribute("lang", "fr")
        expect(page.get_by_role("link", name="Aujourd’hui")).to_be_visible()

        booked = clinic.book(upcoming("09:00"), minutes=30)
        clinic.wait_for_read_models()
        starts = upcoming("09:00")
        doctor, patient = clinic.doctors[0].id, clinic.patients[0].id
        screens = {
            # The day of the bookings: Today's own date may have nothing on it yet.
            "today-fr": f"/?day={starts.date().isoformat()}",
            "appointments-fr": f"/appointments?doctor_id={doctor}",
            "booking-fr": f"/appointments/new?patient_id={patient}&doctor_id={doctor}"
            f"&day={starts.date().isoformat()}",
            "appointment-fr": f"/appointments/{booked}",
            "patient-fr": f"/patients/{patient}",
            "doctor-day-fr": f"/doctors/{doctor}?day={starts.date().isoformat()}",
        }
        for name, url in screens.items():
            response = page.goto(url)
            assert response is not None and response.status == 200, url
            expect(page.locator("html")).to_have_attribute("lang", "fr")
            check_accessibility(page)
            shoot(page, name)
        # The appointment's day as French writes it: "jeu. 3 déc. 2026".
        page.goto(f"/appointments/{booked}")
        expected = format_date(starts.date(), "EEE d MMM y", locale="fr")
        expect(page.locator("main")).to_contain_text(expected)
        # Back to English with one click, and it stays so.
        page.get_by_role("button", name="English").click()
        expect(page.locator("html")).to_have_attribute("lang", "en")
        page.goto("/")
        expect(page.get_by_role("link", name="Today")).to_be_visible()
    finally:
        context.close()
