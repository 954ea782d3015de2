"""The command handlers' rules through the real bus, on the in-memory store (memory.py):
bad input, ids of the wrong kind, stale versions, illegal moves and repeats. Each is
refused with its error and message, and writes nothing.

The doctor's held time in the reservations table, and what needs a database (commit
order, races), are tested in tests/integration."""

from __future__ import annotations

from uuid import uuid4

import pytest

from app.commands import (
    CancelAppointment,
    ChangePatientDetails,
    CheckInAppointment,
    CloseClinic,
    CompleteAppointment,
    ConfirmAppointment,
    CreateAppointment,
    DefineVisitType,
    RegisterPatient,
    RescheduleAppointment,
    SetWorkingHours,
)
from app.domain.errors import (
    AlreadyExistsError,
    ConflictError,
    InvalidTransitionError,
    NotFoundError,
    OutsideWorkingHoursError,
    ValidationError,
)

from ..clinic import local


def test_an_appointment_goes_through_its_whole_life_in_one_stream(services, clinic, clock):
    appointment = clinic.book("2027-01-12 10:00")
    bus = services.bus
    assert bus.handle(ConfirmAppointment(appointment_id=appointment)).version == 2
    clock.set_local("2027-01-12 09:55")
    bus.handle(CheckInAppointment(appointment_id=appointment))
    clock.set_local("2027-01-12 10:25")
    result = bus.handle(CompleteAppointment(appointment_id=appointment, actor="dr.martin"))
    history = services.store.load(appointment)
    assert [r.event_type for r in history] == [
        "AppointmentCreated",
        "AppointmentConfirmed",
        "AppointmentCheckedIn",
        "AppointmentCompleted",
    ]
    assert result.version == 4 and result.position == history[-1].position
    assert history[-1].metadata["actor"] == "dr.martin"
    assert history[-1].metadata["causation_id"] == str(result.command_id)
    assert history[-1].recorded_at == clock.now  # the handler's clock, so history can be replayed


def test_a_patient_arriving_with_a_pending_appointment_is_checked_in_in_one_action(
    services, clinic, clock
):
    appointment = clinic.book("2027-01-12 10:00")
    clock.set_local("2027-01-12 09:50")
    result = services.bus.handle(CheckInAppointment(appointment_id=appointment, actor="amelie"))
    history = services.store.load(appointment)
    # The history says both, in order, by the one who did it, at that moment.
    assert [r.event_type for r in history] == [
        "AppointmentCreated",
        "AppointmentConfirmed",
        "AppointmentCheckedIn",
    ]
    assert [r.actor for r in history[1:]] == ["amelie", "amelie"]
    assert {r.recorded_at for r in history[1:]} == {clock.now}
    assert result.version == 3
    # Not on another day: the same rule as for a confirmed one, and nothing written.
    later = clinic.book("2027-01-13 10:00")
    before = services.store.count()
    with pytest.raises(InvalidTransitionError, match="only on the day of the appointment"):
        services.bus.handle(CheckInAppointment(appointment_id=later))
    assert services.store.count() == before


def booking(clinic, at: str = "2027-01-12 10:00", **fields) -> CreateAppointment:  # type: ignore[no-untyped-def]
    """Half an hour with the clinic's doctor for its first patient."""
    return CreateAppointment(
        patient_id=clinic.patient_ids[0],
        doctor_id=clinic.doctor_id,
        starts_at=local(at),
        duration_minutes=30,
        title="Check-up",
        **fields,
    )


def test_a_handler_returns_the_new_version_and_the_position_of_its_last_event(services, clinic):
    result = services.bus.handle(booking(clinic))
    [record] = services.store.load(result.stream_id)
    assert (result.version, result.position) == (1, record.position)


@pytest.mark.parametrize(
    ("starts", "minutes", "error"),
    [
        ("2027-01-12 07:00", 30, OutsideWorkingHoursError),
        ("2027-01-10 10:00", 30, ValidationError),  # the day before the clock's today
        ("2027-01-12 10:00", -15, ValidationError),  # ends before it starts
    ],
)
def test_bookings_outside_hours_in_the_past_or_ending_first_are_refused(
    services, clinic, starts, minutes, error
):
    before = services.store.count()
    with pytest.raises(error):
        clinic.book(starts, minutes)
    assert services.store.count() == before


