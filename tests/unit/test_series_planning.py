"""Planning a series (issue 19): the days a course falls on, in the clinic's calendar, with
the same wall-clock time across daylight saving changes, the month's weekday kept at month
ends, and the cap refusing a typing slip before anything is booked."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.appointment import Appointment, Status
from app.domain.errors import ValidationError
from app.domain.events import AppointmentConfirmed, AppointmentCreated
from app.domain.series import (
    MAX_VISITS,
    Repeat,
    Series,
    checked_repeat,
    plan_visits,
    visit_id,
    with_changes,
)

from ..conftest import CLINIC_TZ as PARIS


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=PARIS)


def local_times(visits):  # type: ignore[no-untyped-def]
    return [v.starts_at.astimezone(PARIS).strftime("%Y-%m-%d %H:%M") for v in visits]


class TestDaylightSaving:
    def test_a_weekly_course_keeps_its_clock_time_across_the_spring_change(self):
        visits = plan_visits(at("2027-03-22 09:00"), PARIS, Repeat(1), count=3)
        assert local_times(visits) == ["2027-03-22 09:00", "2027-03-29 09:00", "2027-04-05 09:00"]
        # Paris moves from UTC+1 to UTC+2 on 28 March 2027: an hour less in UTC after it.
        assert [v.starts_at.hour for v in visits] == [8, 7, 7]

    def test_and_across_the_autumn_change(self):
        visits = plan_visits(at("2027-10-25 18:30"), PARIS, Repeat(1), count=2)
        assert local_times(visits) == ["2027-10-25 18:30", "2027-11-01 18:30"]
        assert [v.starts_at.astimezone(UTC).hour for v in visits] == [16, 17]

    def test_a_time_the_clocks_skip_is_planned_without_a_start_and_left_out(self):
        # 02:30 on Sunday 28 March 2027 does not exist in Paris.
        visits = plan_visits(at("2027-03-21 02:30"), PARIS, Repeat(1), count=2)
        assert visits[1].day == date(2027, 3, 28) and visits[1].starts_at is None
        kept, left = with_changes(visits, {})
        assert [v.occurrence for v in kept] == [1] and [v.occurrence for v in left] == [2]
        moved, _ = with_changes(visits, {2: at("2027-03-28 10:00")})
        assert [v.occurrence for v in moved] == [1, 2] and moved[1].moved


class TestMonthly:
    def test_the_second_tuesday_stays_the_second_tuesday(self):
        visits = plan_visits(at("2027-01-12 09:00"), PARIS, Repeat(0, monthly=True), count=4)
        assert [v.day for v in visits] == [
            date(2027, 1, 12),
            date(2027, 2, 9),
            date(2027, 3, 9),
            date(2027, 4, 13),
        ]

    def test_the_last_friday_stays_the_last_even_in_a_month_with_four(self):
        visits = plan_visits(at("2027-01-29 09:00"), PARIS, Repeat(0, monthly=True), count=4)
        assert [v.day for v in visits] == [
            date(2027, 1, 29),
            date(2027, 2, 26),
            date(2027, 3, 26),
            date(2027, 4, 30),
        ]

    def test_a_course_runs_over_the_year_end(self):
        visits = plan_visits(at("2027-11-30 09:00"), PARIS, Repeat(0, monthly=True), count=3)
        assert [v.day for v in visits] == [
            date(2027, 11, 30),
            date(2027, 12, 28),
            date(2028, 1, 25),
        ]

    @given(st.dates(date(2026, 1, 1), date(2030, 12, 31)), st.integers(2, 24))
    def test_every_visit_is_on_the_same_weekday_once_a_month(self, first, count):
        visits = plan_visits(
            datetime.combine(first, datetime.min.time()).replace(hour=10, tzinfo=PARIS),
            PARIS,
            Repeat(0, monthly=True),
            count=count,
        )
        assert len(visits) == count
        assert {v.day.weekday() for v in visits} == {first.weekday()}
        months = [(v.day.year, v.day.month) for v in visits]
        assert len(set(months)) == count  # one a month, none skipped or doubled
        assert all(b[0] * 12 + b[1] - a[0] * 12 - a[1] == 1 for a, b in itertools.pairwise(months))


class TestHowLong:
    def test_until_includes_its_own_day(self):
        visits = plan_visits(at("2027-01-12 09:00"), PARIS, Repeat(2), until=date(2027, 2, 9))
        assert [v.day for v in visits] == [date(2027, 1, 12), date(2027, 1, 26), date(2027, 2, 9)]

    def test_the_cap_is_said_with_what_was_asked(self):
        with pytest.raises(ValidationError) as refused:
            plan_visits(at("2027-01-12 09:00"), PARIS, Repeat(1), count=10_000)
        assert refused.value.errors["occurrences"] == (
            "A series has at most 52 visits (you asked for 10000): book a longer course in parts."
        )

    def test_a_last_day_that_makes_more_than_the_cap_is_refused(self):
        with pytest.raises(ValidationError) as refused:
            plan_visits(at("2027-01-12 09:00"), PARIS, Repeat(1), until=date(2028, 6, 1))
        assert "at most 52 visits" in refused.value.errors["until"]

    def test_exactly_the_cap_is_allowed(self):
        assert len(plan_visits(at("2027-01-12 09:00"), PARIS, Repeat(1), count=MAX_VISITS)) == 52

    @pytest.mark.parametrize("weeks", [0, -1, 27, None])
    def test_every_zero_weeks_and_the_like_are_refused(self, weeks):
        with pytest.raises(ValidationError) as refused:
            checked_repeat(weeks, monthly=False)
        assert "from 1 to 26" in refused.value.errors["every_weeks"]

    @given(st.integers(1, 26), st.integers(2, MAX_VISITS))
    def test_weekly_visits_are_the_same_weekday_and_clock_time_n_weeks_apart(self, weeks, count):
        visits = plan_visits(at("2027-01-12 09:15"), PARIS, Repeat(weeks), count=count)
        assert [v.occurrence for v in visits] == list(range(1, count + 1))
        assert all(b.day - a.day == timedelta(weeks=weeks) for a, b in itertools.pairwise(visits))
        assert all(t.endswith("09:15") for t in local_times(visits))


class TestStoppingACourse:
    def booked(self, status: Status, starts: datetime) -> Appointment:
        appointment = Appointment(uuid4())
        appointment.apply(
            AppointmentCreated(uuid4(), uuid4(), starts, starts + timedelta(minutes=30), "x")
        )
        if status is Status.CONFIRMED:
            appointment.apply(AppointmentConfirmed())
        return appointment

    def test_only_the_visits_still_to_happen_from_that_one_are_cancelled(self):
        series = Series(uuid4())
        visits = plan_visits(at("2027-01-12 09:00"), PARIS, Repeat(1), count=4)
        series.apply(
            series.plan(
                patient_id=uuid4(), doctor_id=uuid4(), title="Kiné", repeat=Repeat(1), visits=visits
            )[0]
        )
        booked = {
            visit_id(series.id, 1): self.booked(Status.CONFIRMED, at("2027-01-12 09:00")),
            visit_id(series.id, 2): self.booked(Status.PENDING, at("2027-01-19 09:00")),
            visit_id(series.id, 4): self.booked(Status.CONFIRMED, at("2027-02-02 09:00")),
        }  # visit 3 was never booked
        events, cancelled = series.cancel_from(2, "Stopped", booked)
        assert set(cancelled) == {visit_id(series.id, 2), visit_id(series.id, 4)}
        assert events[0].from_occurrence == 2

    def test_a_reason_is_required(self):
        series = Series(uuid4())
        visits = plan_visits(at("2027-01-12 09:00"), PARIS, Repeat(1), count=2)
        series.apply(
            series.plan(
                patient_id=uuid4(), doctor_id=uuid4(), title="x", repeat=Repeat(1), visits=visits
            )[0]
        )
        with pytest.raises(ValidationError) as refused:
            series.cancel_from(
                1,
                " ",
                {visit_id(series.id, 1): self.booked(Status.PENDING, at("2027-01-12 09:00"))},
            )
        assert "reason" in refused.value.errors
