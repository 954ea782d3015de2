"""The appointment pages on PostgreSQL, through the test client: booking, actions, conflicts,
read-your-writes. Without a broker the app projects right after each commit; the tests about
lag give it a broker that no worker listens to."""

from __future__ import annotations

import re
import uuid

import pytest

from .desk import TODAY, Desk, open_desk
from .projecting import catch_up
from .webclient import Staff, page_text


def appointment_id(response) -> str:
    return re.search(r"/appointments/([0-9a-f-]{36})", response.headers["Location"]).group(1)


def status_of(page: str, appointment: str) -> str:
    found = re.search(rf'data-appointment-id="{appointment}" data-status="(\w+)"', page)
    assert found, f"appointment {appointment} not on the page"
    return found.group(1)


def version_of(page: str, appointment: str) -> str:
    return re.search(rf'data-appointment-id="{appointment}"[^>]*data-version="(\d+)"', page).group(
        1
    )


# -- booking --


def test_booking_redirects_to_the_new_appointment_shown_pending(desk):
    response = desk.book()
    assert response.status_code == 303
    booked = appointment_id(response)
    page = page_text(desk.staff.get(response.headers["Location"]))
    assert status_of(page, booked) == "pending"
    assert "Patient 0" in page and "Mon 11 Jan 2027, 09:00" in page
    assert "Appointment created" in page  # the history timeline


def test_pressing_book_twice_books_once(desk):
    command_id = str(uuid.uuid4())
    first = desk.book(command_id=command_id)
    before = desk.events()
    second = desk.book(command_id=command_id)
    assert appointment_id(first) == appointment_id(second)
    assert desk.events() == before


def test_bad_booking_input_comes_back_with_messages_and_what_was_typed(desk):
    before = desk.events()
    response = desk.book(starts="tomorrow at ten", title="Kept", duration_minutes="ninety")
    assert response.status_code == 422
    page = page_text(response)
    assert "is not a date and time (YYYY-MM-DDTHH:MM)" in page
    assert "The duration must be a whole number." in page
    assert 'value="ninety"' in page and 'value="Kept"' in page  # kept as typed
    assert 'aria-invalid="true"' in page
    untitled = desk.book(title="   ")
    assert untitled.status_code == 422
    assert "The reason for the visit is required." in page_text(untitled)
    assert desk.events() == before


def test_a_taken_slot_is_not_offered_and_a_forced_double_booking_is_refused(desk):
    desk.book(f"{TODAY}T09:00")
    slots = page_text(
        desk.staff.get(f"/appointments/new/slots?doctor_id={desk.clinic.doctor_id}&day={TODAY}")
    )
    assert f'value="{TODAY}T09:15"' in slots
    assert f'value="{TODAY}T09:00"' not in slots
    before = desk.events()
    response = desk.book(f"{TODAY}T09:00", patient_id=str(desk.clinic.patient_ids[1]))
    assert response.status_code == 409
    assert "already has an appointment" in page_text(response)
    assert desk.events() == before


def test_a_time_the_clocks_skip_is_refused_with_a_message(desk):
    response = desk.book("2027-03-28T02:30")
    assert response.status_code == 422
    assert "the clocks go forward" in page_text(response)


def test_booking_without_a_csrf_token_is_refused_and_writes_nothing(desk):
    before = desk.events()
    response = desk.staff.client.post(
        "/appointments",
        data={"patient_id": str(desk.clinic.patient_ids[0]), "title": "x"},
    )
    assert response.status_code == 400
    assert desk.events() == before


def test_patients_found_as_you_type_and_registered_without_losing_the_form(desk):
    found = desk.staff.htmx_get("/appointments/new/patients?q=patient 1", "patient-matches")
    assert "<html" not in page_text(found) and "Patient 1" in page_text(found)
    response = desk.staff.post(
        "/appointments/new/patient",
        {"full_name": "Zoé New", "date_of_birth": "1990-05-06", "phone": "0600000001",
         "doctor_id": str(desk.clinic.doctor_id), "day": TODAY, "title": "First visit"},
    )  # fmt: skip
    assert response.status_code == 303
    location = response.headers["Location"]
    assert "title=First+visit" in location and f"doctor_id={desk.clinic.doctor_id}" in location
    page = page_text(desk.staff.get(location))
    assert re.search(r'name="patient_id" value="[0-9a-f-]+" checked', page)
    assert "Zoé New" in page and 'value="First visit"' in page