def test_a_stale_version_is_a_conflict_that_says_what_changed(services, clinic):
    appointment = clinic.book("2027-01-12 10:00")
    seen = 1  # the version on the receptionist's screen
    services.bus.handle(
        RescheduleAppointment(
            appointment_id=appointment,
            starts_at=local("2027-01-12 11:00"),
            duration_minutes=30,
            actor="bob",
        )
    )
    with pytest.raises(ConflictError) as conflict:
        services.bus.handle(
            CancelAppointment(
                appointment_id=appointment, reason="ill", expected_version=seen, actor="alice"
            )
        )
    assert conflict.value.changes
    assert "appointment rescheduled by bob" in str(conflict.value.changes[0])
    assert "Reload" in conflict.value.message
    assert services.store.stream_version(appointment) == 2  # no silent overwrite


def test_the_same_command_sent_twice_takes_effect_once(services, clinic):
    cmd = ConfirmAppointment(appointment_id=clinic.book("2027-01-12 10:00"))
    first, again = services.bus.handle(cmd), services.bus.handle(cmd)
    assert (again.stream_id, again.version, again.position) == (
        first.stream_id,
        first.version,
        first.position,
    )
    assert again.replayed and not first.replayed
    assert services.store.stream_version(cmd.appointment_id) == 2


@pytest.mark.parametrize(
    "command",
    [
        lambda clinic: DefineVisitType(label="Vaccination", minutes=15, doctor_id=clinic.doctor_id),
        lambda clinic: CloseClinic(days={"2027-12-25": "Noël"}),
    ],
    ids=["visit type for a doctor", "closure"],
)
def test_a_clinic_command_sent_twice_is_answered_as_the_first_time(services, clinic, command):
    """The clinic's commands write to its one stream, whatever else they name: a repeat is
    recognised as the same action on the same record, not refused or failed."""
    cmd = command(clinic)
    first, again = services.bus.handle(cmd), services.bus.handle(cmd)
    assert again.replayed and (again.stream_id, again.version) == (
        first.stream_id,
        first.version,
    )


def test_illegal_moves_leave_the_store_unchanged(services, clinic):
    appointment = clinic.book("2027-01-12 10:00")
    before = services.store.count()
    with pytest.raises(InvalidTransitionError, match="Only an appointment whose patient"):
        services.bus.handle(CompleteAppointment(appointment_id=appointment))
    assert services.store.count() == before


def test_a_booking_agreed_with_the_patient_is_booked_and_confirmed_in_one_command(services, clinic):
    # "1", as the booking form's box sends it.
    result = services.bus.handle(booking(clinic, confirmed="1"))
    history = services.store.load(result.stream_id)
    assert [r.event_type for r in history] == ["AppointmentCreated", "AppointmentConfirmed"]
    assert result.version == 2
    before = services.store.count()
    with pytest.raises(ValidationError) as refused:
        booking(clinic, "2027-01-12 11:00", confirmed="maybe")
    assert refused.value.errors == {"confirmed": "Confirmed with the patient must be yes or no."}
    assert services.store.count() == before


