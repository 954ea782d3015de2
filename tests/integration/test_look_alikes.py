"""A patient registered twice is caught at registration (issue 18, item 6): the directory's
and the booking form's registration show the registered patients with the same name and
date of birth, or the same phone, and register nothing until the desk uses one of them or
registers anyway. On PostgreSQL, through the test client; the look-up on both backends."""

from __future__ import annotations

import re
import uuid
from datetime import date

import pytest

from app.commands import RegisterPatient
from app.projections.keys import name_tokens
from app.queries import directory as d

from .desk import TODAY, Desk
from .projecting import catch_up
from .webclient import page_text

JEANNE = {"full_name": "Jeanne Dupont", "date_of_birth": "1985-03-12", "phone": "06 90 42 11 78"}


@pytest.fixture
def jeanne(desk: Desk) -> uuid.UUID:
    patient = desk.services.bus.handle(RegisterPatient(**JEANNE)).stream_id
    catch_up(desk.services.projector)
    return patient


def listed(page: str) -> list[str]:
    """The patients the look-alike notice offers, by id."""
    notice = re.search(r'<div [^>]*id="look-alikes".*?</div>', page, re.S)
    return re.findall(r'data-patient-id="([0-9a-f-]+)"', notice.group(0)) if notice else []


def register(desk: Desk, path: str = "/patients", **fields: str):  # type: ignore[no-untyped-def]
    return desk.staff.post(path, {"command_id": str(uuid.uuid4()), **fields})


# -- the directory's registration --


def test_the_same_name_and_birth_however_typed_is_shown_and_nothing_is_registered(desk, jeanne):
    before = desk.events()
    response = register(
        desk, full_name="DUPONT  jeanne", date_of_birth="1985-03-12", phone="", email=""
    )
    page = page_text(response)
    assert response.status_code == 409
    assert listed(page) == [str(jeanne)]
    assert "Jeanne Dupont, born 12 Mar 1985, 06 90 42 11 78" in re.sub(r"<[^>]+>", "", page)
    assert "same name and date of birth" in page
    assert f'href="/patients/{jeanne}"' in page and "Use this patient" in page
    assert re.search(r'<button type="submit" name="anyway" value="1"[^>]*>Register anyway', page)
    assert 'value="DUPONT  jeanne"' in page  # what was typed stays, to register anyway
    assert desk.events() == before


def test_the_same_phone_written_another_way_is_shown(desk, jeanne):
    before = desk.events()
    response = register(
        desk, full_name="Paul Dupont", date_of_birth="2015-06-01", phone="+590 690 42 11 78"
    )
    assert response.status_code == 409
    assert listed(page_text(response)) == [str(jeanne)]
    assert "same phone number" in page_text(response)
    assert desk.events() == before


def test_register_anyway_registers_once_however_often_it_is_pressed(desk, jeanne):
    form = {**JEANNE, "full_name": "Jeanne Dupont", "command_id": str(uuid.uuid4())}
    assert desk.staff.post("/patients", form).status_code == 409
    first = desk.staff.post("/patients", {**form, "anyway": "1"})
    again = desk.staff.post("/patients", {**form, "anyway": "1"})
    assert first.status_code == again.status_code == 303
    assert first.headers["Location"].split("?")[0] == again.headers["Location"].split("?")[0]
    catch_up(desk.services.projector)
    found = d.search_patients(desk.services.read_engine, "jeanne dupont")
    assert len(found) == 2 and jeanne in {p.patient_id for p in found}


def test_a_form_sent_again_after_registering_is_not_taken_for_its_own_look_alike(desk):
    form = {**JEANNE, "command_id": str(uuid.uuid4())}
    first = desk.staff.post("/patients", form)
    catch_up(desk.services.projector)
    again = desk.staff.post("/patients", form)  # a double click, or the back button
    assert first.status_code == again.status_code == 303
    assert first.headers["Location"].split("?")[0] == again.headers["Location"].split("?")[0]


def test_someone_else_with_the_same_name_is_registered_at_once(desk, jeanne):
    response = register(
        desk, full_name="Jeanne Dupont", date_of_birth="1962-11-30", phone="01 45 67 89 10"
    )
    assert response.status_code == 303, page_text(response)