def test_registering_a_patient_with_bad_input_keeps_the_booking(desk):
    response = desk.staff.post(
        "/appointments/new/patient", {"full_name": "", "title": "Kept"}, htmx="patient-picker"
    )
    assert response.status_code == 422
    assert "The patient&#39;s name is required." in page_text(response)


# -- actions on an appointment --


def booked(desk: Desk, starts: str = f"{TODAY}T09:00") -> str:
    return appointment_id(desk.book(starts))


def test_confirm_from_a_row_updates_the_row_in_place(desk):
    appointment = booked(desk)
    response = desk.staff.post(
        f"/appointments/{appointment}/confirm",
        {"expected_version": "1", "context": "queue", "command_id": str(uuid.uuid4())},
        method="PUT",
        htmx="queue",
    )
    assert response.status_code == 200
    fragment = page_text(response)
    assert fragment.lstrip().startswith("<tr")
    assert status_of(fragment, appointment) == "confirmed"
    assert response.headers["HX-Trigger"] == "appointment-changed"


def test_the_full_day_goes_pending_confirmed_checked_in_completed_without_javascript(desk):
    appointment = booked(desk)
    for slug, status in (("confirm", "confirmed"), ("check-in", "checked_in"),
                         ("complete", "completed")):  # fmt: skip
        page = page_text(desk.staff.get(f"/appointments/{appointment}"))
        response = desk.staff.post(
            f"/appointments/{appointment}/{slug}",
            {"expected_version": version_of(page, appointment), "next": "/"},
        )
        assert response.status_code == 303 and response.headers["Location"].startswith("/?expect=")
        page = page_text(desk.staff.get(response.headers["Location"]))
        assert status_of(page, appointment) == status
    assert "Visit completed." in page


def test_a_stale_confirm_gets_a_conflict_saying_what_changed(desk):
    appointment = booked(desk)
    page = page_text(desk.staff.get(f"/appointments/{appointment}"))
    seen = version_of(page, appointment)
    other = Staff(desk.staff.client.application)
    other.get("/")
    cancelled = other.post(
        f"/appointments/{appointment}/cancel", {"expected_version": seen, "reason": "Flu"}
    )
    assert cancelled.status_code == 303
    before = desk.events()
    response = desk.staff.post(f"/appointments/{appointment}/confirm", {"expected_version": seen})
    assert response.status_code == 409
    text = page_text(response)
    assert "cancelled" in text.lower() and "Reload to see the current version" in text
    assert desk.events() == before
    htmx = desk.staff.post(
        f"/appointments/{appointment}/confirm",
        {"expected_version": seen, "context": "list"},
        method="PUT",
        htmx="list",
    )
    assert htmx.status_code == 409
    assert status_of(page_text(htmx), appointment) == "cancelled"  # the row, as it is now


def test_cancelling_needs_a_reason_next_to_the_field(desk):
    appointment = booked(desk)
    before = desk.events()
    response = desk.staff.post(
        f"/appointments/{appointment}/cancel", {"expected_version": "1", "reason": "  "}
    )
    assert response.status_code == 422
    assert "The reason for cancelling is required." in page_text(response)
    assert desk.events() == before


def test_an_action_the_status_does_not_allow_is_refused_with_the_reason(desk):
    appointment = booked(desk)
    response = desk.staff.post(f"/appointments/{appointment}/complete", {"expected_version": "1"})
    assert response.status_code == 409
    assert "Only an appointment whose patient has checked in can be completed" in page_text(
        response
    )


def test_reschedule_to_a_free_slot_and_not_to_a_taken_one(desk):
    appointment = booked(desk, f"{TODAY}T09:00")
    booked(desk, f"{TODAY}T10:00")
    form = page_text(desk.staff.get(f"/appointments/{appointment}/reschedule?day={TODAY}"))
    assert f'value="{TODAY}T10:00"' not in form and f'value="{TODAY}T11:00"' in form
    taken = desk.staff.post(
        f"/appointments/{appointment}/reschedule",
        {"expected_version": "1", "starts_at": f"{TODAY}T10:00", "duration_minutes": "15",
         "context": "reschedule", "day": TODAY},
    )  # fmt: skip
    assert taken.status_code == 409
    assert "already has an appointment" in page_text(taken)
    moved = desk.staff.post(
        f"/appointments/{appointment}/reschedule",
        {"expected_version": "1", "starts_at": f"{TODAY}T11:00", "duration_minutes": "30",
         "context": "reschedule"},
    )  # fmt: skip
    assert moved.status_code == 303
    page = page_text(desk.staff.get(moved.headers["Location"]))
    assert "Mon 11 Jan 2027, 11:00 \N{EN DASH} 11:30" in page


