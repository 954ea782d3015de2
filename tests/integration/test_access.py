"""Who may do what: every route, for every role, allowed or refused, through real sign-in.

Two doctors, each with a patient and an appointment; the doctor signed in is Dr Ada Martin
(`own`), the other is Dr Lee (`other`). A refused request writes nothing. A role refused at
the door gets 403; a doctor asking for another doctor's record gets the 404 of an unknown
id (a 403 would tell that the record exists), and both refusals are logged."""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass
from uuid import UUID

import pytest

from app.commands import (
    BookSeries,
    JoinWaitlist,
    RecordAbsence,
    RegisterDoctor,
    RegisterPatient,
    SetWorkingHours,
)
from app.commands.series import book_series

from ..clinic import WEEKDAYS, Clinic, local, monday_ahead, open_clinic
from .projecting import catch_up
from .webclient import HTMX, Staff, account, page_text

OK, NO, HIDDEN = "ok", 403, 404
ROLES = ("reception", "doctor", "admin")


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    rules: tuple[str | int, str | int, str | int]  # reception, doctor, admin
    endpoint: str

    def expected(self, role: str) -> str | int:
        return self.rules[ROLES.index(role)]


# {own}/{other}: the signed-in doctor's records and another doctor's; {patient}/{stranger}:
# the doctor's patient and another doctor's patient.
TABLE = [
    Route("GET", "/", (OK, OK, OK), "home.index"),
    Route("GET", "/appointments", (OK, OK, OK), "appointments.index"),
    Route("GET", "/appointments/{own_appt}", (OK, OK, OK), "appointments.detail"),
    Route("GET", "/appointments/{other_appt}", (OK, HIDDEN, OK), "appointments.detail"),
    Route("GET", "/appointments/{own_appt}/row", (OK, OK, OK), "appointments.row"),
    Route("GET", "/appointments/{other_appt}/row", (OK, HIDDEN, OK), "appointments.row"),
    Route(
        "GET", "/appointments/{own_appt}/reschedule", (OK, NO, OK), "appointments.reschedule_form"
    ),
    Route("POST", "/appointments/{own_appt}/confirm", (OK, NO, OK), "appointments.confirm"),
    Route("PUT", "/appointments/{own_appt}/confirm", (OK, NO, OK), "appointments.confirm"),
    Route("POST", "/appointments/{own_appt}/cancel", (OK, NO, OK), "appointments.cancel"),
    Route("POST", "/appointments/{own_appt}/reschedule", (OK, NO, OK), "appointments.reschedule"),
    Route("POST", "/appointments/{own_appt}/check-in", (OK, OK, OK), "appointments.check_in"),
    Route("POST", "/appointments/{other_appt}/check-in", (OK, HIDDEN, OK), "appointments.check_in"),
    Route("POST", "/appointments/{own_appt}/complete", (OK, OK, OK), "appointments.complete"),
    Route("POST", "/appointments/{other_appt}/complete", (OK, HIDDEN, OK), "appointments.complete"),
    Route("POST", "/appointments/{own_appt}/no-show", (OK, OK, OK), "appointments.no_show"),
    Route("POST", "/appointments/{other_appt}/no-show", (OK, HIDDEN, OK), "appointments.no_show"),
    Route("POST", "/appointments/{own_appt}/undo", (OK, OK, OK), "appointments.undo"),
    Route("POST", "/appointments/{other_appt}/undo", (OK, HIDDEN, OK), "appointments.undo"),
    Route("GET", "/appointments/new", (OK, NO, OK), "booking.new"),
    Route("GET", "/appointments/new/patients?q=pat", (OK, NO, OK), "booking.patient_matches"),
    Route("GET", "/appointments/new/slots?doctor_id={own}", (OK, NO, OK), "booking.slots"),
    Route("POST", "/appointments/new/patient", (OK, NO, OK), "booking.register_patient"),
    Route("POST", "/appointments", (OK, NO, OK), "booking.create"),
    Route("POST", "/appointments/series", (OK, NO, OK), "series.create"),
    Route("GET", "/appointments/series/{series}", (OK, NO, OK), "series.detail"),
    Route("POST", "/appointments/series/{series}/cancel", (OK, NO, OK), "series.cancel"),
    Route("GET", "/waitlist", (OK, NO, OK), "waitlist.index"),
    Route("GET", "/waitlist/new?patient_id={patient}", (OK, NO, OK), "waitlist.new"),
    Route("POST", "/waitlist", (OK, NO, OK), "waitlist.join"),
    Route("POST", "/waitlist/{waiting}/book", (OK, NO, OK), "waitlist.book"),
    Route("POST", "/waitlist/{waiting}/remove", (OK, NO, OK), "waitlist.remove"),
    Route("GET", "/patients", (OK, NO, OK), "patients.index"),
    Route("POST", "/patients", (OK, NO, OK), "patients.register"),
    Route("GET", "/patients/{patient}", (OK, OK, OK), "patients.detail"),
    Route("GET", "/patients/{stranger}", (OK, HIDDEN, OK), "patients.detail"),
    Route("POST", "/patients/{patient}", (OK, NO, OK), "patients.change"),
    Route("POST", "/patients/{patient}/reminders", (OK, NO, OK), "patients.set_reminders"),
    Route("GET", "/patients/{patient}/merge", (NO, NO, OK), "patients.merge_form"),
    Route("POST", "/patients/{patient}/merge", (NO, NO, OK), "patients.merge"),
    Route("GET", "/doctors", (OK, NO, OK), "doctors.index"),
    Route("POST", "/doctors", (NO, NO, OK), "doctors.register"),
    Route("GET", "/doctors/{own}", (OK, OK, OK), "doctors.detail"),
    Route("GET", "/doctors/{other}", (OK, HIDDEN, OK), "doctors.detail"),
    Route("POST", "/doctors/{own}/hours", (NO, NO, OK), "doctors.set_hours"),
    # The desk records any doctor's absences and one-off hours; a doctor only their own.
    # Another doctor's first: a success's message shows on the next page, which must be
    # word for word the unknown id's for those hidden.
    Route("POST", "/doctors/{other}/absences", (OK, HIDDEN, OK), "doctors.record_absence"),
    Route(
        "GET", "/doctors/{other}/absences/{other_absence}", (OK, HIDDEN, OK), "doctors.absence_form"
    ),
    Route(
        "POST",
        "/doctors/{other}/absences/{other_absence}",
        (OK, HIDDEN, OK),
        "doctors.change_absence",
    ),
    Route(
        "POST",
        "/doctors/{other}/absences/{other_absence}/cancel",
        (OK, HIDDEN, OK),
        "doctors.cancel_absence",
    ),
    Route("POST", "/doctors/{other}/day-hours", (OK, HIDDEN, OK), "doctors.set_day_hours"),
    Route("POST", "/doctors/{other}/day-hours/clear", (OK, HIDDEN, OK), "doctors.clear_day_hours"),
    Route("POST", "/doctors/{own}/absences", (OK, OK, OK), "doctors.record_absence"),
    Route("GET", "/doctors/{own}/absences/{absence}", (OK, OK, OK), "doctors.absence_form"),
    Route("POST", "/doctors/{own}/absences/{absence}", (OK, OK, OK), "doctors.change_absence"),
    Route(
        "POST", "/doctors/{own}/absences/{absence}/cancel", (OK, OK, OK), "doctors.cancel_absence"
    ),
    Route("POST", "/doctors/{own}/day-hours", (OK, OK, OK), "doctors.set_day_hours"),
    Route("POST", "/doctors/{own}/day-hours/clear", (OK, OK, OK), "doctors.clear_day_hours"),
    Route("GET", "/call-list", (OK, OK, OK), "call_list.index"),
    Route("GET", "/settings", (NO, NO, OK), "settings.index"),
    Route("POST", "/settings/closures", (NO, NO, OK), "settings.close"),
    Route("POST", "/settings/closures/2027-12-25/reopen", (NO, NO, OK), "settings.reopen"),
    Route("POST", "/settings/hours", (NO, NO, OK), "settings.set_hours"),
    Route("POST", "/settings/contact", (NO, NO, OK), "settings.set_contact"),
    Route("POST", "/settings/visit-types", (NO, NO, OK), "settings.define_visit_type"),
    Route(
        "POST", "/settings/visit-types/{absence}/retire", (NO, NO, OK), "settings.retire_visit_type"
    ),
    Route("GET", "/calendar/first-available?doctor_id={own}", (OK, OK, OK), "first_free.index"),
    Route(
        "GET", "/calendar/first-available?doctor_id={other}", (OK, HIDDEN, OK), "first_free.index"
    ),
    Route("GET", "/doctors/{own}/as-of?at=2020-01-06T09:00", (OK, OK, OK), "past.doctor_day"),
    Route("GET", "/doctors/{other}/as-of?at=2020-01-06T09:00", (OK, HIDDEN, OK), "past.doctor_day"),
    Route("GET", "/calendar", (OK, OK, OK), "calendar.day"),
    Route("GET", "/calendar?print=1", (OK, OK, OK), "calendar.day"),
    Route("GET", "/calendar/week", (OK, OK, OK), "calendar.week"),
    Route("GET", "/appointments/export.csv", (OK, OK, OK), "exports.appointments_csv"),
    Route("POST", "/doctors/{own}/calendar-link", (NO, OK, OK), "exports.issue_feed"),
    Route("POST", "/doctors/{other}/calendar-link", (NO, HIDDEN, OK), "exports.issue_feed"),
    Route("GET", "/admin/users", (NO, NO, OK), "admin.users"),
    Route("POST", "/admin/users", (NO, NO, OK), "admin.create_user"),
    Route("POST", "/admin/users/test-reception/active", (NO, NO, OK), "admin.set_active"),
    Route("POST", "/admin/users/test-reception/password", (NO, NO, OK), "admin.set_password"),
    Route("GET", "/ops", (NO, NO, OK), "ops.index"),
    Route("GET", "/ops/projections/patients", (NO, NO, OK), "ops.projection"),
    Route("GET", "/ops/charts", (NO, NO, OK), "ops.charts"),
    Route("POST", "/ops/projections/patients/retry", (NO, NO, OK), "ops.retry"),
    Route("POST", "/ops/projections/patients/skip", (NO, NO, OK), "ops.skip"),
    Route("POST", "/ops/reminders/no-such-key/retry", (NO, NO, OK), "ops.retry_reminder"),
    # An unknown projection: the admin gets past the door (404) without starting a rebuild.
    Route("POST", "/ops/projections/unknown/rebuild", (NO, NO, OK), "ops.rebuild"),
    # Open at the door; the view lets in admins (and the metrics token: test_metrics.py).
    Route("GET", "/metrics", (NO, NO, OK), "metrics.scrape"),
    Route("POST", "/account/locale", (OK, OK, OK), "account.set_locale"),
    Route("POST", "/logout", (OK, OK, OK), "auth.logout"),
]
# The patient's page: its signed link is the key (tests/integration/test_patient_page.py).
PATIENT_PAGE = {"patient_page.show", "patient_page.confirm", "patient_page.cancel"}
PUBLIC = {"static", "auth.login", "health.live", "health.ready", "exports.feed", *PATIENT_PAGE}
# Answers 401 without a session, not the sign-in page: a scraper is not a browser.
NOT_A_PAGE = {"metrics.scrape"}


