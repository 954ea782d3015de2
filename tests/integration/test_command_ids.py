"""A command id replays its first outcome only to the same actor, for the same action on the
same record; any other reuse is refused and writes nothing. On SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from app.commands import (
    CancelAppointment,
    ChangePatientDetails,
    ConfirmAppointment,
    CreateAppointment,
    RegisterPatient,
)
from app.domain.errors import CommandReusedError
from app.domain.staff import Principal, Role

from ..clinic import local


def _desk() -> Principal:
    return Principal(str(uuid.uuid4()), Role.RECEPTION)


def test_the_same_actor_sending_a_command_again_gets_the_first_outcome(services, clinic):
    alice = _desk()
    confirm = ConfirmAppointment(appointment_id=clinic.book("2027-01-12 10:00"))
    first = services.bus.handle(confirm, alice)
    again = services.bus.handle(confirm, alice)
    assert again.replayed and (again.stream_id, again.version, again.position) == (
        first.stream_id,
        first.version,
        first.position,
    )
    assert services.store.find_command(confirm.command_id).actor == alice.actor


def test_a_no_change_command_sent_again_by_its_actor_replays(services, clinic):
    alice = _desk()
    patient = clinic.patient_ids[0]
    details = services.store.load(patient)[-1].event
    unchanged = ChangePatientDetails(
        patient_id=patient,
        full_name=details.full_name,
        date_of_birth=details.date_of_birth,
        phone=details.phone,
        email=details.email,
    )
    assert services.bus.handle(unchanged, alice).position is None
    assert services.bus.handle(unchanged, alice).replayed


def test_another_actor_reusing_a_command_id_is_refused_and_writes_nothing(services, clinic):
    alice, bob = _desk(), _desk()
    appointment = clinic.book("2027-01-12 10:00")
    services.bus.handle(ConfirmAppointment(appointment_id=appointment), alice)
    cancel = CancelAppointment(appointment_id=appointment, reason="ill")
    services.bus.handle(cancel, alice)
    before = services.store.count()
    with pytest.raises(CommandReusedError, match="already used by someone else"):
        services.bus.handle(cancel, bob)
    assert services.store.count() == before


def test_a_command_id_reused_for_another_record_is_refused_and_writes_nothing(services, clinic):
    alice = _desk()
    first, second = clinic.book("2027-01-12 10:00"), clinic.book("2027-01-12 11:00")
    confirm = ConfirmAppointment(appointment_id=first)
    services.bus.handle(confirm, alice)
    with pytest.raises(CommandReusedError, match="already used for another record"):
        services.bus.handle(
            ConfirmAppointment(appointment_id=second, command_id=confirm.command_id), alice
        )
    assert services.store.stream_version(second) == 1


def _booking(clinic, patient: int = 0, **fields) -> CreateAppointment:  # type: ignore[no-untyped-def]
    return CreateAppointment(
        patient_id=clinic.patient_ids[patient],
        doctor_id=clinic.doctor_id,
        starts_at=local("2027-01-12 10:00"),
        duration_minutes=30,
        title="Check-up",
        **fields,
    )


def test_a_booking_posted_again_replays_though_each_post_names_a_new_appointment(services, clinic):
    alice = _desk()
    first = _booking(clinic)
    booked = services.bus.handle(first, alice)
    before = services.store.count()
    # The booking form carries the command id only: each post makes a fresh appointment id.
    again = services.bus.handle(_booking(clinic, command_id=first.command_id), alice)
    assert again.replayed and again.stream_id == booked.stream_id
    assert services.store.count() == before


def test_a_booking_id_reused_for_another_patient_books_nothing(services, clinic):
    alice = _desk()
    first = _booking(clinic)
    services.bus.handle(first, alice)
    before = services.store.count()
    reused = _booking(clinic, patient=1, command_id=first.command_id)
    with pytest.raises(CommandReusedError, match="another record"):
        services.bus.handle(reused, alice)
    assert services.store.count() == before
    assert services.store.stream_version(reused.appointment_id) == 0


def test_a_command_id_reused_for_another_action_is_refused(services, clinic):
    appointment = clinic.book("2027-01-12 10:00")
    confirm = ConfirmAppointment(appointment_id=appointment)
    services.bus.handle(confirm)
    with pytest.raises(CommandReusedError, match="already used for another action"):
        services.bus.handle(
            CancelAppointment(
                appointment_id=appointment, reason="ill", command_id=confirm.command_id
            )
        )
    assert services.store.stream_version(appointment) == 2


def test_a_seed_run_without_a_signed_in_user_replays_as_the_system(services):
    register = RegisterPatient(full_name="Ana Lima", date_of_birth="1980-02-03")
    first = services.bus.handle(register)
    assert services.bus.handle(register).stream_id == first.stream_id


def test_a_command_logged_before_actors_were_kept_replays_for_its_record(services, clinic, engine):
    appointment = clinic.book("2027-01-12 10:00")
    confirm = ConfirmAppointment(appointment_id=appointment)
    services.bus.handle(confirm, _desk())
    with engine.begin() as conn:  # as migration 0005 leaves the commands logged before it
        conn.execute(sa.text("UPDATE processed_commands SET actor = NULL"))
    assert services.bus.handle(confirm, _desk()).replayed