class TestBadInput:
    """Malformed or unknown input: a typed error with a message, and no event written."""

    @pytest.mark.parametrize(
        ("fields", "error", "field"),
        [
            ({"patient_id": "not-a-uuid"}, ValidationError, "patient_id"),
            ({"starts_at": "2027-01-12T10:00"}, ValidationError, "starts_at"),
            ({"starts_at": "tomorrow-ish"}, ValidationError, "starts_at"),
            ({"title": ""}, ValidationError, "title"),
            ({"title": "x" * 5000}, ValidationError, "title"),
            ({"patient_id": str(uuid4())}, NotFoundError, "patient_id"),
            ({"doctor_id": str(uuid4())}, NotFoundError, "doctor_id"),
        ],
    )
    def test_booking(self, services, clinic, fields, error, field):
        before = services.store.count()
        values = {
            "patient_id": str(clinic.patient_ids[0]),
            "doctor_id": str(clinic.doctor_id),
            "starts_at": "2027-01-12T10:00+01:00",
            "duration_minutes": "30",
            "title": "Check-up",
            **fields,
        }
        with pytest.raises(error) as refused:
            services.bus.handle(CreateAppointment(**values))
        message = refused.value.errors[field] if error is ValidationError else refused.value.field
        assert message
        assert services.store.count() == before

    def test_registering_a_patient_with_an_empty_name(self, services):
        with pytest.raises(ValidationError) as refused:
            services.bus.handle(RegisterPatient(full_name="   ", date_of_birth="1990-01-01"))
        assert refused.value.errors == {"full_name": "The patient's name is required."}
        assert services.store.count() == 0

    def test_changing_an_unknown_patient(self, services):
        with pytest.raises(NotFoundError, match="No patient with that id exists"):
            services.bus.handle(
                ChangePatientDetails(patient_id=uuid4(), full_name="A", date_of_birth="1990-01-01")
            )
        assert services.store.count() == 0

    def test_confirming_an_unknown_appointment(self, services):
        with pytest.raises(NotFoundError):
            services.bus.handle(ConfirmAppointment(appointment_id=uuid4()))

    def test_working_hours_that_make_no_sense(self, services, clinic):
        before = services.store.count()
        with pytest.raises(ValidationError):
            services.bus.handle(
                SetWorkingHours(doctor_id=clinic.doctor_id, hours={"mon": [["18:00", "09:00"]]})
            )
        assert services.store.count() == before


class TestIdsOfTheWrongKind:
    """An id that belongs to another kind of record is not the record asked for."""

    def test_a_doctor_id_is_not_a_patient(self, services, clinic):
        before = services.store.count()
        with pytest.raises(NotFoundError, match="No patient with that id"):
            services.bus.handle(
                ChangePatientDetails(
                    patient_id=clinic.doctor_id, full_name="A", date_of_birth="1990-01-01"
                )
            )
        with pytest.raises(NotFoundError, match="No patient with that id"):
            services.bus.handle(
                CreateAppointment(
                    patient_id=clinic.doctor_id,
                    doctor_id=clinic.doctor_id,
                    starts_at=local("2027-01-12 10:00"),
                    duration_minutes=30,
                    title="x",
                )
            )
        assert services.store.count() == before

    def test_a_patient_id_is_not_a_doctor(self, services, clinic):
        before = services.store.count()
        with pytest.raises(NotFoundError, match="No doctor with that id"):
            services.bus.handle(
                SetWorkingHours(
                    doctor_id=clinic.patient_ids[0], hours={"mon": [["09:00", "12:00"]]}
                )
            )
        assert services.store.count() == before

    def test_registering_under_an_id_in_use_is_refused(self, services, clinic):
        with pytest.raises(AlreadyExistsError, match="already in use"):
            services.bus.handle(
                RegisterPatient(
                    patient_id=clinic.doctor_id, full_name="A", date_of_birth="1990-01-01"
                )
            )


class TestInputThatCannotBeStored:
    @pytest.mark.parametrize(
        ("fields", "field", "message"),
        [
            ({"title": "Check\x00up"}, "title", "cannot be stored"),
            ({"title": "Check \ud800 up"}, "title", "cannot be stored"),
            ({"starts_at": "9999-12-31T23:30+01:00"}, "starts_at", "not a year the clinic books"),
            ({"duration_minutes": str(10**20)}, "duration_minutes", "between 1 and 1440"),
        ],
    )
    def test_is_refused_with_a_message_and_writes_nothing(
        self, services, clinic, fields, field, message
    ):
        before = services.store.count()
        values = {
            "patient_id": clinic.patient_ids[0],
            "doctor_id": clinic.doctor_id,
            "starts_at": "2027-01-12T10:00+01:00",
            "duration_minutes": 30,
            "title": "Check-up",
            **fields,
        }
        with pytest.raises(ValidationError) as refused:
            services.bus.handle(CreateAppointment(**values))
        assert message in refused.value.errors[field]
        assert services.store.count() == before
