"""Phone numbers through the real handlers, projections and pages: kept in E.164 in the
event, shown in the national form, found by any way of typing their start, refused with a
reason, and old events' numbers normalised by the projections (the events stay as written)."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest

from app.commands import RegisterPatient
from app.domain.errors import ValidationError
from app.domain.events import PatientRegistered
from app.eventstore import EventMetadata
from app.queries import directory

from .projecting import catch_up
from .test_web_directory import follow, post
from .webclient import signed_in_client


@pytest.fixture
def desk(pg_app, app_services):  # type: ignore[no-untyped-def]
    return signed_in_client(pg_app)


QUERIES = ["+33 6 90 42", "06 90 42", "0690", "690 42"]


def test_a_number_is_stored_in_e164_and_found_however_it_is_typed(services):
    registered = services.bus.handle(
        RegisterPatient(full_name="Inès Caron", date_of_birth="1990-04-05", phone="06 90 42 11 78")
    )
    other = services.bus.handle(
        RegisterPatient(full_name="Rose Vidal", date_of_birth="1990-04-05", phone="06 12 34 56 78")
    )
    # The event keeps the number as E.164: a Guadeloupe mobile, dialled from France as 06 90.
    assert services.store.load(registered.stream_id)[0].event.phone == "+590690421178"
    catch_up(services.projector)
    for query in QUERIES:
        found = directory.search_patients(services.read_engine, query, region="FR")
        assert [p.patient_id for p in found] == [registered.stream_id], query
        assert found[0].phone == "06 90 42 11 78"
    found = directory.search_patients(services.read_engine, "06 12 34", region="FR")
    assert [p.patient_id for p in found] == [other.stream_id]


def test_an_invalid_number_is_refused_with_its_reason_and_writes_nothing(services):
    before = services.store.count()
    with pytest.raises(ValidationError) as refused:
        services.bus.handle(
            RegisterPatient(full_name="", date_of_birth="1990-04-05", phone="06 12 ab")
        )
    # Every field's message at once: the name's and the phone's.
    assert set(refused.value.errors) == {"full_name", "phone"}
    assert refused.value.errors["phone"] == "A phone number holds only digits, spaces and +."
    assert services.store.count() == before


def test_numbers_old_events_hold_are_normalised_by_the_projections(services):
    """Before E.164, events kept the number as typed; they are read as they were."""
    patient = uuid4()
    meta = EventMetadata(actor="test", correlation_id="c", causation_id="c")
    old = PatientRegistered("Louis Garnier", date(1970, 1, 2), "06.12.34.56.78", "")
    services.store.append(patient, 0, [old], stream_type="patient", metadata=meta)
    catch_up(services.projector)
    assert services.store.load(patient)[0].event.phone == "06.12.34.56.78"
    row = directory.patient(services.read_engine, patient)
    assert row is not None and row.phone == "06 12 34 56 78"
    found = directory.search_patients(services.read_engine, "+33 6 12 34", region="FR")
    assert patient in [p.patient_id for p in found]


def test_the_patient_pages_show_the_national_form_and_explain_a_bad_number(
    desk, pg_app, app_services
):
    response = post(
        desk, "/patients", full_name="Jade Roux", date_of_birth="1984-05-06", phone="+33612345678"
    )
    page = follow(desk, app_services, response).get_data(as_text=True)
    assert "06 12 34 56 78" in page
    before = app_services.store.count()
    response = post(
        desk, "/patients", full_name="Jade Roux", date_of_birth="1984-05-06", phone="0612"
    )
    assert response.status_code == 422
    assert "That phone number is too short or incomplete." in response.get_data(as_text=True)
    assert app_services.store.count() == before
    # In French, the same reason in the clinic's words.
    french = signed_in_client(pg_app, locale="fr")
    response = post(
        french, "/patients", full_name="Jade Roux", date_of_birth="1984-05-06", phone="0612"
    )
    assert response.status_code == 422
    assert "Ce numéro de téléphone est trop court ou incomplet." in response.get_data(as_text=True)
    assert app_services.store.count() == before
