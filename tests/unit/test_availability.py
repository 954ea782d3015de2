"""The one availability rule (`Schedule`): weekly hours, one-off hours, the clinic's opening
hours and closures, and absences, judged the same way by booking and by every listing."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from uuid import uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.availability import Absence, ClinicDays, Schedule, clock
from app.domain.clinic import Clinic
from app.domain.diary import Booked, check_free
from app.domain.errors import AlreadyExistsError, SlotTakenError, ValidationError
from app.domain.events import AbsenceRecorded
from app.queries.slots import free_starts, slot_grid, working_periods

from .domain_builders import TZ, WEEKDAY_HOURS, doctor, local

NOW = local("2027-01-11 08:00")  # a Monday


def weekly(**extra) -> Schedule:
    return Schedule("Dr Ada Martin", {d: clock(r) for d, r in WEEKDAY_HOURS.items()}, **extra)


def away(start: str, end: str, reason: str = "holiday", note: str = "") -> Absence:
    return Absence(uuid4(), local(start), local(end), reason, note)


def spans(schedule: Schedule, day: date) -> list[tuple[str, str]]:
    return [
        (f"{a.astimezone(TZ):%d %H:%M}", f"{b.astimezone(TZ):%d %H:%M}")
        for a, b in schedule.periods(day, TZ)
    ]


class TestEffectiveHours:
    def test_weekly_hours_are_the_day_s_hours_when_nothing_else_is_said(self):
        assert spans(weekly(), date(2027, 1, 12)) == [
            ("12 09:00", "12 12:00"),
            ("12 14:00", "12 18:00"),
        ]
        assert spans(weekly(), date(2027, 1, 16)) == []  # a Saturday

    def test_one_off_hours_replace_the_weekly_ones_for_that_date_only(self):
        schedule = weekly(
            day_hours={
                date(2027, 1, 16): (("09:00", "12:00"),),  # a Saturday opened
                date(2027, 1, 14): (("14:00", "16:00"),),  # a Thursday shortened
                date(2027, 1, 15): (),  # a Friday off
            }
        )
        assert spans(schedule, date(2027, 1, 16)) == [("16 09:00", "16 12:00")]
        assert spans(schedule, date(2027, 1, 14)) == [("14 14:00", "14 16:00")]
        assert spans(schedule, date(2027, 1, 15)) == []
        assert spans(schedule, date(2027, 1, 21)) == spans(weekly(), date(2027, 1, 21))

    def test_the_clinic_s_opening_hours_bound_every_doctor_s(self):
        clinic = ClinicDays({"tue": (("10:00", "17:00"),)})
        assert spans(weekly(clinic=clinic), date(2027, 1, 12)) == [
            ("12 10:00", "12 12:00"),
            ("12 14:00", "12 17:00"),
        ]
        # A weekday the clinic does not open: no doctor works.
        assert spans(weekly(clinic=clinic), date(2027, 1, 11)) == []

    def test_a_closed_day_has_no_hours_even_with_one_off_hours(self):
        day = date(2027, 12, 24)
        schedule = weekly(
            day_hours={day: (("09:00", "12:00"),)},
            clinic=ClinicDays(closures={day: "Veille de Noël"}),
        )
        assert spans(schedule, day) == []
        refused = schedule.refusal(local("2027-12-24 09:00"), local("2027-12-24 09:30"), TZ)
        assert str(refused) == "The clinic is closed on Friday 24 December 2027 (Veille de Noël)."

    def test_a_part_day_absence_cuts_a_period_in_two(self):
        schedule = weekly(absences=(away("2027-01-12 10:00", "2027-01-12 15:00", "training"),))
        assert spans(schedule, date(2027, 1, 12)) == [
            ("12 09:00", "12 10:00"),
            ("12 15:00", "12 18:00"),
        ]

    def test_an_absence_across_midnight_and_months_takes_every_day_it_covers(self):
        schedule = weekly(absences=(away("2027-01-29 14:00", "2027-02-02 11:00", "sick"),))
        assert spans(schedule, date(2027, 1, 29)) == [("29 09:00", "29 12:00")]
        assert spans(schedule, date(2027, 2, 1)) == []
        assert spans(schedule, date(2027, 2, 2)) == [
            ("02 11:00", "02 12:00"),
            ("02 14:00", "02 18:00"),
        ]

    def test_overlapping_absences_take_their_union(self):
        schedule = weekly(
            absences=(
                away("2027-01-12 09:30", "2027-01-12 11:00"),
                away("2027-01-12 10:30", "2027-01-12 14:30"),
            )
        )
        assert spans(schedule, date(2027, 1, 12)) == [
            ("12 09:00", "12 09:30"),
            ("12 14:30", "12 18:00"),
        ]

    def test_on_the_spring_clock_change_a_period_in_the_skipped_hour_does_not_exist(self):
        # Sunday 28 March 2027: 02:00 becomes 03:00 in Paris.
        schedule = Schedule("Dr", {"sun": (("02:30", "05:00"), ("09:00", "10:00"))})
        assert spans(schedule, date(2027, 3, 28)) == [("28 09:00", "28 10:00")]

    def test_on_the_autumn_clock_change_a_day_s_period_lasts_its_real_length(self):
        # Sunday 31 October 2027: 03:00 becomes 02:00; 01:00 to 04:00 is four hours.
        schedule = Schedule("Dr", {"sun": (("01:00", "04:00"),)})
        [(start, end)] = schedule.periods(date(2027, 10, 31), TZ)
        assert end - start == timedelta(hours=4)

    def test_an_absence_over_a_clock_change_ends_at_its_own_instant(self):
        schedule = Schedule(
            "Dr",
            {"sat": (("09:00", "12:00"),), "mon": (("09:00", "12:00"),)},
            absences=(away("2027-03-27 10:00", "2027-03-29 10:00"),),
        )
        assert spans(schedule, date(2027, 3, 27)) == [("27 09:00", "27 10:00")]
        assert spans(schedule, date(2027, 3, 29)) == [("29 10:00", "29 12:00")]


class TestRefusals:
    def test_an_absence_of_whole_days_is_said_as_days(self):
        schedule = weekly(absences=(away("2027-12-13 00:00", "2027-12-18 00:00"),))
        refused = schedule.refusal(local("2027-12-14 10:00"), local("2027-12-14 10:30"), TZ)
        assert str(refused) == (
            "Dr Ada Martin is away from Monday 13 December 2027 to Friday 17 December 2027 "
            "(holiday)."
        )

    def test_a_part_day_absence_is_said_with_its_times_and_note(self):
        absence = away("2027-01-14 14:00", "2027-01-14 18:00", "training", "Échographie")
        schedule = weekly(absences=(absence,))
        refused = schedule.refusal(local("2027-01-14 15:00"), local("2027-01-14 15:15"), TZ)
        assert str(refused) == (
            "Dr Ada Martin is away from Thursday 14 January 2027 at 14:00 to Thursday 14 "
            "January 2027 at 18:00 (training: Échographie)."
        )

    def test_one_off_hours_are_named_when_they_refuse(self):
        schedule = weekly(day_hours={date(2027, 1, 14): (("14:00", "16:00"),)})
        refused = schedule.refusal(local("2027-01-14 10:00"), local("2027-01-14 10:30"), TZ)
        assert str(refused) == (
            "Dr Ada Martin works other hours on Thursday 14 January 2027: 14:00-16:00."
        )

    def test_the_clinic_s_hours_are_named_when_they_refuse(self):
        schedule = weekly(clinic=ClinicDays({"tue": (("10:00", "17:00"),)}))
        refused = schedule.refusal(local("2027-01-12 09:00"), local("2027-01-12 09:30"), TZ)
        assert str(refused) == "The clinic is open only 10:00-17:00 on Tuesdays."


class TestRecordingAbsences:
    def record(self, subject, start: str, end: str, reason: str = "holiday", note: str = ""):
        return subject.record_absence(
            uuid4(),
            starts_at=local(start),
            ends_at=local(end),
            reason=reason,
            note=note,
            now=NOW,
            tz=TZ,
        )

    def test_an_absence_is_recorded_and_then_refuses_bookings(self):
        subject = doctor()
        [event] = self.record(subject, "2027-01-18 00:00", "2027-01-23 00:00")
        assert isinstance(event, AbsenceRecorded)
        subject.apply(event)
        assert not subject.schedule().fits(local("2027-01-19 10:00"), local("2027-01-19 10:30"), TZ)
        [cancel] = subject.cancel_absence(event.absence_id)
        subject.apply(cancel)
        assert subject.schedule().fits(local("2027-01-19 10:00"), local("2027-01-19 10:30"), TZ)

    @pytest.mark.parametrize(
        ("start", "end", "reason", "note", "field", "message"),
        [
            (
                "2027-01-20 12:00",
                "2027-01-20 09:00",
                "holiday",
                "",
                "ends_at",
                "The absence must end after it starts.",
            ),
            (
                "2027-01-01 09:00",
                "2027-01-02 09:00",
                "sick",
                "",
                "ends_at",
                "That absence would already be over; choose a later end.",
            ),
            (
                "2027-01-20 09:00",
                "2028-03-01 09:00",
                "holiday",
                "",
                "ends_at",
                "An absence lasts at most a year; record a longer one in parts.",
            ),
            (
                "2035-01-20 09:00",
                "2035-01-21 09:00",
                "holiday",
                "",
                "starts_at",
                "Absences are recorded at most three years ahead.",
            ),
            ("2027-01-20 09:00", "2027-01-21 09:00", "bored", "", "reason", "Choose a reason"),
            ("2027-01-20 09:00", "2027-01-21 09:00", "other", "", "note", "The note is required."),
            (
                "2027-01-20 09:00",
                "2027-01-21 09:00",
                "other",
                "<b>Congrès</b>",
                "note",
                "The note cannot contain < or >.",
            ),
        ],
    )
    def test_bad_absences_are_refused_field_by_field(
        self, start, end, reason, note, field, message
    ):
        with pytest.raises(ValidationError) as refused:
            self.record(doctor(), start, end, reason, note)
        assert message in refused.value.errors[field]

    def test_an_absence_overlapping_another_is_refused_naming_it(self):
        subject = doctor()
        for event in self.record(subject, "2027-01-18 00:00", "2027-01-23 00:00"):
            subject.apply(event)
        with pytest.raises(ValidationError) as refused:
            self.record(subject, "2027-01-22 14:00", "2027-01-25 00:00", "training")
        assert refused.value.errors["starts_at"] == (
            "Dr Ada Martin is already away from Monday 18 January 2027 to Friday 22 January "
            "2027 (holiday); change that absence instead of recording another."
        )
        # Back to back is not an overlap.
        assert self.record(subject, "2027-01-23 00:00", "2027-01-25 00:00")

    def test_an_absence_changed_to_the_same_is_nothing_new(self):
        subject = doctor()
        [event] = self.record(subject, "2027-01-18 00:00", "2027-01-23 00:00")
        subject.apply(event)
        same = subject.change_absence(
            event.absence_id,
            starts_at=event.starts_at,
            ends_at=event.ends_at,
            reason="holiday",
            note="",
            now=NOW,
            tz=TZ,
        )
        assert same == []

    def test_one_off_hours_are_checked_as_weekly_hours_are(self):
        subject = doctor()
        [event] = subject.set_day_hours(date(2027, 1, 16), "09:00-12:00", today=NOW.date())
        subject.apply(event)
        assert subject.schedule().fits(local("2027-01-16 09:00"), local("2027-01-16 09:30"), TZ)
        with pytest.raises(ValidationError) as refused:
            subject.set_day_hours(date(2027, 1, 16), "12:00-09:00", today=NOW.date())
        assert "ends before it starts" in refused.value.errors["hours"]
        with pytest.raises(ValidationError):
            subject.set_day_hours(date(2027, 1, 4), "09:00-12:00", today=NOW.date())


class TestClinic:
    def test_a_closure_proposal_records_only_the_days_not_yet_closed(self):
        clinic = Clinic()
        [event] = clinic.close({date(2027, 12, 25): "Noël"}, today=NOW.date())
        clinic.apply(event)
        [again] = clinic.close(
            {date(2027, 12, 25): "Noël", date(2028, 1, 1): "Jour de l'an"}, today=NOW.date()
        )
        assert again.days == {"2028-01-01": "Jour de l'an"}

    @pytest.mark.parametrize(("minutes", "refused"), [(0, True), (10_000, True), (15, False)])
    def test_a_visit_type_lasts_between_5_minutes_and_8_hours(self, minutes, refused):
        define = lambda: Clinic().define_visit_type(  # noqa: E731
            uuid4(), label="Vaccination", minutes=minutes, doctor_id=None, specialty=""
        )
        if refused:
            with pytest.raises(ValidationError) as error:
                define()
            assert error.value.errors["minutes"] == "A visit lasts between 5 and 480 minutes."
        else:
            assert define()

    def test_a_visit_type_label_with_markup_is_refused(self):
        with pytest.raises(ValidationError) as refused:
            Clinic().define_visit_type(
                uuid4(), label="<script>x</script>", minutes=15, doctor_id=None, specialty=""
            )
        assert refused.value.errors["label"] == "The label cannot contain < or >."

    def test_a_retired_visit_type_is_kept_but_not_bookable(self):
        clinic, kind = Clinic(), uuid4()
        for event in clinic.define_visit_type(
            kind, label="Vaccination", minutes=15, doctor_id=None, specialty="Pédiatrie"
        ):
            clinic.apply(event)
        for event in clinic.retire_visit_type(kind):
            clinic.apply(event)
        assert clinic.visit_types[kind].label == "Vaccination"
        with pytest.raises(ValidationError):
            clinic.visit_type_for(kind, uuid4(), "Pédiatrie")
        with pytest.raises(AlreadyExistsError):
            clinic.define_visit_type(kind, label="Other", minutes=15, doctor_id=None, specialty="")


# -- the property: every listing says what booking says --

DAYS = st.dates(min_value=date(2027, 1, 1), max_value=date(2028, 12, 31))
MARKS = st.integers(0, 23 * 60 + 59)


def _text(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


@st.composite
def periods(draw: st.DrawFn) -> tuple[tuple[str, str], ...]:
    marks = sorted(draw(st.sets(MARKS, max_size=4)))
    return tuple((_text(a), _text(b)) for a, b in zip(marks[::2], marks[1::2], strict=False))


@st.composite
def schedules(draw: st.DrawFn, day: date) -> Schedule:
    weekly_hours = {d: draw(periods()) for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    day_hours = {day: draw(periods())} if draw(st.booleans()) else {}
    base = datetime.combine(day, time(), TZ).astimezone(UTC) - timedelta(hours=12)
    absences = tuple(
        Absence(
            uuid4(), base + timedelta(minutes=at), base + timedelta(minutes=at + length), "sick"
        )
        for at, length in draw(
            st.lists(st.tuples(st.integers(0, 48 * 60), st.integers(5, 30 * 60)), max_size=3)
        )
    )
    clinic_hours = {d: draw(periods()) for d in weekly_hours} if draw(st.booleans()) else None
    closures = {day: "Fermé"} if draw(st.integers(0, 5)) == 0 else {}
    return Schedule("Dr", weekly_hours, day_hours, absences, ClinicDays(clinic_hours, closures))


@st.composite
def cases(draw: st.DrawFn):
    day = draw(DAYS)
    schedule = draw(schedules(day))
    slot = draw(st.sampled_from([5, 10, 15, 20, 30, 45, 60]))
    minutes = draw(st.integers(1, 24).map(lambda n: n * 5))
    base = datetime.combine(day, time(), TZ).astimezone(UTC)
    busy = [
        Booked(base + timedelta(minutes=at), base + timedelta(minutes=at + length), "X")
        for at, length in draw(
            st.lists(st.tuples(st.integers(0, 24 * 60), st.integers(5, 120)), max_size=6)
        )
    ]
    now = base + timedelta(minutes=draw(st.integers(-60, 25 * 60)))
    return day, schedule, slot, minutes, busy, now


def accepts(schedule: Schedule, start: datetime, end: datetime, busy: list[Booked]) -> bool:
    """What the booking check says (Appointment.book: the schedule, then the diary)."""
    if schedule.refusal(start, end, TZ) is not None:
        return False
    try:
        check_free(start, end, busy, doctor_name="Dr", tz=TZ)
    except SlotTakenError:
        return False
    return True


# No deadline: a loaded CI machine (the e2e browsers run beside) is slow, not wrong.
@settings(deadline=None, max_examples=300)
@given(cases())
def test_free_times_are_exactly_the_grid_starts_booking_accepts(case):
    day, schedule, slot, minutes, busy, now = case
    offered = free_starts(day, schedule, slot, busy, now=now, tz=TZ, minutes=minutes)
    length = timedelta(minutes=minutes)
    for free in offered:
        assert free.starts_at > now
        assert accepts(schedule, free.starts_at, free.ends_at, busy), free
    starts = {free.starts_at for free in offered}
    for cell in slot_grid(day, schedule, slot, TZ):
        start = cell.starts_at
        if start > now and accepts(schedule, start, start + length, busy):
            assert start in starts, cell


@settings(deadline=None, max_examples=300)
@given(cases())
def test_the_calendar_s_cells_and_periods_are_what_booking_accepts(case):
    day, schedule, slot, _, _, _ = case
    periods_found = working_periods(day, schedule, TZ)
    for cell in slot_grid(day, schedule, slot, TZ):
        # Every cell the calendar draws as working is a booking of the slot length.
        assert schedule.fits(cell.starts_at, cell.ends_at, TZ), cell
        assert any(
            p.starts_at <= cell.starts_at and cell.ends_at <= p.ends_at for p in periods_found
        )
    for period in periods_found:
        assert schedule.fits(period.starts_at, period.ends_at, TZ)