@dataclass
class Places:
    clinic: Clinic
    ids: dict[str, UUID]

    def url(self, route: Route) -> str:
        return route.path.format(**self.ids)

    def unknown_url(self, route: Route) -> str:
        """The same address with an id that names no record."""
        return route.path.format(**{name: uuid.uuid4() for name in self.ids})


@pytest.fixture
def places(pg_app, pg_engine) -> Places:  # type: ignore[no-untyped-def]
    services = pg_app.extensions["rendezvous"]
    bus = services.bus
    clinic = open_clinic(bus, patients=1)
    other = bus.handle(RegisterDoctor(full_name="Dr Lee", specialty="Dermatology")).stream_id
    bus.handle(SetWorkingHours(doctor_id=other, hours=WEEKDAYS, slot_minutes=15))
    stranger = bus.handle(
        RegisterPatient(full_name="Sam Stranger", date_of_birth="1990-01-01", phone="0600000000")
    ).stream_id
    day = monday_ahead()
    own_appt = clinic.book(f"{day} 09:00")
    clinic.patient_ids.append(stranger)
    other_clinic = Clinic(bus, other, [stranger])
    other_appt = other_clinic.book(f"{day} 10:00")
    absences = {
        doctor: bus.handle(
            RecordAbsence(
                doctor_id=doctor,
                starts_at=local(f"{monday_ahead(8)} 00:00"),
                ends_at=local(f"{monday_ahead(9)} 00:00"),
                reason="training",
            )
        ).stream_id
        for doctor in (clinic.doctor_id, other)
    }
    series = book_series(
        bus,
        BookSeries(
            patient_id=clinic.patient_ids[0],
            doctor_id=clinic.doctor_id,
            starts_at=local(f"{monday_ahead(3)} 09:00"),
            duration_minutes=30,
            title="Course",
            every_weeks=1,
            occurrences=3,
        ),
        None,
    ).series.stream_id
    waiting = bus.handle(
        JoinWaitlist(
            patient_id=clinic.patient_ids[0],
            doctor_id=clinic.doctor_id,
            until_day=monday_ahead(4),
            title="Earlier",
        )
    ).stream_id
    catch_up(services.projector)
    for role in ("reception", "admin"):
        account(pg_app, role)
    account(pg_app, "doctor", clinic.doctor_id)
    ids = {
        "own": clinic.doctor_id,
        "other": other,
        "patient": clinic.patient_ids[0],
        "stranger": stranger,
        "own_appt": own_appt,
        "other_appt": other_appt,
        # Each doctor's absence.
        "absence": services.store.load(absences[clinic.doctor_id])[-1].event.absence_id,
        "other_absence": services.store.load(absences[other])[-1].event.absence_id,
        "series": series,
        "waiting": waiting,
    }
    return Places(clinic, ids)