def test_mistakes_are_shown_before_look_alikes_and_nothing_is_written(desk, jeanne):
    before = desk.events()
    response = register(desk, **JEANNE, email="jeanne@")
    page = page_text(response)
    assert response.status_code == 422
    assert "That email address does not look right" in page and listed(page) == []
    assert desk.events() == before


# -- the booking form's new patient --


def test_booking_shows_look_alikes_and_uses_the_one_chosen_without_registering(desk, jeanne):
    booking = {"doctor_id": str(desk.clinic.doctor_id), "day": TODAY, "title": "First visit"}
    sent = {**JEANNE, **booking, "patient_command_id": str(uuid.uuid4())}
    before = desk.events()
    found = desk.staff.post("/appointments/new/patient", sent, htmx="patient-picker")
    page = page_text(found)
    assert found.status_code == 409 and "<html" not in page
    assert listed(page) == [str(jeanne)]
    assert f'name="use_patient" value="{jeanne}"' in page
    assert 'name="anyway" value="1"' in page and 'value="First visit"' not in page  # kept apart

    used = desk.staff.post(
        "/appointments/new/patient", {**sent, "use_patient": str(jeanne)}, htmx="patient-picker"
    )
    page = page_text(used)
    assert used.status_code == 200
    assert f'name="patient_id" value="{jeanne}" checked' in page
    assert "nothing new was registered" in page
    assert 'value="Jeanne Dupont"' not in page  # the new patient's fields are emptied
    assert desk.events() == before


def test_booking_without_javascript_uses_the_chosen_patient_and_keeps_the_form(desk, jeanne):
    booking = {"doctor_id": str(desk.clinic.doctor_id), "day": TODAY, "title": "First visit"}
    sent = {**JEANNE, **booking, "patient_command_id": str(uuid.uuid4())}
    before = desk.events()
    found = desk.staff.post("/appointments/new/patient", sent)
    assert found.status_code == 409 and "<html" in page_text(found)
    assert 'value="First visit"' in page_text(found)  # the whole form, as typed
    used = desk.staff.post("/appointments/new/patient", {**sent, "use_patient": str(jeanne)})
    assert used.status_code == 303
    location = used.headers["Location"]
    assert f"patient_id={jeanne}" in location and "title=First+visit" in location
    assert desk.events() == before


def test_booking_registers_anyway_and_selects_the_new_patient(desk, jeanne):
    sent = {**JEANNE, "patient_command_id": str(uuid.uuid4()), "anyway": "1"}
    response = desk.staff.post("/appointments/new/patient", sent, htmx="patient-picker")
    page = page_text(response)
    assert response.status_code == 200 and "Patient registered and selected." in page
    chosen = re.search(r'name="patient_id" value="([0-9a-f-]+)" checked', page)
    assert chosen and chosen.group(1) != str(jeanne)


# -- the look-up, on both backends --


def test_names_match_whatever_the_order_case_accents_and_hyphens() -> None:
    assert name_tokens("DUPONT  Jeanne") == name_tokens("Jeanne Dupont")
    assert name_tokens("Lefèvre Marie-Anne") == name_tokens("marie anne LEFEVRE")
    assert name_tokens("Jeanne Dupont") != name_tokens("Jeanne Dupond")


def test_look_alikes_come_named_and_born_first_then_by_phone(services):
    bus = services.bus
    by_phone = bus.handle(
        RegisterPatient(full_name="Anne Dupont", date_of_birth="2010-01-01", phone="0690421178")
    ).stream_id
    same = bus.handle(RegisterPatient(**{**JEANNE, "phone": ""})).stream_id
    bus.handle(RegisterPatient(full_name="Zoé Autre", date_of_birth="1985-03-12"))  # born alike
    catch_up(services.projector)
    found = d.look_alikes(services.read_engine, "Dupont Jeanne", date(1985, 3, 12), "690421178")
    assert [(a.patient.patient_id, a.same_name_and_birth, a.same_phone) for a in found] == [
        (same, True, False),
        (by_phone, False, True),
    ]
    assert d.look_alikes(services.read_engine, "Nobody", None, "") == []
