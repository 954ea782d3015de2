"""The doctor's time the handlers hold, through the real bus and the reservations table,
on SQLite and PostgreSQL. The handlers' other rules run in memory, in
tests/unit/test_command_rules.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.commands import (
    CancelAppointment,
    ConfirmAppointment,
    CreateAppointment,
    MarkNoShow,
    RegisterDoctor,
    RegisterPatient,
    RescheduleAppointment,
    SetWorkingHours,
)
from app.domain.errors import SlotTakenError

from ..clinic import local


def test_cancelling_frees_the_time_for_another_patient(services, clinic):
    first = clinic.book("2027-01-12 10:00")
    with pytest.raises(SlotTakenError, match="That time is no longer free"):
        clinic.book("2027-01-12 10:15", patient=1)
    services.bus.handle(CancelAppointment(appointment_id=first, reason="Patient is ill"))
    assert clinic.book("2027-01-12 10:15", patient=1)


def test_rescheduling_moves_the_held_time_and_keeps_the_appointment_id(services, clinic):
    moved = clinic.book("2027-01-12 10:00")
    services.bus.handle(ConfirmAppointment(appointment_id=moved))
    services.bus.handle(
        RescheduleAppointment(
            appointment_id=moved,
            starts_at=local("2027-01-12 15:00"),
            duration_minutes=30,
            reason="Patient asked for the afternoon",
        )
    )
    assert clinic.book("2027-01-12 10:00", patient=1)  # the old time is free again
    with pytest.raises(SlotTakenError):
        clinic.book("2027-01-12 15:15", patient=2)  # the new one is held
    history = services.store.load(moved)
    assert [r.event_type for r in history][-1] == "AppointmentRescheduled"
    assert history[-1].event.reason == "Patient asked for the afternoon"


def test_rescheduling_onto_another_appointment_is_refused(services, clinic):
    clinic.book("2027-01-12 15:00")
    moved = clinic.book("2027-01-12 10:00", patient=1)
    with pytest.raises(SlotTakenError):
        services.bus.handle(
            RescheduleAppointment(
                appointment_id=moved, starts_at=local("2027-01-12 15:15"), duration_minutes=30
            )
        )
    assert services.store.stream_version(moved) == 1


def test_a_no_show_frees_the_rest_of_the_slot(services, clinic, clock):
    missed = clinic.book("2027-01-12 10:00", 60)
    services.bus.handle(ConfirmAppointment(appointment_id=missed))
    clock.set_local("2027-01-12 10:10")
    services.bus.handle(MarkNoShow(appointment_id=missed))
    assert clinic.book("2027-01-12 10:30", patient=1)


def test_a_visit_across_the_night_the_clocks_go_back_lasts_what_was_asked(services, clock):
    """31 October 2027, Paris: 03:00 summer time becomes 02:00 winter time."""
    bus = services.bus
    doctor = bus.handle(RegisterDoctor(full_name="Dr Night", specialty="Emergency")).stream_id
    bus.handle(SetWorkingHours(doctor_id=doctor, hours={"sun": [["00:00", "23:59"]]}))
    patient = bus.handle(RegisterPatient(full_name="P", date_of_birth="1980-01-01")).stream_id
    clock.set_local("2027-10-30 12:00")
    first = bus.handle(
        CreateAppointment(
            patient_id=patient,
            doctor_id=doctor,
            starts_at=local("2027-10-31 02:30"),
            duration_minutes=60,
            title="Night visit",
        )
    ).stream_id
    [created] = services.store.load(first)
    assert created.event.ends_at - created.event.starts_at == timedelta(hours=1)
    # The hour after it is free, in real time (00:30Z to 01:30Z is taken, not more).
    after = datetime(2027, 10, 31, 1, 30, tzinfo=UTC)
    assert bus.handle(
        CreateAppointment(
            patient_id=patient, doctor_id=doctor, starts_at=after, duration_minutes=30, title="Next"
        )
    )


def test_a_reschedule_restores_a_missing_hold(services, clinic, engine):
    moved = clinic.book("2027-01-12 10:00")
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM reservations"))
    services.bus.handle(
        RescheduleAppointment(
            appointment_id=moved, starts_at=local("2027-01-12 15:00"), duration_minutes=30
        )
    )
    with pytest.raises(SlotTakenError):
        clinic.book("2027-01-12 15:00", patient=1)