def colleague(desk: Desk) -> str:
    from app.commands import RegisterDoctor, SetWorkingHours

    from ..clinic import WEEKDAYS

    bus = desk.services.bus
    doctor = bus.handle(RegisterDoctor(full_name="Dr Jules Petit", specialty="Paediatrics"))
    bus.handle(SetWorkingHours(doctor_id=doctor.stream_id, hours=WEEKDAYS, slot_minutes=15))
    catch_up(desk.services.projector)
    return str(doctor.stream_id)


def test_reschedule_moves_to_another_doctor_s_free_time_and_stays_confirmed(desk):
    other = colleague(desk)
    appointment = appointment_id(desk.book(confirmed="1"))
    booked(desk, f"{TODAY}T10:00")  # Dr Martin's, not Dr Petit's
    form = page_text(
        desk.staff.get(f"/appointments/{appointment}/reschedule?day={TODAY}&doctor_id={other}")
    )
    assert "Free times of Dr Jules Petit on" in form
    assert f'<option value="{other}" selected>' in form
    assert f'name="doctor_id" value="{other}"' in form
    # Dr Petit's 10:00 is free; the appointment was confirmed, and the move keeps it so.
    assert f'value="{TODAY}T10:00"' in form
    assert re.search(r'id="f-confirmed-yes"[^>]*checked', form)
    moved = desk.staff.post(
        f"/appointments/{appointment}/reschedule",
        {"expected_version": "2", "starts_at": f"{TODAY}T10:00", "duration_minutes": "15",
         "doctor_id": other, "confirmed": "1", "context": "reschedule",
         "command_id": str(uuid.uuid4())},
    )  # fmt: skip
    assert moved.status_code == 303
    catch_up(desk.services.projector)
    page = page_text(desk.staff.get(f"/appointments/{appointment}"))
    assert "Dr Jules Petit" in page and "Confirmed" in page
    # The history names both doctors, not their ids.
    assert "Dr Ada Martin" in page and str(desk.clinic.doctor_id) not in page


def test_reschedule_can_ask_the_patient_to_confirm_again(desk):
    appointment = appointment_id(desk.book(confirmed="1"))
    moved = desk.staff.post(
        f"/appointments/{appointment}/reschedule",
        {"expected_version": "2", "starts_at": f"{TODAY}T11:00", "duration_minutes": "15",
         "confirmed": "0", "context": "reschedule", "command_id": str(uuid.uuid4())},
    )  # fmt: skip
    assert moved.status_code == 303
    catch_up(desk.services.projector)
    assert "Pending" in page_text(desk.staff.get(f"/appointments/{appointment}"))


def test_reschedule_to_a_doctor_who_does_not_exist_says_so_and_writes_nothing(desk):
    appointment = booked(desk)
    before = desk.events()
    refused = desk.staff.post(
        f"/appointments/{appointment}/reschedule",
        {"expected_version": "1", "starts_at": f"{TODAY}T11:00", "duration_minutes": "15",
         "doctor_id": str(uuid.uuid4()), "context": "reschedule", "day": TODAY},
    )  # fmt: skip
    # The form comes back, its error beside the free times.
    assert refused.status_code == 422
    assert '<p class="error">No doctor with that id is registered.</p>' in page_text(refused)
    assert desk.events() == before


def test_the_detail_page_shows_an_earlier_version(desk):
    appointment = booked(desk)
    desk.staff.post(f"/appointments/{appointment}/confirm", {"expected_version": "1"})
    current = page_text(desk.staff.get(f"/appointments/{appointment}"))
    assert "See it as it was then" in current
    then = page_text(desk.staff.get(f"/appointments/{appointment}?version=1"))
    assert "As it was at version 1 of 2" in then and "Pending" in then
    assert desk.staff.get(f"/appointments/{appointment}?version=9").status_code == 404


def test_unknown_and_malformed_ids_are_404_pages(desk):
    assert desk.staff.get(f"/appointments/{uuid.uuid4()}").status_code == 404
    response = desk.staff.get("/appointments/not-a-uuid")
    assert response.status_code == 404 and "Traceback" not in page_text(response)
    assert desk.staff.post(f"/appointments/{uuid.uuid4()}/confirm", {}).status_code == 404


def test_names_and_reasons_are_shown_escaped(desk):
    response = desk.book(title="<script>alert(1)</script>")
    page = page_text(desk.staff.get(response.headers["Location"]))
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


# -- pages --


