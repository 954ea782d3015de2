"""The projector: read models follow the events, each event applied once, failures parked."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date

import pytest
import sqlalchemy as sa

from app.bootstrap import build_services
from app.commands import (
    CancelAppointment,
    ChangePatientDetails,
    CheckInAppointment,
    CompleteAppointment,
    ConfirmAppointment,
    RegisterPatient,
    RescheduleAppointment,
)
from app.domain.appointment import Status
from app.domain.events import AppointmentConfirmed
from app.eventstore import EventMetadata
from app.projections import Maintenance, Projection, Projector
from app.projections import checkpoints as cp
from app.projections import tables as t
from app.projections.directory import patients
from app.projections.projector import statuses
from app.queries import appointments as q

from ..clinic import local
from .projecting import catch_up, everything_projected, wait_until

MONDAY = date(2027, 1, 11)
TUESDAY = date(2027, 1, 12)


def detail(services, appointment_id):
    return q.appointment_detail(services.read_engine, appointment_id)


def test_read_models_follow_each_appointment_through_its_life(services, clinic, clock):
    bus = services.bus
    seen = clinic.book("2027-01-11 09:00")
    cancelled = clinic.book("2027-01-11 10:00", patient=1)
    moved = clinic.book("2027-01-11 11:00", patient=2)
    bus.handle(ConfirmAppointment(appointment_id=seen))
    bus.handle(CancelAppointment(appointment_id=cancelled, reason="Feeling better"))
    bus.handle(
        RescheduleAppointment(
            appointment_id=moved,
            starts_at=local("2027-01-12 14:00"),
            duration_minutes=30,
            reason="Clashes with work",
        )
    )
    clock.set_local("2027-01-11 08:55")
    bus.handle(CheckInAppointment(appointment_id=seen))
    bus.handle(CompleteAppointment(appointment_id=seen))

    catch_up(services.projector)

    done = detail(services, seen)
    assert (done.status, done.version, done.patient_name) == (Status.COMPLETED, 4, "Patient 0")
    assert done.doctor_name == "Dr Ada Martin" and done.duration_minutes == 30
    assert done.checked_in_at == done.completed_at == clock.now
    assert detail(services, cancelled).cancel_reason == "Feeling better"
    rescheduled = detail(services, moved)
    assert (rescheduled.local_day, rescheduled.reschedules) == (TUESDAY, 1)
    assert rescheduled.starts_at == local("2027-01-12 14:00")
    counts = q.day_counts(services.read_engine, MONDAY)
    assert (counts[Status.COMPLETED], counts[Status.CANCELLED], counts[Status.PENDING]) == (1, 1, 0)
    assert q.day_counts(services.read_engine, TUESDAY)[Status.PENDING] == 1
    with services.read_engine.connect() as conn:
        touched = conn.execute(
            sa.select(t.agenda_touches.c.day).where(t.agenda_touches.c.appointment_id == moved)
        )
        assert sorted(touched.scalars()) == [MONDAY, TUESDAY]


def test_running_again_applies_nothing_twice(services, clinic):
    for hour in (9, 10, 11):
        clinic.book(f"2027-01-11 {hour:02}:00")
    catch_up(services.projector)
    counts = q.day_counts(services.read_engine, MONDAY)

    again = services.projector.run_all()

    assert [report.applied for report in again] == [0, 0, 0, 0]
    assert q.day_counts(services.read_engine, MONDAY) == counts
    assert counts[Status.PENDING] == 3


def test_batches_of_any_size_build_the_same_read_models(services, clinic, clock, engine):
    for hour in (9, 10, 11, 14, 15):
        appointment = clinic.book(f"2027-01-11 {hour:02}:00", patient=hour % 3)
        services.bus.handle(ConfirmAppointment(appointment_id=appointment))
    tiny = build_services(engine, clinic_timezone="Europe/Paris", clock=clock, batch_size=2)

    catch_up(tiny.projector)

    for name in tiny.projector.names:
        assert tiny.maintenance.verify(name).ok, name
    assert q.day_counts(services.read_engine, MONDAY)[Status.CONFIRMED] == 5


def test_a_renamed_patient_is_renamed_on_their_appointments(services, clinic):
    appointment = clinic.book("2027-01-11 09:00")
    catch_up(services.projector)
    services.bus.handle(
        ChangePatientDetails(
            patient_id=clinic.patient_ids[0],
            full_name="Élodie Durand",
            date_of_birth="1980-02-03",
            phone="06 12 99 99 99",
        )
    )
    catch_up(services.projector)

    row = detail(services, appointment)
    assert (row.patient_name, row.patient_phone) == ("Élodie Durand", "06 12 99 99 99")
    found = q.list_appointments(
        services.read_engine, q.AppointmentFilter(text="elodie"), tz=services.tz
    )
    assert [a.appointment_id for a in found.items] == [appointment]


def append_poison(services):
    """A confirmation for an appointment that was never booked: no handler can apply it."""
    return services.store.append(
        uuid.uuid4(),
        0,
        [AppointmentConfirmed()],
        stream_type="appointment",
        metadata=EventMetadata("test", "poison", "poison"),
    ).position


def status_of(projector, name):
    return next(s for s in statuses(projector) if s.name == name)


def test_a_poison_event_is_parked_and_the_other_projections_go_on(services, clinic):
    before = clinic.book("2027-01-11 09:00")
    poison = append_poison(services)
    after = services.bus.handle(RegisterPatient(full_name="Zoé Late", date_of_birth="1990-01-01"))
    projector = services.projector

    wait_until(
        lambda: projector.run_all() and status_of(projector, "patients").events_behind == 0,
        timeout=20,
        what="the patients projection to pass the poison event",
    )

    parked = status_of(projector, "appointments")
    assert parked.state == "parked"
    assert parked.row.failed_position == poison and parked.row.failures == 3
    assert "MissingRowError" in parked.row.last_error
    assert parked.events_behind == 2  # the poison event and the patient after it
    assert detail(services, before) is not None  # what came before it was kept
    assert projector.run("appointments").outcome == "parked"

    with projector.engine.begin() as conn:  # an operator retries: it fails again, parks again
        cp.unpark(conn, "appointments")
    assert projector.run("appointments").outcome == "parked"

    with projector.engine.begin() as conn:  # then skips it
        cp.skip(
            conn, cp.lock(conn, projector.projection("appointments"), wait=True), projector.clock()
        )
    assert projector.run("appointments").outcome == "caught_up"
    assert status_of(projector, "appointments").state == "up to date"
    assert services.maintenance.verify("appointments").ok  # the replay skips it too
    services.maintenance.rebuild("appointments")  # and so does a rebuild
    assert services.maintenance.verify("appointments").ok
    assert after.stream_id in {p.patient_id for p in _patients(services)}


def _patients(services):
    from app.queries.directory import search_patients

    return search_patients(services.read_engine, "", limit=100)


def test_a_handler_that_fails_for_a_while_is_retried_and_not_parked(services, clinic, engine):
    attempts = []

    def flaky(view, record):
        attempts.append(record.position)
        if len(attempts) <= 2:
            raise RuntimeError("the mail server is napping")

    probe = Projection("probe", version=1, tables=())
    probe.handlers["PatientRegistered"] = (flaky, None)
    projector = Projector(services.store, engine, [probe], tz=services.tz, backoff=0.001)

    outcomes = []

    def through() -> bool:
        outcomes.append(projector.run("probe").outcome)
        return status_of(projector, "probe").events_behind == 0

    wait_until(through, timeout=20, what="the probe projection to get through")

    assert "parked" not in outcomes
    row = status_of(projector, "probe").row
    assert (row.failures, row.parked_at, row.failed_position) == (0, None, None)
    assert attempts[0] == attempts[1] == attempts[2]  # the same event, three times


@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
def test_a_second_runner_passes_while_another_holds_the_projection(services, clinic, engine):
    projector = services.projector
    projector.ensure("patients")
    with engine.connect() as holder, holder.begin():
        assert cp.lock(holder, patients, wait=False) is not None  # a first worker's batch
        report = projector.run("patients")
        assert (report.outcome, report.applied) == ("busy", 0)
    catch_up(projector)
    assert len(_patients(services)) == 3


def test_a_new_projection_version_waits_for_a_rebuild(services, clinic, clock, engine):
    catch_up(services.projector)
    newer = replace(patients, version=patients.version + 1)
    projector = Projector(services.store, engine, [newer], tz=services.tz, clock=clock)

    assert projector.run("patients").outcome == "needs_rebuild"
    assert status_of(projector, "patients").state == "needs rebuild"

    Maintenance(projector).rebuild("patients")
    assert projector.run("patients").outcome == "caught_up"
    assert status_of(projector, "patients").row.version == newer.version


def test_a_lost_connection_is_not_counted_against_the_event(services, clinic, engine):
    def unreachable(view, record):
        raise sa.exc.OperationalError("SELECT 1", {}, ConnectionError("server closed"))

    probe = Projection("probe", version=1, tables=())
    probe.handlers["PatientRegistered"] = (unreachable, None)
    projector = Projector(services.store, engine, [probe], tz=services.tz)

    # Raised for the Celery task to retry with backoff, rather than parking the event.
    with pytest.raises(sa.exc.OperationalError):
        wait_until(lambda: projector.run("probe").applied, timeout=20, what="a first attempt")
    row = status_of(projector, "probe").row
    assert (row.failures, row.parked_at) == (0, None)
    # Stopped before the event it could not apply. The doctor's events before it may have
    # been applied in a batch of their own: another test worker's open transaction can hold
    # later events back for a moment, so the checkpoint is not always at the start.
    first_patient = services.store.load(clinic.patient_ids[0])[0].position
    assert row.position < first_patient


def test_an_empty_store_projects_rebuilds_and_verifies_to_nothing(services):
    assert {r.outcome for r in services.projector.run_all()} == {"caught_up"}
    services.maintenance.rebuild("appointments")
    report = services.maintenance.verify("appointments")
    assert report.ok and report.events == 0


def test_long_values_are_kept_whole(services, clinic):
    email = "a" * 240 + "@example.org"  # the domain allows 254 characters
    patient = services.bus.handle(
        RegisterPatient(full_name="Straße Weiß", date_of_birth="1990-01-01", email=email)
    ).stream_id
    catch_up(services.projector)

    from app.queries.directory import patient as find

    assert find(services.read_engine, patient).email == email
    assert [p.patient_id for p in _patients_named(services, "strasse")] == [patient]


def _patients_named(services, text):
    from app.queries.directory import search_patients

    return search_patients(services.read_engine, text)


def test_one_pass_brings_projections_from_different_places_level_applying_each_event_once(
    services, clinic, engine
):
    """After a command the projections run in one pass (Projector.run_many): one page read
    from the furthest behind, each projection taking only what comes after its own
    checkpoint. One ahead of the others must not get an event twice."""
    for n in range(5):
        services.bus.handle(RegisterPatient(full_name=f"Level {n}", date_of_birth="1990-01-01"))
    booked = [clinic.book(f"2027-01-11 {9 + n:02}:00", patient=n % 3) for n in range(3)]
    projector = Projector(
        services.store, engine, services.projector.projections.values(), tz=services.tz
    )
    for name in projector.names:  # every checkpoint there, at the start of the log
        projector.ensure(name)
    # "appointments" counts each day's bookings: an event applied twice counts twice.
    wait_until(
        lambda: (
            projector.run("appointments")
            and status_of(projector, "appointments").events_behind == 0
        ),
        timeout=20,
        what="the appointments projection to run ahead of the others",
    )
    booked.append(clinic.book("2027-01-11 14:00"))
    # The pass's page, read for "patients" from the start, holds the bookings above again.
    assert (
        status_of(projector, "patients").events_behind
        > status_of(projector, "appointments").events_behind
    )

    wait_until(
        lambda: projector.run_many(projector.names) and everything_projected(projector),
        timeout=20,
        what="one pass to bring every projection level",
    )
    for name in projector.names:
        assert services.maintenance.verify(name).ok, name
    names = [row.full_name for row in _patients(services)]
    assert len(names) == len(set(names)) == 8
    assert all(detail(services, appointment) is not None for appointment in booked)


def test_a_failure_in_a_joint_pass_is_counted_on_its_projection_alone(services, clinic, engine):
    """A pass first applies every projection without savepoints; a handler that fails
    makes it roll back and go again guarded, where the failure is counted on its own
    projection and the others are applied, once."""

    def broken(view, record):
        raise RuntimeError("a handler with a bug")

    probe = Projection("probe", version=1, tables=())
    probe.handlers["PatientRegistered"] = (broken, None)
    projector = Projector(services.store, engine, [patients, probe], tz=services.tz, backoff=0.001)
    wait_until(
        lambda: (
            projector.run_many(["patients", "probe"])
            and status_of(projector, "probe").state == "parked"
            and status_of(projector, "patients").events_behind == 0
        ),
        timeout=20,
        what="the probe to park while the patients projection goes on",
    )

    parked = status_of(projector, "probe").row
    first_patient = services.store.load(clinic.patient_ids[0])[0].position
    assert (parked.failures, parked.failed_position) == (3, first_patient)
    assert "a handler with a bug" in parked.last_error
    assert services.maintenance.verify("patients").ok
    assert len(_patients(services)) == 3