def _staff(app, role: str, places: Places) -> Staff:  # type: ignore[no-untyped-def]
    return Staff(app, role, places.ids["own"] if role == "doctor" else None)


def _send(staff: Staff, route: Route, url: str):  # type: ignore[no-untyped-def]
    if route.method == "GET":
        return staff.client.get(url)
    # A form that would be valid enough to reach the command: ids and a fresh command id.
    form = {"command_id": str(uuid.uuid4()), "reason": "Asked by the patient"}
    return staff.post(url, form, method=route.method)


def _tokenless(response) -> str:  # type: ignore[no-untyped-def]
    """The page without its CSRF token, which is signed with the second it was made in, nor
    the language switch's way back to the address asked for (the page's own, not a record's)."""
    token = (
        r'(csrf-token" content="|"X-CSRFToken": "|name="csrf_token" value="|name="next" value=")'
        r'[^"]+'
    )
    return re.sub(token, r"\1", page_text(response))


@pytest.mark.parametrize("role", ROLES)
def test_every_route_is_allowed_or_refused_by_role(pg_app, places, role, caplog):
    services = pg_app.extensions["rendezvous"]
    staff = _staff(pg_app, role, places)
    wrong = []
    for route in TABLE:
        if route.endpoint == "auth.logout":
            continue  # signs this client out; checked on its own below
        before = services.store.count()
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="rendezvous.access"):
            response = _send(staff, route, places.url(route))
        expected = route.expected(role)
        status = response.status_code
        # Past the door, the unknown projection is a 404 of its own (see TABLE).
        hidden = status == HIDDEN and route.endpoint != "ops.rebuild"
        got = status if status == NO or hidden else OK
        if got != expected:
            wrong.append(f"{route.method} {route.path}: {status}, want {expected}")
            continue
        if expected != OK:
            assert services.store.count() == before, f"{route.path} wrote while refusing"
            assert f"permission refused: {route.method}" in caplog.text, route.path
        if expected == NO:
            assert "Your role does not allow this" in page_text(response)
        elif expected == HIDDEN:
            # Word for word the answer for an id that names nothing.
            unknown = _send(staff, route, places.unknown_url(route))
            assert (unknown.status_code, _tokenless(unknown)) == (404, _tokenless(response))
        assert response.status_code < 500, f"{route.method} {route.path}: {response.status_code}"
        # Still signed in: a refusal is not a sign-out.
        assert "/login" not in response.headers.get("Location", ""), route.path
    assert not wrong, "\n".join(wrong)


