"""Patients and doctors: registration rules and working hours."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest

from app.domain.doctor import Doctor, parse_hours
from app.domain.errors import (
    AlreadyExistsError,
    InvalidTransitionError,
    ValidationError,
)
from app.domain.events import (
    DoctorRegistered,
    PatientDetailsChanged,
    PatientMerged,
    PatientMergedInto,
    WorkingHoursSet,
)
from app.domain.patient import Patient, PatientDetails, merge

from .domain_builders import TZ, doctor, local, patient

TODAY = date(2027, 1, 11)


def details(**overrides):
    fields = {
        "full_name": "  Jean   Dupont ",
        "date_of_birth": date(1980, 2, 3),
        "phone": "+33 6 12 34 56 78",
        "email": "jean@example.org",
        **overrides,
    }
    return PatientDetails.checked(today=TODAY, **fields)


class TestPatient:
    def test_registration_tidies_the_name(self):
        [event] = Patient(id=uuid4()).register(details())
        assert event.full_name == "Jean Dupont"

    @pytest.mark.parametrize(
        ("overrides", "field", "message"),
        [
            ({"full_name": ""}, "full_name", "The patient's name is required."),
            ({"full_name": "x" * 121}, "full_name", "too long"),
            ({"date_of_birth": None}, "date_of_birth", "The date of birth is required."),
            ({"date_of_birth": date(2027, 1, 12)}, "date_of_birth", "cannot be in the future"),
            ({"phone": "call me maybe"}, "phone", "only digits"),
            ({"email": "jean at example"}, "email", "does not look right"),
        ],
    )
    def test_refuses_bad_details_naming_the_field(self, overrides, field, message):
        with pytest.raises(ValidationError) as refused:
            details(**overrides)
        assert message in refused.value.errors[field]

    def test_reports_every_bad_field_at_once(self):
        with pytest.raises(ValidationError) as refused:
            details(full_name="", email="nope")
        assert set(refused.value.errors) == {"full_name", "email"}

    def test_phone_and_email_are_optional(self):
        assert details(phone="", email="").phone == ""

    def test_changing_to_the_same_details_records_nothing(self):
        subject = patient()
        same = PatientDetails("Jean Dupont", date(1980, 2, 3), "0612345678", "j@d.fr")
        assert subject.change_details(same) == []
        [event] = subject.change_details(details())
        assert isinstance(event, PatientDetailsChanged)

    def test_cannot_register_twice(self):
        with pytest.raises(AlreadyExistsError):
            patient().register(details())


class TestMerge:
    def test_each_record_gets_its_event_naming_the_other(self):
        kept, duplicate = patient(), patient()
        [on_kept], [on_merged] = merge(kept, duplicate)
        assert on_kept == PatientMerged(merged_id=duplicate.id, merged_name="Jean Dupont")
        assert on_merged == PatientMergedInto(kept_id=kept.id, kept_name="Jean Dupont")

    def test_a_merged_record_is_closed_to_changes_and_to_another_merge(self):
        kept, duplicate = patient(), patient()
        _, on_merged = merge(kept, duplicate)
        for event in on_merged:
            duplicate.apply(event)
        assert duplicate.merged_into == kept.id
        with pytest.raises(InvalidTransitionError, match="merged into another"):
            duplicate.change_details(details())
        with pytest.raises(InvalidTransitionError):
            merge(patient(), duplicate)
        with pytest.raises(InvalidTransitionError):
            merge(duplicate, patient())  # nor kept: its person lives on another record

    def test_a_record_is_not_merged_into_itself(self):
        subject = patient()
        with pytest.raises(ValidationError) as refused:
            merge(subject, subject)
        assert "into itself" in refused.value.errors["merged_id"]


class TestDoctor:
    def test_registration_checks_name_specialty_and_slot_length(self):
        with pytest.raises(ValidationError) as refused:
            Doctor(id=uuid4()).register(full_name="", specialty="", slot_minutes=2)
        assert set(refused.value.errors) == {"full_name", "specialty", "slot_minutes"}
        [event] = Doctor(id=uuid4()).register(full_name="Dr Lee", specialty="ENT", slot_minutes=20)
        assert event == DoctorRegistered("Dr Lee", "ENT", 20)

    def test_cannot_register_twice(self):
        with pytest.raises(AlreadyExistsError):
            doctor().register(full_name="Dr Lee", specialty="ENT", slot_minutes=20)

    @pytest.mark.parametrize(
        ("raw", "message"),
        [
            ({"mon": [["9h", "12:00"]]}, "write times as HH:MM"),
            ({"mon": [["12:00", "09:00"]]}, "ends before it starts"),
            ({"mon": [["09:00", "12:00"], ["11:00", "13:00"]]}, "overlap"),
            ({"funday": [["09:00", "12:00"]]}, "Unknown day"),
        ],
    )
    def test_refuses_malformed_working_hours(self, raw, message):
        with pytest.raises(ValidationError) as refused:
            parse_hours(raw)
        assert message in " ".join(refused.value.errors.values())

    def test_new_hours_take_effect_and_unchanged_hours_record_nothing(self):
        subject = doctor()
        saturday = parse_hours({"sat": [["09:00", "12:00"]]})
        [event] = subject.set_working_hours(saturday, 15)
        assert isinstance(event, WorkingHoursSet)
        subject.apply(event)
        assert subject.schedule().fits(local("2027-01-16 10:00"), local("2027-01-16 10:30"), TZ)
        refused = subject.schedule().refusal(
            local("2027-01-12 10:00"), local("2027-01-12 10:30"), TZ
        )
        assert "they do not work on Tuesdays" in str(refused)
        assert subject.set_working_hours(saturday, 15) == []

    def test_a_visit_across_midnight_is_never_inside_working_hours(self):
        subject = doctor({"mon": [["00:00", "23:59"]], "tue": [["00:00", "23:59"]]})
        refused = subject.schedule().refusal(
            local("2027-01-11 23:30"), local("2027-01-12 00:15"), TZ
        )
        assert str(refused) == "An appointment must start and end on the same day."
