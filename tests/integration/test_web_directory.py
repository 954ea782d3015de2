"""The patient and doctor pages on PostgreSQL: registration, changes, search, agendas."""

from __future__ import annotations

import re
from datetime import date, timedelta
from uuid import UUID, uuid4

import pytest

from ..clinic import local, monday_ahead
from .projecting import catch_up
from .webclient import signed_in_client

CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
UNKNOWN = UUID(int=42)  # fixed, so every test worker collects the same test ids
EVERY_DAY = {d: [["08:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


@pytest.fixture
def client(pg_app, app_services):  # type: ignore[no-untyped-def]
    return signed_in_client(pg_app)


def token(client, path: str = "/patients") -> str:  # type: ignore[no-untyped-def]
    found = CSRF.search(client.get(path).get_data(as_text=True))
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def post(client, path: str, **form: str):  # type: ignore[no-untyped-def]
    """A plain form post, with the token the page gave."""
    return client.post(path, data={"csrf_token": token(client), **form})


def follow(client, app_services, response):  # type: ignore[no-untyped-def]
    """The page a post redirected to, once the projections have caught up (projecting only
    inline after the command may stop short while another test worker's transaction is open)."""
    assert response.status_code == 303, response.get_data(as_text=True)
    catch_up(app_services.projector)
    return client.get(response.headers["Location"])


def register_patient(  # type: ignore[no-untyped-def]
    client, app_services, name: str = "Jeanne Dupont", phone: str = "06 12 34 56 78"
) -> UUID:
    response = post(client, "/patients", full_name=name, date_of_birth="1984-05-06", phone=phone)
    assert response.status_code == 303
    catch_up(app_services.projector)
    return UUID(response.headers["Location"].split("/patients/")[1].split("?")[0])


def register_doctor(app_services, hours=EVERY_DAY) -> UUID:  # type: ignore[no-untyped-def]
    from app.commands import RegisterDoctor, SetWorkingHours

    doctor = app_services.bus.handle(
        RegisterDoctor(full_name="Dr Ada Martin", specialty="Cardiology")
    )
    app_services.bus.handle(
        SetWorkingHours(doctor_id=doctor.stream_id, hours=hours, slot_minutes=30)
    )
    catch_up(app_services.projector)
    return doctor.stream_id


class TestPatientRegistration:
    def test_registers_and_redirects_to_the_patients_page(self, client, app_services):
        response = post(
            client, "/patients", full_name="Jeanne Dupont", date_of_birth="1984-05-06",
            phone="06 12 34 56 78", email="jeanne@example.org", command_id=str(uuid4()),
        )  # fmt: skip
        assert response.status_code == 303
        assert "/patients/" in response.headers["Location"]
        assert "expect=" in response.headers["Location"]
        page = follow(client, app_services, response)
        html = page.get_data(as_text=True)
        assert page.status_code == 200
        assert "Jeanne Dupont" in html and "Patient registered." in html
        assert "06 May 1984" in html and "Sun 06 May" not in html  # a birth date, no weekday

    def test_without_the_csrf_token_nothing_is_registered(self, client, app_services):
        response = client.post("/patients", data={"full_name": "No Token"})
        assert response.status_code == 400
        assert app_services.store.count() == 0

    def test_bad_input_comes_back_with_messages_and_what_was_typed(self, client, app_services):
        before = app_services.store.count()
        response = post(
            client, "/patients", full_name="", date_of_birth="31/12/2000", phone="0612",
            email="someone@example.org",
        )  # fmt: skip
        html = response.get_data(as_text=True)
        assert response.status_code == 422
        assert "The patient&#39;s name is required." in html or "name is required" in html
        assert "The date of birth must be a date (YYYY-MM-DD)." in html
        assert 'value="31/12/2000"' in html and 'value="someone@example.org"' in html
        assert 'aria-invalid="true"' in html
        assert app_services.store.count() == before


class TestPatientPage:
    def test_an_edit_is_saved_and_shown(self, client, app_services):
        patient_id = register_patient(client, app_services)
        response = post(
            client, f"/patients/{patient_id}", full_name="Jeanne Martin",
            date_of_birth="1984-05-06", phone="", email="", expected_version="1",
        )  # fmt: skip
        html = follow(client, app_services, response).get_data(as_text=True)
        assert "Jeanne Martin" in html and "Patient details saved." in html
        assert 'name="expected_version" value="2"' in html

    def test_an_edit_on_a_stale_version_is_a_conflict_that_writes_nothing(
        self, client, app_services
    ):
        patient_id = register_patient(client, app_services)
        post(client, f"/patients/{patient_id}", full_name="Jeanne Martin",
             date_of_birth="1984-05-06", expected_version="1")  # fmt: skip
        before = app_services.store.count()
        response = post(
            client, f"/patients/{patient_id}", full_name="Jeanne Durand",
            date_of_birth="1984-05-06", expected_version="1",
        )  # fmt: skip
        html = response.get_data(as_text=True)
        assert response.status_code == 409
        assert 'data-refusal="409"' in html and "Reload to see the current version" in html
        assert "Test admin" in html  # who changed it meanwhile, by name
        assert 'value="Jeanne Durand"' in html  # what was typed is not lost
        assert app_services.store.count() == before

    def test_bad_input_on_an_edit_is_a_422_with_messages(self, client, app_services):
        patient_id = register_patient(client, app_services)
        before = app_services.store.count()
        response = post(
            client, f"/patients/{patient_id}", full_name="Jeanne",
            date_of_birth="2000-01-01", email="not an address", expected_version="1",
        )  # fmt: skip
        assert response.status_code == 422
        assert "That email address does not look right" in response.get_data(as_text=True)
        assert app_services.store.count() == before

    def test_shows_the_patients_appointments_and_links_to_book(self, client, app_services):
        from app.commands import CreateAppointment

        patient_id = register_patient(client, app_services)
        doctor_id = register_doctor(app_services)
        app_services.bus.handle(
            CreateAppointment(
                patient_id=patient_id, doctor_id=doctor_id, duration_minutes=30,
                starts_at=local(f"{monday_ahead()} 10:00"), title="Annual check-up",
            )
        )  # fmt: skip
        catch_up(app_services.projector)
        html = client.get(f"/patients/{patient_id}").get_data(as_text=True)
        upcoming = html.split("Upcoming appointments")[1].split("Past appointments")[0]
        assert "Annual check-up" in upcoming and "Dr Ada Martin" in upcoming
        assert f"/appointments/new?patient_id={patient_id}" in html

    @pytest.mark.parametrize("path", [f"/patients/{UNKNOWN}", "/patients/not-a-uuid"])
    def test_an_unknown_or_malformed_id_is_a_404_page(self, client, path):
        response = client.get(path)
        assert response.status_code == 404
        assert 'data-error-code="404"' in response.get_data(as_text=True)


class TestPatientSearch:
    def test_an_htmx_search_returns_only_the_results(self, client, app_services):
        register_patient(client, app_services, "Jeanne Dupont")
        register_patient(client, app_services, "Marc Lefebvre", phone="06 98 76 54 32")
        response = client.get(
            "/patients?q=dupo", headers={"HX-Request": "true", "HX-Target": "patient-results"}
        )
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert html.lstrip().startswith('<div id="patient-results"')
        assert "Jeanne Dupont" in html and "Marc Lefebvre" not in html
        assert "<html" not in html

    def test_a_plain_search_returns_the_whole_page(self, client, app_services):
        register_patient(client, app_services, "Jeanne Dupont")
        html = client.get("/patients?q=5678").get_data(as_text=True)  # part of the phone
        assert "<html" in html and 'id="patient-results"' in html and "Jeanne Dupont" in html
        assert 'hx-trigger="input changed delay:250ms, search"' in html


class TestDoctors:
    def test_registers_a_doctor_with_the_usual_slot_length(self, client, app_services):
        response = post(
            client, "/doctors", full_name="Dr Paul Roy", specialty="Dermatology", slot_minutes=""
        )
        html = follow(client, app_services, response).get_data(as_text=True)
        assert "Dr Paul Roy" in html and "Doctor registered." in html
        listing = client.get("/doctors").get_data(as_text=True)
        assert "Dermatology" in listing and "15 min" in listing

    def test_bad_registration_is_a_422_with_messages(self, client, app_services):
        response = post(
            client, "/doctors", full_name="Dr Paul Roy", specialty="", slot_minutes="500"
        )
        html = response.get_data(as_text=True)
        assert response.status_code == 422
        assert "The specialty is required." in html and "between" in html
        assert 'value="Dr Paul Roy"' in html
        assert app_services.store.count() == 0

    @pytest.mark.parametrize("path", [f"/doctors/{UNKNOWN}", "/doctors/42"])
    def test_an_unknown_or_malformed_id_is_a_404_page(self, client, path):
        assert client.get(path).status_code == 404

    def test_working_hours_round_trip(self, client, app_services):
        doctor_id = register_doctor(app_services, hours={"mon": [["09:00", "12:00"]]})
        html = client.get(f"/doctors/{doctor_id}").get_data(as_text=True)
        assert 'name="hours_mon" type="text" value="09:00-12:00"' in html
        response = post(
            client, f"/doctors/{doctor_id}/hours", hours_mon="9:00-12:30, 14:00-18:00",
            hours_wed="08:00 - 12:00", slot_minutes="20", expected_version="2",
        )  # fmt: skip
        html = follow(client, app_services, response).get_data(as_text=True)
        assert "Working hours saved." in html
        assert 'value="09:00-12:30, 14:00-18:00"' in html and 'value="08:00-12:00"' in html
        assert 'name="hours_tue" type="text" value=""' in html
        from app.queries.agenda import doctor

        shown = doctor(app_services.read_engine, doctor_id)
        assert shown.hours == {
            "mon": [["09:00", "12:30"], ["14:00", "18:00"]],
            "wed": [["08:00", "12:00"]],
        }
        assert shown.slot_minutes == 20

    def test_a_malformed_hours_entry_is_a_422_naming_the_day(self, client, app_services):
        doctor_id = register_doctor(app_services)
        before = app_services.store.count()
        response = post(
            client, f"/doctors/{doctor_id}/hours", hours_mon="09:00-12:00",
            hours_tue="nine to five", hours_thu="14:00-12:00", slot_minutes="30",
            expected_version="2",
        )  # fmt: skip
        html = response.get_data(as_text=True)
        assert response.status_code == 422
        assert 'id="f-hours_tue-error"' in html and "Tuesday:" in html
        assert 'id="f-hours_thu-error"' in html and "Thursday: 14:00 to 12:00" in html
        assert 'value="nine to five"' in html
        assert app_services.store.count() == before


class TestAgenda:
    @pytest.fixture
    def booked(self, client, app_services):  # type: ignore[no-untyped-def]
        from app.commands import CreateAppointment

        doctor_id = register_doctor(app_services)
        patient_id = register_patient(client, app_services, "Lucie Bernard")
        tuesday = date.fromisoformat(monday_ahead()) + timedelta(days=1)
        app_services.bus.handle(
            CreateAppointment(
                patient_id=patient_id, doctor_id=doctor_id, duration_minutes=30,
                starts_at=local(f"{tuesday} 10:00"), title="Follow-up",
            )
        )  # fmt: skip
        catch_up(app_services.projector)
        return doctor_id, tuesday

    def test_the_day_agenda_shows_the_patient_and_the_free_slots(self, client, booked):
        doctor_id, tuesday = booked
        html = client.get(f"/doctors/{doctor_id}?day={tuesday}").get_data(as_text=True)
        rows = html.split("<tbody>")[1].split("</tbody>")[0]
        assert "Lucie Bernard" in rows and "10:00\u201310:30" in rows
        assert f"starts_at={tuesday}T10:30" in html  # the next slot is free to book
        assert f"starts_at={tuesday}T10:00" not in html  # the booked one is not

    def test_a_row_confirmed_in_place_keeps_the_patient_s_phone_and_date_of_birth(
        self, client, booked
    ):
        doctor_id, tuesday = booked
        html = client.get(f"/doctors/{doctor_id}?day={tuesday}").get_data(as_text=True)
        row = html.split("<tbody>")[1].split("</tbody>")[0]
        assert "06 12 34 56 78" in row and "born 06 May 1984" in row
        confirm = re.search(
            r'<form class="inline" method="post" action="([^"]+/confirm)"(.*?)</form>', row, re.S
        )
        assert confirm, row
        fields = dict(re.findall(r'name="([a-z_]+)" value="([^"]*)"', confirm.group(2)))
        assert fields["context"] == "doctor-day"  # what the row refreshes as
        response = client.post(
            confirm.group(1), data=fields, headers={"HX-Request": "true", "HX-Target": "x"}
        )
        swapped = response.get_data(as_text=True)
        assert response.status_code == 200, swapped
        assert 'data-status="confirmed"' in swapped
        assert "06 12 34 56 78" in swapped and "born 06 May 1984" in swapped

    def test_the_week_shows_the_appointment_on_its_day(self, client, booked):
        doctor_id, tuesday = booked
        html = client.get(f"/doctors/{doctor_id}?view=week&day={tuesday}").get_data(as_text=True)
        days = dict(re.findall(r'<section data-day="([\d-]+)"(.*?)</section>', html, re.S))
        assert len(days) == 7
        assert "Lucie Bernard" in days[str(tuesday)]
        assert not any("Lucie Bernard" in body for day, body in days.items() if day != str(tuesday))

    def test_htmx_navigation_gets_only_the_agenda(self, client, booked):
        doctor_id, tuesday = booked
        response = client.get(
            f"/doctors/{doctor_id}?day={tuesday}",
            headers={"HX-Request": "true", "HX-Target": "agenda"},
        )
        html = response.get_data(as_text=True)
        assert html.lstrip().startswith('<section id="agenda"') and "<html" not in html
        assert "Lucie Bernard" in html
