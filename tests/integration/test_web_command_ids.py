"""The same form sent twice through the web, on PostgreSQL: by the person who opened it, the
second press takes the first's outcome; by someone else, it is refused with a message."""

from __future__ import annotations

import uuid

import pytest

from ..clinic import open_clinic
from .projecting import catch_up
from .webclient import Staff, page_text


@pytest.fixture
def booked_appointment(clocked_app_services):  # type: ignore[no-untyped-def]
    """An appointment booked on the test clock, projected, and the services it is on."""
    services = clocked_app_services
    appointment = open_clinic(services.bus).book("2027-01-12 10:00")
    catch_up(services.projector)
    return services, appointment


def test_a_confirm_posted_twice_by_one_user_takes_effect_once(pg_app, booked_appointment):
    services, appointment = booked_appointment
    desk = Staff(pg_app, "reception")
    form = {"command_id": str(uuid.uuid4()), "expected_version": "1"}
    assert desk.post(f"/appointments/{appointment}/confirm", form).status_code == 303
    before = services.store.count()
    assert desk.post(f"/appointments/{appointment}/confirm", form).status_code == 303
    assert services.store.count() == before


def test_a_form_posted_by_another_user_with_the_same_command_id_is_refused(
    pg_app, booked_appointment
):
    services, appointment = booked_appointment
    form = {"command_id": str(uuid.uuid4()), "expected_version": "1"}
    first = Staff(pg_app, "reception").post(f"/appointments/{appointment}/confirm", form)
    assert first.status_code == 303
    before = services.store.count()
    response = Staff(pg_app, "admin").post(f"/appointments/{appointment}/confirm", form)
    assert response.status_code == 422
    assert "This form was already used by someone else" in page_text(response)
    assert services.store.count() == before
