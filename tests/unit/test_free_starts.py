"""The first-available rule (`free_starts`): what it offers is what booking accepts.

The property tests hold it against the write side's own checks (`Schedule.refusal` for
working hours, `diary.check_free` for other appointments), on random hours, slot lengths,
durations, busy lists and clocks, daylight-saving days included; tests/unit/
test_availability.py adds absences, one-off hours and closures.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from uuid import uuid4

from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.availability import Schedule
from app.domain.diary import Booked, check_free
from app.domain.doctor import Doctor
from app.domain.errors import SlotTakenError
from app.domain.events import DoctorRegistered, WorkingHoursSet
from app.domain.rules import WEEKDAYS
from app.queries.slots import free_slots, free_starts, slot_grid

from .domain_builders import TZ, local


def booked(start: str, end: str) -> Booked:
    return Booked(local(start), local(end), "Jeanne Dupont")


def clocks(slots) -> list[str]:
    return [slot.starts_at.astimezone(TZ).strftime("%H:%M") for slot in slots]


def weekly(hours: dict | None) -> Schedule:
    return Schedule.from_data("Dr Ada Martin", hours, {}, [])


MONDAY = date(2027, 1, 11)
HOURS = weekly({"mon": [["09:00", "12:00"], ["14:00", "16:00"]]})
EARLY = local("2027-01-11 07:00")


class TestFreeStarts:
    def test_a_longer_visit_starts_on_the_grid_and_stays_inside_one_period(self):
        found = free_starts(MONDAY, HOURS, 30, [], now=EARLY, tz=TZ, minutes=60)
        # 11:30 would run past noon; 15:30 past 16:00; the lunch break splits no visit.
        assert clocks(found) == [
            "09:00",
            "09:30",
            "10:00",
            "10:30",
            "11:00",
            "14:00",
            "14:30",
            "15:00",
        ]
        assert all(s.ends_at - s.starts_at == timedelta(minutes=60) for s in found)

    def test_a_visit_may_not_run_into_an_appointment(self):
        busy = [booked("2027-01-11 10:00", "2027-01-11 10:30")]
        found = free_starts(MONDAY, HOURS, 30, busy, now=EARLY, tz=TZ, minutes=60)
        assert clocks(found)[:3] == ["09:00", "10:30", "11:00"]  # 09:30 would run into 10:00

    def test_a_shorter_visit_still_starts_on_the_grid(self):
        found = free_starts(
            MONDAY, weekly({"mon": [["09:00", "10:00"]]}), 30, [], now=EARLY, tz=TZ, minutes=10
        )
        assert clocks(found) == ["09:00", "09:30"]

    def test_the_past_and_a_day_off_offer_nothing(self):
        assert (
            clocks(free_starts(MONDAY, HOURS, 60, [], now=local("2027-01-11 15:00"), tz=TZ)) == []
        )
        assert free_starts(date(2027, 1, 12), HOURS, 30, [], now=EARLY, tz=TZ) == []
        assert free_starts(MONDAY, weekly(None), 30, [], now=EARLY, tz=TZ) == []

    def test_the_hour_skipped_in_spring_offers_nothing(self):
        # Sunday 28 March 2027: 02:00 becomes 03:00 in Paris; a period starting in the
        # skipped hour does not exist that day (as slot_grid says).
        hours = weekly({"sun": [["02:30", "05:00"], ["09:00", "10:00"]]})
        found = free_starts(date(2027, 3, 28), hours, 30, [], now=EARLY, tz=TZ)
        assert clocks(found) == ["09:00", "09:30"]

    def test_the_hour_repeated_in_autumn_is_worked_as_the_instants_say(self):
        # Sunday 31 October 2027: 03:00 becomes 02:00. From 02:30 (summer time) to 04:00
        # (winter time) is two and a half hours; the grid reaches 02:00 (winter time) half
        # an hour in, and booking judges instants too (Schedule.fits), so it is offered.
        day, hours = date(2027, 10, 31), weekly({"sun": [["02:30", "04:00"]]})
        offered = free_starts(day, hours, 30, [], now=EARLY, tz=TZ)
        assert clocks(offered) == ["02:30", "02:00", "02:30", "03:00", "03:30"]
        assert offered == free_slots(slot_grid(day, hours, 30, TZ), [], now=EARLY)


# -- properties, against the write side's checks --

DAYS = st.dates(min_value=date(2026, 1, 1), max_value=date(2028, 12, 31))
SLOT_MINUTES = st.sampled_from([5, 10, 15, 20, 30, 45, 60, 90])


@st.composite
def weekly_hours(draw: st.DrawFn) -> dict[str, list[list[str]]]:
    """Valid working hours (what parse_hours accepts): sorted, separate periods."""
    hours = {}
    for day in WEEKDAYS:
        marks = sorted(draw(st.sets(st.integers(0, 23 * 60 + 59), max_size=6)))
        pairs = [marks[i : i + 2] for i in range(0, len(marks) - 1, 2)]
        if pairs:
            hours[day] = [[f"{m // 60:02d}:{m % 60:02d}" for m in pair] for pair in pairs]
    return hours


@st.composite
def busy_lists(draw: st.DrawFn, day: date) -> list[Booked]:
    """Appointments around `day` (the evening before to the morning after), which may
    overlap one another: a list given to the rule need not be a clean diary."""
    base = datetime.combine(day, time(), TZ).astimezone(UTC) - timedelta(hours=6)
    spans = draw(st.lists(st.tuples(st.integers(0, 36 * 60), st.integers(5, 240)), max_size=12))
    return [
        Booked(base + timedelta(minutes=at), base + timedelta(minutes=at + length), "X")
        for at, length in spans
    ]


def doctor_with(hours: dict[str, list[list[str]]], slot_minutes: int) -> Doctor:
    return Doctor.from_history(
        uuid4(),
        [
            DoctorRegistered("Dr Ada Martin", "General practice", slot_minutes),
            WorkingHoursSet(hours, slot_minutes),
        ],
    )


def booking_accepts(doctor: Doctor, start: datetime, end: datetime, busy: list[Booked]) -> bool:
    if doctor.schedule().refusal(start, end, TZ) is not None:
        return False
    try:
        check_free(start, end, busy, doctor_name=doctor.full_name, tz=TZ)
    except SlotTakenError:
        return False
    return True


@st.composite
def cases(draw: st.DrawFn):
    day = draw(DAYS)
    hours = draw(weekly_hours())
    slot_minutes = draw(SLOT_MINUTES)
    minutes = draw(st.integers(1, 48).map(lambda n: n * 5))
    busy = draw(busy_lists(day))
    start_of_day = datetime.combine(day, time(), TZ).astimezone(UTC)
    now = start_of_day + timedelta(minutes=draw(st.integers(-60, 25 * 60)))
    return day, hours, slot_minutes, minutes, busy, now


# No deadline: a loaded CI machine (the e2e browsers run beside) is slow, not wrong.
@settings(deadline=None)
@given(cases())
def test_every_time_offered_is_one_booking_accepts(case):
    day, hours, slot_minutes, minutes, busy, now = case
    doctor = doctor_with(hours, slot_minutes)
    schedule = doctor.schedule()
    for slot in free_starts(day, schedule, slot_minutes, busy, now=now, tz=TZ, minutes=minutes):
        assert slot.starts_at > now
        assert slot.ends_at - slot.starts_at == timedelta(minutes=minutes)
        assert booking_accepts(doctor, slot.starts_at, slot.ends_at, busy), slot


# No deadline: a loaded CI machine (the e2e browsers run beside) is slow, not wrong.
@settings(deadline=None)
@given(cases())
def test_every_future_grid_start_booking_accepts_is_offered(case):
    day, hours, slot_minutes, minutes, busy, now = case
    doctor = doctor_with(hours, slot_minutes)
    schedule = doctor.schedule()
    offered = {
        slot.starts_at
        for slot in free_starts(day, schedule, slot_minutes, busy, now=now, tz=TZ, minutes=minutes)
    }
    length = timedelta(minutes=minutes)
    for slot in slot_grid(day, schedule, slot_minutes, TZ):
        if slot.starts_at > now and booking_accepts(
            doctor, slot.starts_at, slot.starts_at + length, busy
        ):
            assert slot.starts_at in offered, slot


# No deadline: a loaded CI machine (the e2e browsers run beside) is slow, not wrong.
@settings(deadline=None)
@given(cases())
def test_at_the_slot_length_it_offers_exactly_the_free_slots(case):
    day, hours, slot_minutes, _, busy, now = case
    found = free_starts(day, weekly(hours), slot_minutes, busy, now=now, tz=TZ)
    assert found == free_slots(slot_grid(day, weekly(hours), slot_minutes, TZ), busy, now=now)