def test_today_counts_the_day_and_queues_what_awaits_confirmation(desk):
    first = booked(desk, f"{TODAY}T09:00")
    tomorrow = booked(desk, "2027-01-12T09:00")
    desk.staff.post(f"/appointments/{first}/confirm", {"expected_version": "1"})
    page = page_text(desk.staff.get("/"))
    assert re.search(r'data-count-status="confirmed">.*?<span class="count">1</span>', page, re.S)
    assert re.search(r'data-count-status="pending">.*?<span class="count">0</span>', page, re.S)
    queue = page[page.index('id="queue"') :]
    assert tomorrow in queue and first not in queue
    board = desk.staff.htmx_get(f"/?day={TODAY}", "day-board")
    assert page_text(board).lstrip().startswith('<section id="day-board"')


def test_the_list_filters_and_pages_by_keyset(desk):
    ids = [booked(desk, f"{TODAY}T{hour}:00") for hour in ("09", "10", "11", "14")]
    desk.staff.post(f"/appointments/{ids[1]}/cancel", {"expected_version": "1", "reason": "Ill"})
    page = page_text(desk.staff.get("/appointments?status=cancelled"))
    assert ids[1] in page and ids[0] not in page
    from app.web import appointments as view

    view.PAGE_SIZE = 2
    try:
        first = page_text(desk.staff.get(f"/appointments?from={TODAY}"))
    finally:
        view.PAGE_SIZE = 50
    following = re.search(r'href="([^"]+after=[^"]+)"', first).group(1).replace("&amp;", "&")
    second = page_text(desk.staff.get(following))
    assert [i in first for i in ids] == [True, True, False, False]
    assert [i in second for i in ids] == [False, False, True, True]
    fragment = desk.staff.htmx_get("/appointments?q=patient", "results")
    assert page_text(fragment).lstrip().startswith('<section id="results"')
    stale = page_text(desk.staff.get("/appointments?after=garbage"))
    assert "That page link is out of date" in stale


def test_pages_carry_no_inline_script_or_style_and_a_strict_policy(desk):
    appointment = booked(desk)
    for url in ("/", "/appointments", f"/appointments/{appointment}", "/appointments/new",
                f"/appointments/{appointment}/reschedule"):  # fmt: skip
        response = desk.staff.get(url)
        page = page_text(response)
        assert response.status_code == 200, url
        assert not re.search(r"<script(?![^>]*\bsrc=)", page), url
        assert " style=" not in page and "<style" not in page, url
        policy = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in policy and "unsafe-inline" not in policy
        # Every input a person fills in has a label.
        for field in re.findall(r'<(?:input|select)[^>]*\bid="([^"]+)"', page):
            assert f'for="{field}"' in page, (url, field)


# -- read-your-writes and lag, with projections left to a worker that is not there --


@pytest.fixture
def lagging_desk(brokered_app, clock):
    """The desk on an app whose broker no worker listens to: nothing projects by itself."""
    app = brokered_app(READ_YOUR_WRITES_SECONDS=0.05, FRESHNESS_CACHE_SECONDS=0)
    return open_desk(app, clock)


def test_a_change_not_yet_projected_shows_updating_until_it_is(lagging_desk):
    catch_up(lagging_desk.services.projector)
    response = lagging_desk.book()
    booked_id = appointment_id(response)
    page = page_text(lagging_desk.staff.get(response.headers["Location"]))
    assert "Your change is saved; updating" in page and 'http-equiv="refresh"' in page
    catch_up(lagging_desk.services.projector)
    page = page_text(lagging_desk.staff.get(response.headers["Location"]))
    assert "updating" not in page and status_of(page, booked_id) == "pending"
    row = lagging_desk.staff.post(
        f"/appointments/{booked_id}/confirm",
        {"expected_version": "1", "context": "list"},
        method="PUT",
        htmx="list",
    )
    fragment = page_text(row)
    assert status_of(fragment, booked_id) == "pending" and 'hx-trigger="every 1s"' in fragment
    poll = re.search(r'hx-get="([^"]+)"', fragment).group(1).replace("&amp;", "&")
    catch_up(lagging_desk.services.projector)
    fresh = page_text(lagging_desk.staff.htmx_get(poll, "row"))
    assert status_of(fresh, booked_id) == "confirmed" and "every 1s" not in fresh


def test_pages_say_when_the_read_models_lag(lagging_desk, clock):
    catch_up(lagging_desk.services.projector)
    assert "Shown as of" not in page_text(lagging_desk.staff.get("/"))
    lagging_desk.book()
    clock.advance(seconds=10)
    page = page_text(lagging_desk.staff.get("/"))
    assert "Shown as of 08:00:00, updating" in page
    catch_up(lagging_desk.services.projector)
    assert "Shown as of" not in page_text(lagging_desk.staff.get("/"))


