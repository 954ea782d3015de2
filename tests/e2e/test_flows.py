"""What the front desk does all day, in Chromium against gunicorn, PostgreSQL and a real
Celery worker: book, confirm, check in, complete, cancel, reschedule, collide."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from datetime import timedelta

import sqlalchemy as sa
from playwright.sync_api import Browser, BrowserContext, Error, Locator, Page, Route, expect

from app.commands import ConfirmAppointment
from app.projections import tables as rm

from .clinic import Clinic, search_for, upcoming
from .clock import clinic_now, clinic_today
from .conftest import E2E_PASSWORD, FRONT_DESK_SETTINGS, sign_in
from .stack import LiveStack


def row(page: Page, appointment_id: str, region: str = "") -> Locator:
    return page.locator(f'{region} [data-appointment-id="{appointment_id}"]'.strip())


def test_a_new_patient_booked_on_screen_is_confirmed_checked_in_and_completed(
    page: Page, clinic: Clinic
) -> None:
    day = clinic_today().isoformat()
    page.goto("/appointments/new")
    # Register the patient without leaving the booking screen; what was typed stays.
    page.get_by_label("Reason for the visit").fill("First consultation")
    page.get_by_text("Register a new patient").click()
    name = f"Inès Moreau {clinic.tag}"
    page.get_by_label("Full name").fill(name)
    page.get_by_label("Date of birth").fill("1991-04-12")
    page.get_by_label("Phone", exact=True).fill("06 11 22 33 44")
    page.get_by_role("button", name="Register patient").click()
    expect(page.get_by_text("Patient registered and selected.")).to_be_visible()
    expect(page.get_by_label(re.compile(name))).to_be_checked()
    expect(page.get_by_label("Reason for the visit")).to_have_value("First consultation")

    # Day first, then the doctor, and pick a time only from the doctor's answer: a time
    # checked in an earlier list is gone when a later answer replaces the list.
    page.get_by_label("Day", exact=True).fill(day)
    doctor = str(clinic.doctors[0].id)
    with page.expect_response(lambda r: "/slots?" in r.url and f"doctor_id={doctor}" in r.url):
        page.get_by_label("Doctor").select_option(doctor)
    page.locator("#slot-list input[name=starts_at]").first.check()
    # Booked for a patient who has not agreed yet (a request left on the answering machine):
    # it waits in the queue.
    page.get_by_label("Confirmed with the patient now").uncheck()
    page.get_by_role("button", name="Book appointment").click()

    root = page.locator("article#appointment")
    expect(root).to_have_attribute("data-status", "pending")
    booked = root.get_attribute("data-appointment-id")
    expect(page.get_by_text("Appointment created")).to_be_visible()

    page.goto("/")
    queued = row(page, booked, "#queue")
    queued.get_by_role("button", name="Confirm").click()
    expect(queued).to_have_attribute("data-status", "confirmed")
    expect(queued.get_by_text("Appointment confirmed.")).to_be_visible()

    # The day's agenda refreshed itself on hearing of the change: check in from there.
    on_agenda = row(page, booked, "#day-board")
    expect(on_agenda).to_have_attribute("data-status", "confirmed")
    on_agenda.get_by_role("button", name="Check in").click()
    expect(row(page, booked, "#day-board")).to_have_attribute("data-status", "checked_in")
    row(page, booked, "#day-board").get_by_role("button", name="Complete").click()
    expect(row(page, booked, "#day-board")).to_have_attribute("data-status", "completed")

    page.goto(f"/appointments/{booked}")
    expect(page.locator("article#appointment")).to_have_attribute("data-status", "completed")
    for step in ("Appointment created", "Confirmed", "Checked in", "Completed"):
        expect(page.locator(".timeline").get_by_text(step, exact=False).first).to_be_visible()


BOARD_REFRESH = re.compile(r"/\?day=\d{4}-\d{2}-\d{2}$")
COMPLETE = re.compile(r"/appointments/[0-9a-f-]+/complete$")


def test_an_action_on_today_s_agenda_is_not_lost_to_the_board_s_own_refresh(
    page: Page, clinic: Clinic
) -> None:
    # The day board refreshes itself after every action; a refresh that answers while the
    # next action on one of its rows is under way used to replace that row, and the
    # action's answer went to a row no longer on the page: it looked as if nothing happened.
    clinic_today()
    now = clinic_now()
    soon = now.replace(minute=now.minute // 15 * 15, second=0, microsecond=0)
    booked = clinic.book(soon + timedelta(minutes=15), minutes=15)
    clinic.bus.handle(ConfirmAppointment(appointment_id=booked))
    clinic.wait_for_read_models()
    page.goto("/")
    on_agenda = row(page, str(booked), "#day-board")

    refreshes: list[Route] = []
    page.route(BOARD_REFRESH, lambda route: refreshes.append(route))
    with page.expect_request(BOARD_REFRESH):  # the check-in's answer asks for a refresh
        on_agenda.get_by_role("button", name="Check in").click()
    expect(on_agenda).to_have_attribute("data-status", "checked_in")
    # The refresh is read now, before the next action, and answers while that is under way.
    before_complete = refreshes[0].fetch()
    completions: list[Route] = []
    page.route(COMPLETE, lambda route: completions.append(route))
    with page.expect_request(COMPLETE):
        on_agenda.get_by_role("button", name="Complete").click()
    # The action may have aborted the refresh under way: then nothing is left to answer.
    with contextlib.suppress(Error):
        refreshes[0].fulfill(response=before_complete)
    completions[0].continue_()
    expect(on_agenda).to_have_attribute("data-status", "completed")
    expect(on_agenda.get_by_text("Visit completed.")).to_be_visible()


def test_an_appointment_is_cancelled_with_a_reason(page: Page, clinic: Clinic) -> None:
    booked = clinic.book(upcoming("10:00"))
    clinic.wait_for_read_models()
    page.goto(f"/appointments/{booked}")
    page.get_by_text("Cancel…").click()
    page.get_by_label("Reason for cancelling").fill("Patient has the flu")
    page.get_by_role("button", name="Cancel appointment").click()
    root = page.locator("article#appointment")
    expect(root).to_have_attribute("data-status", "cancelled")
    expect(root.locator("dl.facts")).to_contain_text("Patient has the flu")
    expect(root.locator(".timeline")).to_contain_text("Patient has the flu")

    # From a row of the list: the reason is asked in the row, which then shows the result.
    other = clinic.book(upcoming("11:00"), patient=1)
    clinic.wait_for_read_models()
    page.goto(f"/appointments?doctor_id={clinic.doctors[0].id}")
    listed = row(page, other)
    listed.get_by_role("link", name="Cancel…").click()
    listed.get_by_label("Reason for cancelling").fill("Moved away")
    listed.get_by_role("button", name="Cancel appointment").click()
    expect(row(page, other)).to_have_attribute("data-status", "cancelled")
    expect(row(page, other)).to_contain_text("Appointment cancelled.")


def test_an_appointment_is_rescheduled_to_another_free_slot(page: Page, clinic: Clinic) -> None:
    booked = clinic.book(upcoming("10:00"), minutes=15)
    clinic.book(upcoming("10:30"), minutes=15, patient=1)
    clinic.wait_for_read_models()
    page.goto(f"/appointments/{booked}")
    page.get_by_role("link", name="Reschedule").click()
    day = upcoming("10:00").date().isoformat()
    expect(page.locator(f'input[name=starts_at][value="{day}T10:15"]')).to_have_count(1)
    expect(page.locator(f'input[name=starts_at][value="{day}T10:30"]')).to_have_count(0)
    page.get_by_label("11:00").check()
    page.get_by_role("button", name="Reschedule").click()
    root = page.locator("article#appointment")
    expect(root).to_have_attribute("data-status", "pending")
    expect(root.locator("dl.facts")).to_contain_text("11:00 \N{EN DASH} 11:15")


def test_a_second_receptionist_with_a_stale_page_gets_the_conflict(
    new_context: Callable[..., BrowserContext], clinic: Clinic
) -> None:
    booked = clinic.book(upcoming("11:00"))
    clinic.wait_for_read_models()
    first, second = new_context().new_page(), new_context().new_page()
    for desk in (first, second):
        desk.goto(f"/appointments/{booked}")
    second.get_by_text("Cancel…").click()
    second.get_by_label("Reason for cancelling").fill("Called to cancel")
    second.get_by_role("button", name="Cancel appointment").click()
    expect(second.locator("article#appointment")).to_have_attribute("data-status", "cancelled")

    first.get_by_role("button", name="Confirm").click()
    alert = first.get_by_role("alert")
    expect(alert).to_contain_text("Changed meanwhile")
    expect(alert).to_contain_text("cancel", ignore_case=True)
    expect(alert.get_by_role("link", name="Reload to see the current version")).to_be_visible()
    # The page now shows the appointment as it is: nothing was overwritten.
    expect(first.locator("article#appointment")).to_have_attribute("data-status", "cancelled")


def test_a_taken_slot_is_not_offered_and_a_forced_double_booking_is_refused(
    page: Page, clinic: Clinic
) -> None:
    clinic.book(upcoming("09:00"), minutes=15, patient=1)
    clinic.wait_for_read_models()
    day = upcoming("09:00").date().isoformat()
    page.goto(f"/appointments/new?doctor_id={clinic.doctors[0].id}&day={day}")
    expect(page.locator(f'input[name=starts_at][value="{day}T09:15"]')).to_have_count(1)
    expect(page.locator(f'input[name=starts_at][value="{day}T09:00"]')).to_have_count(0)
    page.get_by_label("Find a patient by name or phone").fill(search_for(clinic.patients[0]))
    page.get_by_label(re.compile(clinic.patients[0].name)).check()
    page.get_by_label("Reason for the visit").fill("Forced")
    # A stale or tampered form: the slot offered says 09:15, the request says 09:00.
    forced = page.locator("#slot-list input[name=starts_at]").first
    forced.evaluate("(input, value) => { input.value = value }", f"{day}T09:00")
    forced.check()
    page.get_by_role("button", name="Book appointment").click()
    expect(page.get_by_role("alert").first).to_contain_text("already has an appointment")
    expect(page.locator("#slot-list .error")).to_contain_text("already has an appointment")


def test_the_booking_flow_works_with_javascript_off(no_js_page: Page, clinic: Clinic) -> None:
    page = no_js_page
    day = upcoming("09:00").date().isoformat()
    page.goto("/appointments/new")
    page.get_by_label("Find a patient by name or phone").fill(search_for(clinic.patients[1]))
    page.get_by_role("button", name="Search").click()
    page.get_by_label(re.compile(clinic.patients[1].name)).check()
    page.get_by_label("Doctor").select_option(str(clinic.doctors[1].id))
    page.get_by_label("Day", exact=True).fill(day)
    page.get_by_role("button", name="Show free times").click()
    expect(page.get_by_label(re.compile(clinic.patients[1].name))).to_be_checked()
    page.get_by_label("09:30").check()
    page.get_by_label("Reason for the visit").fill("Blood pressure")
    page.get_by_label("Duration (minutes)").fill("30")
    # With the patient on the phone: confirmed as it is booked (the box starts ticked, and
    # stayed so through the steps above), one click where there were two.
    expect(page.get_by_label("Confirmed with the patient now")).to_be_checked()
    page.get_by_role("button", name="Book appointment").click()
    root = page.locator("article#appointment")
    expect(root).to_have_attribute("data-status", "confirmed")
    expect(root.locator("dl.facts")).to_contain_text("09:30 \N{EN DASH} 10:00")
    for step in ("Appointment created", "Confirmed"):
        expect(root.locator(".timeline").get_by_text(step, exact=False).first).to_be_visible()


def test_a_doctor_signs_in_sees_only_their_day_and_checks_in_their_patient(
    browser: Browser, base_url: str, clinic: Clinic, live_stack: LiveStack
) -> None:
    clinic_today()
    # The next quarter hour: at the latest 23:30, which leaves a quarter before the hours end.
    now = clinic_now()
    soon = now.replace(minute=now.minute // 15 * 15, second=0, microsecond=0)
    soon += timedelta(minutes=15)
    mine = clinic.book(soon, minutes=15, doctor=0, patient=0)
    theirs = clinic.book(soon, minutes=15, doctor=1, patient=1)
    for appointment in (mine, theirs):
        clinic.bus.handle(ConfirmAppointment(appointment_id=appointment))
    clinic.wait_for_read_models()
    live_stack.services.accounts.create(
        f"dr-{clinic.tag.lower()}", E2E_PASSWORD, "doctor",
        doctor_id=clinic.doctors[0].id, by="tests", full_name=clinic.doctors[0].name,
    )  # fmt: skip
    context = browser.new_context(base_url=base_url, **FRONT_DESK_SETTINGS)
    page = context.new_page()
    sign_in(page, f"dr-{clinic.tag.lower()}", E2E_PASSWORD)

    # Today is their own day: their patient, not the other doctor's; nothing to confirm.
    mine_row = row(page, str(mine), "#day-board")
    expect(mine_row).to_have_attribute("data-status", "confirmed")
    expect(row(page, str(theirs))).to_have_count(0)
    expect(page.locator("#queue")).to_have_count(0)
    expect(mine_row.get_by_role("button", name="Cancel")).to_have_count(0)
    mine_row.get_by_role("button", name="Check in").click()
    expect(row(page, str(mine), "#day-board")).to_have_attribute("data-status", "checked_in")

    # The other doctor's appointment is refused as an unknown id is (a 403 would tell that it
    # exists), and the menu offers no booking.
    response = page.goto(f"/appointments/{theirs}")
    assert response is not None and response.status == 404
    expect(page.get_by_text("There is no appointment with that id.")).to_be_visible()
    expect(
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Book")
    ).to_have_count(0)
    # The check-in is recorded as theirs, by name.
    page.goto(f"/appointments/{mine}")
    expect(page.locator(".timeline")).to_contain_text(clinic.doctors[0].name)
    context.close()


def check_in_a_pending_appointment(page: Page, clinic: Clinic) -> None:
    clinic_today()
    now = clinic_now()
    soon = now.replace(minute=now.minute // 15 * 15, second=0, microsecond=0)
    booked = str(clinic.book(soon + timedelta(minutes=15), minutes=15, patient=1))
    clinic.wait_for_read_models()
    page.goto(f"/appointments/{booked}")
    root = page.locator("article#appointment")
    expect(root).to_have_attribute("data-status", "pending")
    # One click, where there were two (Confirm, then Check in).
    root.get_by_role("button", name="Check in").click()
    expect(page.locator("article#appointment")).to_have_attribute("data-status", "checked_in")
    expect(page.get_by_text("Patient checked in.")).to_be_visible()
    # The history tells both: confirmed by coming, then arrived.
    timeline = page.locator(".timeline")
    expect(timeline.get_by_text("Confirmed", exact=False).first).to_be_visible()
    expect(timeline.get_by_text("Checked in", exact=False).first).to_be_visible()


def test_a_patient_arriving_with_a_pending_appointment_is_checked_in_in_one_click(
    page: Page, clinic: Clinic
) -> None:
    check_in_a_pending_appointment(page, clinic)


def test_the_one_click_arrival_works_with_javascript_off(no_js_page: Page, clinic: Clinic) -> None:
    check_in_a_pending_appointment(no_js_page, clinic)


def move_to_another_doctor(page: Page, clinic: Clinic, *, scripted: bool) -> None:
    booked = clinic.book(upcoming("10:00"), minutes=30)
    clinic.bus.handle(ConfirmAppointment(appointment_id=booked))
    clinic.book(upcoming("10:30"), minutes=30, doctor=1, patient=1)  # the colleague's 10:30
    clinic.wait_for_read_models()
    away, colleague = clinic.doctors
    page.goto(f"/appointments/{booked}")
    page.get_by_role("link", name="Reschedule").click()
    # htmx must be listening before the choice, or the change would go unheard.
    page.wait_for_load_state("load")
    page.get_by_label("Doctor").select_option(str(colleague.id))
    if not scripted:
        page.get_by_role("button", name="Show free times").click()
    expect(page.locator("#slots legend")).to_contain_text(colleague.name)
    day = upcoming("10:00").date().isoformat()
    expect(page.locator(f'input[name=starts_at][value="{day}T10:30"]')).to_have_count(0)
    page.get_by_label("10:00").check()
    # Confirmed with the patient on the phone: the move keeps it so (the default).
    expect(page.get_by_label("Agreed with the patient: confirmed")).to_be_checked()
    page.get_by_role("button", name="Reschedule").click()
    root = page.locator("article#appointment")
    expect(root).to_have_attribute("data-status", "confirmed")
    expect(root.locator("dl.facts")).to_contain_text(colleague.name)
    # The history names the doctor it left and the one it went to.
    timeline = page.locator(".timeline")
    expect(timeline).to_contain_text(away.name)
    expect(timeline).to_contain_text(colleague.name)


def test_an_appointment_moves_to_another_doctor_and_stays_confirmed(
    page: Page, clinic: Clinic
) -> None:
    move_to_another_doctor(page, clinic, scripted=True)


def test_a_move_to_another_doctor_works_with_javascript_off(
    no_js_page: Page, clinic: Clinic
) -> None:
    move_to_another_doctor(no_js_page, clinic, scripted=False)


def undo_a_mistaken_no_show(page: Page, clinic: Clinic) -> None:
    """A patient marked absent walks in: the desk takes the no-show back in one click."""
    started = clinic_now().replace(second=0, microsecond=0) - timedelta(minutes=20)
    # Booked an hour before it started: the bus on a clock of then, the pages on the real one.
    saved = clinic.bus.clock
    clinic.bus.clock = lambda: started - timedelta(hours=1)
    try:
        booked = clinic.book(started, minutes=15, patient=1)
        clinic.bus.handle(ConfirmAppointment(appointment_id=booked))
    finally:
        clinic.bus.clock = saved
    clinic.wait_for_read_models()
    page.goto(f"/appointments/{booked}")
    root = page.locator("article#appointment")
    root.get_by_role("button", name="No-show").click()
    expect(page.locator("article#appointment")).to_have_attribute("data-status", "no_show")
    # One click, beside the action just done.
    page.get_by_role("button", name="Undo no-show").click()
    expect(page.locator("article#appointment")).to_have_attribute("data-status", "confirmed")
    expect(page.get_by_text("No-show undone.")).to_be_visible()
    timeline = page.locator(".timeline")
    expect(timeline).to_contain_text("Appointment marked no show")
    expect(timeline).to_contain_text("No-show undone")
    # The doctor's time is held again, so the patient can be checked in.
    expect(
        page.locator("article#appointment").get_by_role("button", name="Check in")
    ).to_be_visible()


def test_a_mistaken_no_show_is_undone_in_one_click(page: Page, clinic: Clinic) -> None:
    undo_a_mistaken_no_show(page, clinic)


def test_a_mistaken_no_show_is_undone_with_javascript_off(no_js_page: Page, clinic: Clinic) -> None:
    undo_a_mistaken_no_show(no_js_page, clinic)


def catch_a_duplicate_patient(page: Page, clinic: Clinic, *, scripted: bool) -> None:
    """On the phone, the desk registers a caller already known, names the other way round:
    the form shows the registered patient, the desk uses them and books; no second record."""
    known = clinic.patients[0]  # Camille Durand <tag>, born 1984-05-17
    page.goto("/appointments/new")
    page.wait_for_load_state("load")  # htmx listening before the first click
    page.get_by_label("Reason for the visit").fill("Sore throat")
    page.get_by_text("Register a new patient").click()
    first, last, tag = known.name.split()
    page.get_by_label("Full name").fill(f"{last.upper()} {first} {tag}")
    page.get_by_label("Date of birth").fill("1984-05-17")
    page.get_by_role("button", name="Register patient").click()
    notice = page.locator("#look-alikes")
    expect(notice).to_contain_text("Nothing has been registered yet")
    offered = notice.locator(f'li[data-patient-id="{known.id}"]')
    expect(offered).to_contain_text(known.name)
    expect(offered).to_contain_text("same name and date of birth")
    expect(page.get_by_role("button", name="Register anyway")).to_be_visible()
    offered.get_by_role("button", name="Use this patient").click()
    expect(page.get_by_label(re.compile(known.name))).to_be_checked()
    expect(page.locator("#look-alikes")).to_have_count(0)
    expect(page.get_by_label("Reason for the visit")).to_have_value("Sore throat")
    if scripted:
        expect(page.get_by_text("nothing new was registered")).to_be_visible()

    day = upcoming("11:00").date().isoformat()
    page.get_by_label("Day", exact=True).fill(day)
    doctor = str(clinic.doctors[0].id)
    if scripted:
        with page.expect_response(lambda r: "/slots?" in r.url and f"doctor_id={doctor}" in r.url):
            page.get_by_label("Doctor").select_option(doctor)
    else:
        page.get_by_label("Doctor").select_option(doctor)
        page.get_by_role("button", name="Show free times").click()
    page.get_by_label("11:00").check()
    page.get_by_role("button", name="Book appointment").click()
    root = page.locator("article#appointment")
    expect(root).to_have_attribute("data-status", "confirmed")
    expect(root.locator("dl.facts")).to_contain_text(known.name)
    with clinic.read_engine.connect() as conn:
        namesakes = conn.scalar(
            sa.select(sa.func.count()).where(rm.patients.c.full_name.like(f"%{tag}"))
        )
    assert namesakes == len(clinic.patients), "a second record of a known patient"


def test_a_duplicate_patient_is_caught_at_registration(page: Page, clinic: Clinic) -> None:
    catch_a_duplicate_patient(page, clinic, scripted=True)


def test_a_duplicate_patient_is_caught_with_javascript_off(
    no_js_page: Page, clinic: Clinic
) -> None:
    catch_a_duplicate_patient(no_js_page, clinic, scripted=False)