def test_the_table_covers_every_route(pg_app):
    endpoints = {rule.endpoint for rule in pg_app.url_map.iter_rules()}
    assert endpoints - PUBLIC == {route.endpoint for route in TABLE}


def test_without_signing_in_every_page_leads_to_the_sign_in_page(pg_app, places):
    client = pg_app.test_client()
    for route in TABLE:
        if route.method != "GET" or route.endpoint in NOT_A_PAGE:
            continue
        url = places.url(route)
        response = client.get(url)
        assert response.status_code in (302, 303), url
        assert response.headers["Location"].startswith("/login"), url
    # Back to the page asked for, once signed in.
    response = client.get(f"/patients/{places.ids['patient']}")
    assert "next=/patients/" in response.headers["Location"]


def test_htmx_requests_get_a_header_redirect_not_a_sign_in_page_in_a_fragment(pg_app, places):
    page = f"http://localhost/appointments?doctor_id={places.ids['own']}"
    response = pg_app.test_client().get(
        "/appointments?status=pending",
        headers={**HTMX, "HX-Target": "results", "HX-Current-URL": page},
    )
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login?next=")
    assert "doctor_id" in response.headers["HX-Redirect"]  # back to the page, not the fragment
    assert "<form" not in page_text(response)


def test_a_doctor_sees_only_their_own_day_and_appointments(pg_app, places):
    staff = _staff(pg_app, "doctor", places)
    listing = page_text(staff.client.get("/appointments?from="))
    assert str(places.ids["own_appt"]) in listing
    assert str(places.ids["other_appt"]) not in listing
    # Asking for the other doctor's list still shows only their own.
    listing = page_text(staff.client.get(f"/appointments?from=&doctor_id={places.ids['other']}"))
    assert str(places.ids["other_appt"]) not in listing
    # Read-only: no booking, no confirm or cancel buttons on their own appointment.
    detail = page_text(staff.client.get(f"/appointments/{places.ids['own_appt']}"))
    assert "/confirm" not in detail and "/cancel" not in detail
    assert "Book an appointment" not in page_text(staff.client.get("/"))