def test_a_doctor_registered_just_now_is_offered_at_once(desk):
    assert "Dr Ada Martin" in page_text(desk.staff.get("/appointments/new"))
    from app.commands import RegisterDoctor

    desk.services.bus.handle(RegisterDoctor(full_name="Dr Newcomer", specialty="Cardiology"))
    for url in ("/appointments/new", "/appointments"):
        assert "Dr Newcomer" in page_text(desk.staff.get(url)), url


def test_after_an_action_only_an_address_on_this_site_is_followed(desk):
    for hour, target in (("09", "https://elsewhere.example/"), ("10", "//elsewhere.example/x"),
                         ("11", "javascript:alert(1)")):  # fmt: skip
        appointment = booked(desk, f"{TODAY}T{hour}:00")
        response = desk.staff.post(
            f"/appointments/{appointment}/confirm",
            {"expected_version": "1", "next": target, "command_id": str(uuid.uuid4())},
        )
        assert response.headers["Location"].startswith(f"/appointments/{appointment}?expect=")


def test_no_show_is_offered_and_accepted_only_after_the_grace(desk, clock):
    """NO_SHOW_GRACE_MINUTES (10 by default): a patient five minutes late is in the waiting
    room as often as not. Check-in stays open meanwhile."""
    from app.commands import ConfirmAppointment

    appointment = booked(desk, f"{TODAY}T09:00")
    desk.services.bus.handle(ConfirmAppointment(appointment_id=uuid.UUID(appointment)))
    catch_up(desk.services.projector)
    clock.set_local(f"{TODAY} 09:05")
    page = page_text(desk.staff.get(f"/appointments/{appointment}"))
    assert f"/appointments/{appointment}/no-show" not in page
    assert f"/appointments/{appointment}/check-in" in page
    before = desk.events()
    refused = desk.staff.post(f"/appointments/{appointment}/no-show", {"expected_version": "2"})
    assert refused.status_code in (409, 422)
    assert "only from Monday 11 January 2027 at 09:10, 10 min after" in page_text(refused)
    assert desk.events() == before
    clock.set_local(f"{TODAY} 09:10")
    page = page_text(desk.staff.get(f"/appointments/{appointment}"))
    assert f"/appointments/{appointment}/no-show" in page
    marked = desk.staff.post(f"/appointments/{appointment}/no-show", {"expected_version": "2"})
    assert marked.status_code == 303
    assert desk.events() == before + 1


def test_the_no_show_grace_is_a_setting():
    from app.config import ConfigurationError, Settings

    assert Settings.from_env({}).no_show_grace_minutes == 10
    assert Settings.from_env({"NO_SHOW_GRACE_MINUTES": "0"}).no_show_grace_minutes == 0
    with pytest.raises(ConfigurationError, match="NO_SHOW_GRACE_MINUTES"):
        Settings.from_env({"NO_SHOW_GRACE_MINUTES": "-5"})


CONFIRMED_BOX = re.compile(
    r'<input type="checkbox" id="f-confirmed" name="confirmed" value="1"( checked)?>'
)


def test_a_booking_made_with_the_patient_is_confirmed_as_it_is_booked(desk, app):
    fresh = CONFIRMED_BOX.search(page_text(desk.staff.get("/appointments/new")))
    assert fresh and fresh.group(1), "the box starts ticked (BOOK_CONFIRMED)"
    before = desk.events()
    made = desk.book(f"{TODAY}T10:00", confirmed="1")
    assert made.status_code == 303 and desk.events() == before + 2
    page = page_text(desk.staff.get(made.headers["Location"]))
    assert status_of(page, appointment_id(made)) == "confirmed"
    # Left unticked (the box sends nothing), the booking waits in the queue as before.
    later = desk.book(f"{TODAY}T11:00")
    assert status_of(
        page_text(desk.staff.get(later.headers["Location"])), appointment_id(later)
    ) == ("pending")
    # A refused form comes back as it was sent: unticked stays unticked.
    refused = desk.staff.post(
        "/appointments", {"doctor_id": str(desk.clinic.doctor_id), "title": "", "day": TODAY}
    )
    assert refused.status_code == 422
    box = CONFIRMED_BOX.search(page_text(refused))
    assert box and not box.group(1)
    # The clinic may start the form unticked.
    app.config["BOOK_CONFIRMED"] = False
    try:
        box = CONFIRMED_BOX.search(page_text(desk.staff.get("/appointments/new")))
        assert box and not box.group(1)
    finally:
        app.config["BOOK_CONFIRMED"] = True
