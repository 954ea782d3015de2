"""The doctor's diary: which appointment a requested time runs into, and what fits."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.domain.diary import Booked, check_free
from app.domain.errors import SlotTakenError

from .domain_builders import TZ, local

JEANNE = Booked(local("2027-01-12 10:30"), local("2027-01-12 11:00"), "Jeanne Dupont")
PAUL = Booked(local("2027-01-12 10:45"), local("2027-01-12 11:15"), "Paul Girard")


def refusal(starts: str, minutes: int, *booked: Booked) -> str:
    starts_at = local(f"2027-01-12 {starts}")
    ends_at = starts_at + timedelta(minutes=minutes)
    with pytest.raises(SlotTakenError) as raised:
        check_free(starts_at, ends_at, booked, doctor_name="Dr Ada Martin", tz=TZ)
    return raised.value.message


class TestCheckFree:
    def test_a_time_clear_of_every_appointment_is_accepted(self):
        check_free(
            local("2027-01-12 10:00"), local("2027-01-12 10:30"), [JEANNE, PAUL],
            doctor_name="Dr Ada Martin", tz=TZ,
        )  # fmt: skip

    def test_a_duration_running_into_the_next_appointment_names_it_and_what_fits(self):
        assert refusal("10:15", 30, JEANNE) == (
            "A 30-minute appointment from 10:15 would run into Jeanne Dupont's appointment "
            "at 10:30; at most 15 minutes are free from 10:15."
        )

    def test_the_earliest_appointment_in_the_way_bounds_what_fits(self):
        message = refusal("10:00", 60, PAUL, JEANNE)
        assert "Jeanne Dupont's appointment at 10:30" in message
        assert "at most 30 minutes are free from 10:00" in message

    def test_a_start_inside_another_appointment_says_whose_it_is_and_until_when(self):
        assert refusal("10:45", 15, JEANNE) == (
            "That time is no longer free: Dr Ada Martin already has an appointment with "
            "Jeanne Dupont from 10:30 to 11:00."
        )

    def test_a_gap_shorter_than_any_appointment_says_so(self):
        assert refusal("10:27", 15, JEANNE) == (
            "A 15-minute appointment from 10:27 would run into Jeanne Dupont's appointment "
            "at 10:30; only 3 minutes free from 10:27, too short for an appointment. "
            "Choose another time."
        )