def test_signing_out_ends_the_session(pg_app, places):
    staff = _staff(pg_app, "reception", places)
    response = staff.post("/logout", {})
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    after = staff.client.get("/")
    assert after.status_code == 303 and after.headers["Location"].startswith("/login")


def test_the_bus_checks_every_command_whoever_calls_it(pg_app, places):
    """The last word is the command bus's: the same rules hold without the web."""
    from app.commands import CheckInAppointment, ConfirmAppointment, RegisterDoctor
    from app.domain.errors import ForbiddenError
    from app.domain.staff import Principal, Role

    services = pg_app.extensions["rendezvous"]
    doctor = Principal(str(uuid.uuid4()), Role.DOCTOR, places.ids["own"])
    reception = Principal(str(uuid.uuid4()), Role.RECEPTION)
    before = services.store.count()
    refused = [
        (doctor, ConfirmAppointment(appointment_id=places.ids["own_appt"])),
        (doctor, CheckInAppointment(appointment_id=places.ids["other_appt"])),
        (reception, RegisterDoctor(full_name="Dr Who", specialty="Time")),
    ]
    for principal, command in refused:
        with pytest.raises(ForbiddenError):
            services.bus.handle(command, principal)
    assert services.store.count() == before
    # Allowed: the events record who did it, by user id.
    result = services.bus.handle(
        ConfirmAppointment(appointment_id=places.ids["own_appt"]), reception
    )
    [event] = [r for r in services.store.load(result.stream_id) if r.version == result.version]
    assert event.metadata["actor"] == reception.actor


def test_timelines_name_the_user_who_acted(pg_app, places):
    staff = _staff(pg_app, "reception", places)
    appointment = places.ids["own_appt"]
    response = staff.post(f"/appointments/{appointment}/confirm", {"expected_version": "1"})
    assert response.status_code == 303
    catch_up(pg_app.extensions["rendezvous"].projector)
    page = page_text(staff.client.get(f"/appointments/{appointment}"))
    assert "Test reception" in page  # the user's name, not their id
    assert str(staff.user.user_id) not in page
    events = pg_app.extensions["rendezvous"].store.load(appointment)
    assert events[-1].metadata["actor"] == str(staff.user.user_id)


def test_a_doctor_filtering_by_another_doctors_patient_learns_not_even_the_name(pg_app, places):
    staff = _staff(pg_app, "doctor", places)
    page = page_text(staff.client.get(f"/appointments?from=&patient_id={places.ids['stranger']}"))
    assert "Sam Stranger" not in page
    own = page_text(staff.client.get(f"/appointments?from=&patient_id={places.ids['patient']}"))
    assert "Patient 0" in own
