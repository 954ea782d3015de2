"""Command field coercion, and event payloads through the codec and its upcasters."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from uuid import uuid4

import pytest

from app.commands import CancelAppointment, CreateAppointment, RegisterPatient, SetWorkingHours
from app.domain import events as ev
from app.domain.errors import ValidationError
from app.eventstore import EventCodec, UnknownEventError

PARIS_WINTER = timezone(timedelta(hours=1))


class TestCommandFields:
    def test_text_fields_from_a_form_become_typed_values(self):
        patient, doctor = uuid4(), uuid4()
        cmd = CreateAppointment(
            patient_id=str(patient),
            doctor_id=f" {doctor} ",
            starts_at="2027-01-12T10:00+01:00",
            duration_minutes="30",
            title="Check-up",
        )
        assert (cmd.patient_id, cmd.doctor_id, cmd.duration_minutes) == (patient, doctor, 30)
        assert cmd.starts_at == datetime(2027, 1, 12, 10, tzinfo=PARIS_WINTER)

    def test_every_malformed_field_is_named_with_a_clear_message(self):
        with pytest.raises(ValidationError) as refused:
            CreateAppointment(
                patient_id="42",
                doctor_id="",
                starts_at="next tuesday",
                duration_minutes="half an hour",
                title="x",
            )
        assert refused.value.errors == {
            "patient_id": "That is not a valid patient id.",
            "doctor_id": "That is not a valid doctor id.",
            "starts_at": "'next tuesday' is not a date and time (e.g. 2027-01-14T09:30+01:00).",
            "duration_minutes": "The duration must be a whole number.",
        }

    def test_a_time_without_a_zone_is_refused(self):
        with pytest.raises(ValidationError) as refused:
            CreateAppointment(
                patient_id=uuid4(),
                doctor_id=uuid4(),
                starts_at="2027-01-12T10:00",
                duration_minutes=30,
                title="x",
            )
        assert refused.value.errors == {"starts_at": "The time must include a time zone."}

    def test_versions_and_dates_are_checked(self):
        with pytest.raises(ValidationError) as refused:
            CancelAppointment(appointment_id=uuid4(), reason="r", expected_version="-1")
        assert "between 0 and" in refused.value.errors["expected_version"]
        with pytest.raises(ValidationError) as refused:
            RegisterPatient(full_name="A", date_of_birth="03/02/1980")
        assert "YYYY-MM-DD" in refused.value.errors["date_of_birth"]

    @pytest.mark.parametrize("hours", ["9-5", {"mon": "09:00-12:00"}, {"mon": [["09:00"]]}])
    def test_working_hours_of_the_wrong_shape_are_refused(self, hours):
        with pytest.raises(ValidationError) as refused:
            SetWorkingHours(doctor_id=uuid4(), hours=hours)
        assert "for each day, start and end times" in refused.value.errors["hours"]

    def test_each_command_gets_its_own_id_unless_the_client_sends_one(self):
        first, second = (CancelAppointment(appointment_id=uuid4(), reason="r") for _ in range(2))
        assert first.command_id != second.command_id
        given = uuid4()
        assert (
            CancelAppointment(appointment_id=uuid4(), reason="r", command_id=str(given)).command_id
            == given
        )


SAMPLES = [
    ev.PatientRegistered("Jean Dupont", date(1980, 2, 3), "06", "j@d.fr"),
    ev.PatientDetailsChanged("Jean Dupont", date(1980, 2, 3), "07", ""),
    ev.PatientMerged(merged_id=uuid4(), merged_name="Jean Dupond"),
    ev.PatientMergedInto(kept_id=uuid4(), kept_name="Jean Dupont"),
    ev.DoctorRegistered("Dr Lee", "ENT", 20),
    ev.WorkingHoursSet({"mon": [["09:00", "12:00"]]}, 20),
    ev.AbsenceRecorded(
        uuid4(),
        datetime(2027, 12, 13, 23, tzinfo=UTC),
        datetime(2027, 12, 18, 23, tzinfo=UTC),
        "holiday",
        "",
    ),
    ev.AbsenceChanged(
        uuid4(),
        datetime(2027, 12, 14, 13, tzinfo=UTC),
        datetime(2027, 12, 14, 17, tzinfo=UTC),
        "training",
        "Échographie",
    ),
    ev.AbsenceCancelled(uuid4()),
    ev.DayHoursSet(date(2027, 3, 13), [["09:00", "12:00"]]),
    ev.DayHoursCleared(date(2027, 3, 13)),
    ev.ClinicHoursSet({"mon": [["08:00", "19:00"]]}),
    ev.ClinicClosed({"2027-12-25": "Noël"}),
    ev.ClinicReopened(date(2027, 12, 25)),
    ev.VisitTypeDefined(uuid4(), "Vaccination", 15, None, "Pédiatrie"),
    ev.VisitTypeDefined(uuid4(), "Suivi", 20, uuid4(), ""),
    ev.VisitTypeRetired(uuid4()),
    ev.AppointmentCreated(
        uuid4(),
        uuid4(),
        datetime(2027, 1, 12, 9, tzinfo=UTC),
        datetime(2027, 1, 12, 9, 30, tzinfo=UTC),
        "Check-up",
    ),
    ev.AppointmentConfirmed(),
    ev.AppointmentCancelled("Patient called"),
    ev.AppointmentRescheduled(
        datetime(2027, 1, 13, 9, tzinfo=UTC),
        datetime(2027, 1, 13, 9, 30, tzinfo=UTC),
        datetime(2027, 1, 12, 9, tzinfo=UTC),
        datetime(2027, 1, 12, 9, 30, tzinfo=UTC),
        "",
        doctor_id=uuid4(),
        previous_doctor_id=uuid4(),
        awaits_confirmation=False,
    ),
    ev.AppointmentCheckedIn(),
    ev.AppointmentCompleted(),
    ev.AppointmentMarkedNoShow(),
    ev.AppointmentCheckInUndone(undone_version=3, status="confirmed"),
    ev.AppointmentNoShowUndone(undone_version=3, status="confirmed"),
    ev.AppointmentCompletionUndone(undone_version=4, status="checked_in"),
    ev.AppointmentCancellationUndone(undone_version=2, status="pending"),
    ev.AppointmentCreated(
        uuid4(),
        uuid4(),
        datetime(2027, 1, 19, 9, tzinfo=UTC),
        datetime(2027, 1, 19, 9, 30, tzinfo=UTC),
        "Kinésithérapie",
        series_id=uuid4(),
        occurrence=2,
    ),
    ev.SeriesPlanned(
        uuid4(),
        uuid4(),
        "Kinésithérapie",
        1,
        False,
        [
            {
                "occurrence": 1,
                "appointment_id": str(uuid4()),
                "starts_at": "2027-01-12T08:00:00+00:00",
            }
        ],
    ),
    ev.SeriesCancelled(3, "Course ended", [str(uuid4())]),
    ev.WaitlistJoined(
        uuid4(), None, "Cardiologie", date(2027, 1, 11), date(2027, 2, 28), "morning", "Suivi", ""
    ),
    ev.WaitlistLeft("booked", uuid4()),
    ev.WaitlistLeft("removed", None),
    ev.ConsentGiven("email"),
    ev.ConsentWithdrawn("sms"),
    ev.ContactPreferenceSet("sms", "fr"),
    ev.ClinicContactSet("Clinique du Parc", "12 rue des Lilas", "01 43 00 00 00", "Carte Vitale"),
    ev.ReminderSent(
        uuid4(),
        "first",
        "k:first:20270112T0800Z",
        "email",
        "Q1",
        datetime(2027, 1, 12, 8, 0, tzinfo=UTC),
        False,
    ),
    ev.ReminderSkipped(
        uuid4(),
        "second",
        "k:second:20270112T0800Z",
        datetime(2027, 1, 12, 8, 0, tzinfo=UTC),
        "no_consent",
    ),
    ev.ReminderParked(
        uuid4(),
        "first",
        "k:first:20270112T0800Z",
        "sms",
        datetime(2027, 1, 12, 8, 0, tzinfo=UTC),
        8,
        "503",
    ),
]


class TestCodec:
    @pytest.mark.parametrize("event", SAMPLES, ids=lambda e: type(e).__name__)
    def test_every_event_survives_a_round_trip_through_json(self, event):
        codec = EventCodec()
        name, version, data = codec.encode(event)
        assert codec.decode(name, version, data) == event

    def test_all_event_classes_are_sampled(self):
        assert {type(e) for e in SAMPLES} == set(ev.ALL_EVENTS)

    def test_a_version_1_appointment_is_upcast_from_its_duration(self):
        old = {
            "patient_id": str(uuid4()),
            "doctor_id": str(uuid4()),
            "starts_at": "2027-01-12T09:00:00+00:00",
            "duration_minutes": 45,
            "title": "x",
        }
        event = EventCodec().decode("AppointmentCreated", 1, old)
        assert event.ends_at == datetime(2027, 1, 12, 9, 45, tzinfo=UTC)

    def test_a_version_2_booking_reads_as_one_without_a_visit_type(self):
        old = {
            "patient_id": str(uuid4()),
            "doctor_id": str(uuid4()),
            "starts_at": "2027-01-12T09:00:00+00:00",
            "ends_at": "2027-01-12T09:30:00+00:00",
            "title": "x",
        }
        assert EventCodec().decode("AppointmentCreated", 2, old).visit_type_id is None

    def test_a_version_3_booking_reads_as_a_single_one(self):
        old = {
            "patient_id": str(uuid4()),
            "doctor_id": str(uuid4()),
            "starts_at": "2027-01-12T09:00:00+00:00",
            "ends_at": "2027-01-12T09:30:00+00:00",
            "title": "x",
            "visit_type_id": None,
        }
        event = EventCodec().decode("AppointmentCreated", 3, old)
        assert (event.series_id, event.occurrence) == (None, None)

    def test_a_version_1_reschedule_reads_as_a_move_with_the_same_doctor_back_to_pending(self):
        old = {
            "starts_at": "2027-01-13T09:00:00+00:00",
            "ends_at": "2027-01-13T09:30:00+00:00",
            "previous_starts_at": "2027-01-12T09:00:00+00:00",
            "previous_ends_at": "2027-01-12T09:30:00+00:00",
            "reason": "",
        }
        event = EventCodec().decode("AppointmentRescheduled", 1, old)
        assert (event.doctor_id, event.previous_doctor_id) == (None, None)
        assert event.awaits_confirmation is True
        assert event.starts_at == datetime(2027, 1, 13, 9, tzinfo=UTC)

    def test_unknown_types_and_future_versions_are_reported(self):
        with pytest.raises(UnknownEventError):
            EventCodec().decode("AppointmentTeleported", 1, {})
        with pytest.raises(UnknownEventError):
            EventCodec().decode("AppointmentConfirmed", 7, {})
