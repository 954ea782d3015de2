"""Moving an appointment to another doctor or time, on both backends: the doctor's time
moves with it in one transaction (the first freed, the second taken, or nothing), the
confirmation stays unless the desk says otherwise, and races across doctors book once."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest

from app.commands import (
    CreateAppointment,
    RegisterDoctor,
    RescheduleAppointment,
    SetWorkingHours,
)
from app.domain.appointment import Status
from app.domain.errors import NotFoundError, SlotTakenError
from app.domain.events import AppointmentRescheduled
from app.queries import appointments as q
from app.queries.agenda import agenda_for_day
from app.queries.history import agenda_as_of

from ..clinic import WEEKDAYS, local
from ..conftest import CLINIC_TZ
from .projecting import catch_up
from .test_concurrency import race


def colleague(bus, name: str = "Dr Jules Petit"):
    doctor = bus.handle(RegisterDoctor(full_name=name, specialty="Paediatrics")).stream_id
    bus.handle(SetWorkingHours(doctor_id=doctor, hours=WEEKDAYS, slot_minutes=15))
    return doctor


def move(bus, appointment, starts="2027-01-12 10:00", **fields):
    command = RescheduleAppointment(
        appointment_id=appointment, starts_at=local(starts), duration_minutes=30, **fields
    )
    return bus.handle(command)


def book(clinic, doctor, starts="2027-01-12 10:00", patient=1):
    return clinic.bus.handle(
        CreateAppointment(
            patient_id=clinic.patient_ids[patient],
            doctor_id=doctor,
            starts_at=local(starts),
            duration_minutes=30,
            title="Check-up",
        )
    ).stream_id


def test_a_move_to_another_doctor_frees_the_first_s_time_and_takes_the_second_s(services, clinic):
    other = colleague(services.bus)
    appointment = clinic.book("2027-01-12 10:00", confirmed=True)

    move(services.bus, appointment, doctor_id=other, reason="Dr Martin is away")

    moved = services.store.load(appointment)[-1].event
    assert isinstance(moved, AppointmentRescheduled)
    assert (moved.previous_doctor_id, moved.doctor_id) == (clinic.doctor_id, other)
    assert moved.awaits_confirmation is False
    # Dr Martin's 10:00 is free again; Dr Petit's is not.
    assert book(clinic, clinic.doctor_id)
    with pytest.raises(SlotTakenError) as taken:
        book(clinic, other)
    assert "Dr Jules Petit" in taken.value.message
    catch_up(services.projector)
    row = q.appointment_detail(services.read_engine, appointment)
    assert (row.doctor_id, row.doctor_name, row.doctor_specialty) == (
        other,
        "Dr Jules Petit",
        "Paediatrics",
    )
    assert row.status is Status.CONFIRMED and row.reschedules == 1


def test_the_desk_can_ask_the_patient_to_confirm_a_moved_appointment_again(services, clinic):
    appointment = clinic.book("2027-01-12 10:00", confirmed=True)
    move(services.bus, appointment, "2027-01-12 11:00", confirmed=False)
    catch_up(services.projector)
    assert q.appointment_detail(services.read_engine, appointment).status is Status.PENDING


def test_a_move_onto_a_colleague_s_taken_time_is_refused_and_moves_nothing(services, clinic):
    other = colleague(services.bus)
    appointment = clinic.book("2027-01-12 10:00")
    book(clinic, other, "2027-01-12 10:15")
    before = services.store.count()

    with pytest.raises(SlotTakenError) as taken:
        move(services.bus, appointment, doctor_id=other)

    assert "would run into Patient 1's appointment at 10:15" in taken.value.message
    assert services.store.count() == before
    # The appointment still holds Dr Martin's 10:00.
    with pytest.raises(SlotTakenError):
        book(clinic, clinic.doctor_id)


def test_a_move_to_a_doctor_who_does_not_exist_is_refused_and_writes_nothing(services, clinic):
    appointment = clinic.book("2027-01-12 10:00")
    before = services.store.count()
    with pytest.raises(NotFoundError) as unknown:
        move(services.bus, appointment, "2027-01-12 11:00", doctor_id=uuid4())
    assert unknown.value.field == "doctor_id"
    assert unknown.value.message == "No doctor with that id is registered."
    assert services.store.count() == before


def test_moves_across_doctors_racing_single_bookings_of_the_same_time_book_it_once(
    services, clinic
):
    """Four receptionists move their patients from Dr Martin to Dr Petit's 10:00 while four
    others book that 10:00 directly: one of the eight wins, on both backends."""
    other = colleague(services.bus)
    movers = [clinic.book(f"2027-01-12 {9 + n // 2:02}:{30 * (n % 2):02}") for n in range(4)]
    calls = [lambda a=a: move(services.bus, a, doctor_id=other) for a in movers] + [
        lambda n=n: book(clinic, other, patient=n % 3) for n in range(4)
    ]

    outcomes = race(calls)

    winners = [o for o in outcomes if not isinstance(o, Exception)]
    assert len(winners) == 1, outcomes
    assert all(isinstance(o, SlotTakenError) for o in outcomes if isinstance(o, Exception))
    catch_up(services.projector)
    held = agenda_for_day(services.read_engine, other, date(2027, 1, 12), tz=CLINIC_TZ)
    assert len(held) == 1 and held[0].starts_at == local("2027-01-12 10:00")
    # Every mover that lost is still with Dr Martin, at its own time.
    lost = [a for a, o in zip(movers, outcomes[:4], strict=True) if isinstance(o, Exception)]
    for appointment in lost:
        row = q.appointment_detail(services.read_engine, appointment)
        assert row.doctor_id == clinic.doctor_id and row.reschedules == 0


def test_a_doctors_past_day_shows_an_appointment_moved_to_a_colleague_since(
    services, clinic, clock
):
    other = colleague(services.bus)
    appointment = clinic.book("2027-01-12 10:00")
    looked_at = clock.advance(hours=1)
    clock.advance(minutes=30)
    move(services.bus, appointment, doctor_id=other)
    catch_up(services.projector)
    day = date(2027, 1, 12)

    def held(doctor, at):
        found = agenda_as_of(services.store, services.read_engine, doctor, day, at, tz=services.tz)
        return [a.id for a in found.appointments]

    assert held(clinic.doctor_id, looked_at) == [appointment]
    assert held(clinic.doctor_id, clock.now) == []
    assert held(other, clock.now) == [appointment]
    assert held(other, looked_at) == []
