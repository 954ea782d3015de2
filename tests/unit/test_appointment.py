"""The appointment status machine and its booking rules."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import ClassVar

import pytest

from app.domain.appointment import Appointment, Status
from app.domain.errors import (
    AlreadyExistsError,
    InvalidTransitionError,
    OutsideWorkingHoursError,
    ValidationError,
)
from app.domain.events import (
    AppointmentCancelled,
    AppointmentCheckedIn,
    AppointmentCompleted,
    AppointmentConfirmed,
    AppointmentCreated,
    AppointmentMarkedNoShow,
    AppointmentRescheduled,
)

from .domain_builders import TZ, appointment, doctor, local, patient

# Written out by hand (not derived from the code under test): every legal move, and the
# events it records in order.
LEGAL = {
    (Status.PENDING, "confirm"): (Status.CONFIRMED, [AppointmentConfirmed]),
    (Status.PENDING, "cancel"): (Status.CANCELLED, [AppointmentCancelled]),
    (Status.PENDING, "reschedule"): (Status.PENDING, [AppointmentRescheduled]),
    # A patient who arrives with a pending appointment: confirmed, then checked in.
    (Status.PENDING, "check_in"): (Status.CHECKED_IN, [AppointmentConfirmed, AppointmentCheckedIn]),
    (Status.CONFIRMED, "cancel"): (Status.CANCELLED, [AppointmentCancelled]),
    # Moved with the patient on the phone: a confirmed appointment stays confirmed.
    (Status.CONFIRMED, "reschedule"): (Status.CONFIRMED, [AppointmentRescheduled]),
    (Status.CONFIRMED, "check_in"): (Status.CHECKED_IN, [AppointmentCheckedIn]),
    (Status.CONFIRMED, "mark_no_show"): (Status.NO_SHOW, [AppointmentMarkedNoShow]),
    (Status.CHECKED_IN, "complete"): (Status.COMPLETED, [AppointmentCompleted]),
}
ACTIONS = ("confirm", "cancel", "reschedule", "check_in", "complete", "mark_no_show")
ALL_MOVES = list(itertools.product(Status, ACTIONS))

# On the appointment's day, a quarter of an hour after its 10:00 start (past the no-show
# grace).
NOW = local("2027-01-12 10:15")


def act(subject: Appointment, action: str) -> list:
    """Perform `action` with arguments that are valid apart from the status."""
    doc = doctor()
    match action:
        case "confirm":
            return subject.confirm()
        case "cancel":
            return subject.cancel("Patient called to cancel")
        case "reschedule":
            return subject.reschedule(
                doctor=doc,
                starts_at=local("2027-01-13 11:00"),
                ends_at=local("2027-01-13 11:30"),
                reason="",
                now=NOW,
                tz=TZ,
            )
        case "check_in":
            return subject.check_in(now=NOW, tz=TZ)
        case "complete":
            return subject.complete()
        case "mark_no_show":
            return subject.mark_no_show(now=NOW, tz=TZ)
    raise AssertionError(action)


@pytest.mark.parametrize(("status", "action"), list(LEGAL), ids=lambda v: str(v))
def test_a_legal_move_records_its_event_and_reaches_the_next_status(status, action):
    subject = appointment(status)
    expected_status, expected_events = LEGAL[(status, action)]
    events = act(subject, action)
    assert [type(e) for e in events] == expected_events
    for event in events:
        subject.apply(event)
    assert subject.status is expected_status


@pytest.mark.parametrize(
    ("status", "action"), [m for m in ALL_MOVES if m not in LEGAL], ids=lambda v: str(v)
)
def test_an_illegal_move_is_refused_with_a_sentence_naming_the_status(status, action):
    subject = appointment(status)
    with pytest.raises(InvalidTransitionError) as refused:
        act(subject, action)
    assert f"this one is {status.label}." in refused.value.message
    assert refused.value.message[0].isupper()


def test_every_status_and_action_pair_is_covered():
    assert len(ALL_MOVES) == 36 and len(LEGAL) == 9


class TestBooking:
    def book(
        self,
        starts: str,
        ends: str,
        *,
        now: str = "2027-01-11 08:00",
        title="Check-up",
        hours=None,
        confirmed=False,
    ):
        return Appointment(id=patient().id).book(
            patient=patient(),
            doctor=doctor(hours),
            starts_at=local(starts),
            ends_at=local(ends),
            title=title,
            now=local(now),
            tz=TZ,
            confirmed=confirmed,
        )

    def test_books_a_future_time_inside_working_hours_as_pending(self):
        [event] = self.book("2027-01-12 10:00", "2027-01-12 10:30")
        assert isinstance(event, AppointmentCreated)
        subject = Appointment.from_history(patient().id, [event])
        assert subject.status is Status.PENDING and subject.version == 1

    def test_books_as_confirmed_when_agreed_with_the_patient_recording_both(self):
        booked = self.book("2027-01-12 10:00", "2027-01-12 10:30", confirmed=True)
        assert [type(e) for e in booked] == [AppointmentCreated, AppointmentConfirmed]
        subject = Appointment.from_history(patient().id, booked)
        assert subject.status is Status.CONFIRMED and subject.version == 2

    def test_refuses_a_time_in_the_past(self):
        with pytest.raises(ValidationError) as refused:
            self.book("2027-01-11 09:00", "2027-01-11 09:30", now="2027-01-11 10:00")
        assert "has already passed" in refused.value.errors["starts_at"]

    def test_refuses_an_end_before_the_start(self):
        with pytest.raises(ValidationError) as refused:
            self.book("2027-01-12 10:00", "2027-01-12 09:45")
        assert (
            refused.value.errors["duration_minutes"] == "The appointment must end after it starts."
        )

    def test_refuses_a_time_outside_working_hours(self):
        with pytest.raises(OutsideWorkingHoursError) as refused:
            self.book("2027-01-12 08:30", "2027-01-12 09:00")
        assert "on Tuesdays they work 09:00-12:00 and 14:00-18:00" in refused.value.message

    def test_refuses_a_visit_running_into_the_lunch_break(self):
        with pytest.raises(OutsideWorkingHoursError):
            self.book("2027-01-12 11:45", "2027-01-12 12:15")

    def test_refuses_a_day_the_doctor_does_not_work(self):
        with pytest.raises(OutsideWorkingHoursError) as refused:
            self.book("2027-01-16 10:00", "2027-01-16 10:30")
        assert "do not work on Saturdays" in refused.value.message

    def test_accepts_a_visit_ending_exactly_when_the_working_period_ends(self):
        assert self.book("2027-01-12 11:30", "2027-01-12 12:00")

    @pytest.mark.parametrize(
        ("ends", "message"),
        [
            ("2027-01-12 10:03", "at least 5 minutes"),
            ("2027-01-12 18:30", "at most 8 hours"),
        ],
    )
    def test_refuses_an_implausible_length(self, ends, message):
        with pytest.raises(ValidationError) as refused:
            self.book("2027-01-12 10:00", ends, hours={"tue": [["00:00", "23:59"]]})
        assert message in refused.value.errors["duration_minutes"]

    @pytest.mark.parametrize(
        ("title", "message"),
        [
            ("   ", "The reason for the visit is required."),
            ("x" * 201, "too long (201 characters; at most 200)"),
        ],
    )
    def test_refuses_a_missing_or_overlong_reason(self, title, message):
        with pytest.raises(ValidationError) as refused:
            self.book("2027-01-12 10:00", "2027-01-12 10:30", title=title)
        assert message in refused.value.errors["title"]

    def test_refuses_a_time_without_a_zone(self):
        with pytest.raises(ValidationError) as refused:
            Appointment(id=patient().id).book(
                patient=patient(),
                doctor=doctor(),
                starts_at=local("2027-01-12 10:00").replace(tzinfo=None),
                ends_at=local("2027-01-12 10:30"),
                title="x",
                now=local("2027-01-11 08:00"),
                tz=TZ,
            )
        assert "time zone" in refused.value.errors["starts_at"]

    def test_refuses_to_book_the_same_appointment_twice(self):
        subject = appointment(Status.PENDING)
        with pytest.raises(AlreadyExistsError):
            subject.book(
                patient=patient(),
                doctor=doctor(),
                starts_at=local("2027-01-12 11:00"),
                ends_at=local("2027-01-12 11:30"),
                title="x",
                now=local("2027-01-11 08:00"),
                tz=TZ,
            )


class TestTimedMoves:
    def test_a_no_show_can_be_marked_only_after_the_grace_past_the_start_time(self):
        subject = appointment(Status.CONFIRMED)  # at 10:00
        for early in ("2027-01-12 09:59", "2027-01-12 10:00", "2027-01-12 10:09"):
            with pytest.raises(InvalidTransitionError) as refused:
                subject.mark_no_show(now=local(early), tz=TZ)
            assert refused.value.message == (
                "A patient can be marked as a no-show only from Tuesday 12 January 2027 at "
                "10:10, 10 min after the start time."
            )
        assert subject.mark_no_show(now=local("2027-01-12 10:10"), tz=TZ)

    def test_the_no_show_grace_is_the_clinic_s_to_choose(self):
        subject = appointment(Status.CONFIRMED)
        assert subject.mark_no_show(now=local("2027-01-12 10:00"), tz=TZ, grace=timedelta(0))
        with pytest.raises(InvalidTransitionError) as refused:
            subject.mark_no_show(now=local("2027-01-12 10:20"), tz=TZ, grace=timedelta(minutes=30))
        assert "from Tuesday 12 January 2027 at 10:30, 30 min after" in refused.value.message

    def test_a_patient_checks_in_only_on_the_day_of_the_appointment(self):
        subject = appointment(Status.CONFIRMED)
        with pytest.raises(InvalidTransitionError) as refused:
            subject.check_in(now=local("2027-01-11 16:00"), tz=TZ)
        assert "only on the day of the appointment" in refused.value.message
        assert subject.check_in(now=local("2027-01-12 09:40"), tz=TZ)

    def test_cancelling_needs_a_reason(self):
        with pytest.raises(ValidationError) as refused:
            appointment(Status.CONFIRMED).cancel("  ")
        assert refused.value.errors == {"reason": "The reason for cancelling is required."}

    def test_rescheduling_records_old_and_new_times_and_keeps_a_confirmation(self):
        subject = appointment(Status.CONFIRMED)
        [event] = act(subject, "reschedule")
        assert (event.previous_starts_at, event.starts_at) == (
            local("2027-01-12 10:00"),
            local("2027-01-13 11:00"),
        )
        assert event.awaits_confirmation is False
        subject.apply(event)
        assert subject.status is Status.CONFIRMED and subject.starts_at == local("2027-01-13 11:00")

    def move(self, subject: Appointment, doc=None, *, starts="2027-01-13 11:00", **kwargs):
        doc = doc or doctor()
        ends = (local(starts) + timedelta(minutes=30)).isoformat(sep=" ")[:16]
        events = subject.reschedule(
            doctor=doc, starts_at=local(starts), ends_at=local(ends), reason="", now=NOW, tz=TZ,
            **kwargs,
        )  # fmt: skip
        for event in events:
            subject.apply(event)
        return events

    def test_the_desk_can_send_a_moved_confirmed_appointment_back_to_pending(self):
        subject = appointment(Status.CONFIRMED)
        [event] = self.move(subject, confirmed=False)
        assert event.awaits_confirmation is True and subject.status is Status.PENDING

    def test_a_pending_appointment_moved_with_the_patient_is_confirmed_after_the_move(self):
        subject = appointment(Status.PENDING)
        events = self.move(subject, confirmed=True)
        assert [type(e) for e in events] == [AppointmentRescheduled, AppointmentConfirmed]
        assert subject.status is Status.CONFIRMED

    def test_a_pending_appointment_moved_stays_pending_unless_agreed(self):
        for said in (None, False):
            subject = appointment(Status.PENDING)
            [event] = self.move(subject, confirmed=said)
            assert event.awaits_confirmation is True and subject.status is Status.PENDING

    def test_a_move_to_another_doctor_records_both_doctors(self):
        mine, colleague = doctor(), doctor()
        subject = appointment(
            Status.CONFIRMED, doctor_id=mine.id, starts="2027-01-12 11:00", ends="2027-01-12 11:30"
        )
        # The same time with a colleague is a move too.
        [event] = self.move(subject, colleague, starts="2027-01-12 11:00")
        assert (event.previous_doctor_id, event.doctor_id) == (mine.id, colleague.id)
        assert subject.doctor_id == colleague.id and subject.status is Status.CONFIRMED

    def test_a_move_to_another_doctor_keeps_to_that_doctor_s_hours(self):
        part_timer = doctor({"mon": [["09:00", "12:00"]]})
        subject = appointment(Status.CONFIRMED)
        with pytest.raises(OutsideWorkingHoursError):  # 13 January 2027 is a Wednesday
            self.move(subject, part_timer)
        assert subject.status is Status.CONFIRMED and subject.doctor_id != part_timer.id

    def test_a_version_1_move_with_no_doctor_keeps_the_doctor_and_needs_confirming(self):
        subject = appointment(Status.CONFIRMED)
        before = subject.doctor_id
        subject.apply(
            AppointmentRescheduled(
                local("2027-01-13 11:00"), local("2027-01-13 11:30"), local("2027-01-12 10:00"),
                local("2027-01-12 10:30"), "", doctor_id=None, previous_doctor_id=None,
                awaits_confirmation=True,
            )
        )  # fmt: skip
        assert subject.doctor_id == before and subject.status is Status.PENDING

    def test_rescheduling_to_the_same_time_is_refused(self):
        doc = doctor()
        subject = appointment(Status.PENDING, doctor_id=doc.id)
        with pytest.raises(ValidationError) as refused:
            subject.reschedule(
                doctor=doc,
                starts_at=local("2027-01-12 10:00"),
                ends_at=local("2027-01-12 10:30"),
                reason="",
                now=NOW,
                tz=TZ,
            )
        assert "already at that time" in refused.value.errors["starts_at"]

    def test_rescheduling_into_the_past_or_outside_hours_is_refused(self):
        subject = appointment(Status.PENDING)
        with pytest.raises(ValidationError):
            subject.reschedule(
                doctor=doctor(),
                starts_at=local("2027-01-12 09:00"),
                ends_at=local("2027-01-12 09:30"),
                reason="",
                now=NOW,
                tz=TZ,
            )
        with pytest.raises(OutsideWorkingHoursError):
            subject.reschedule(
                doctor=doctor(),
                starts_at=local("2027-01-13 19:00"),
                ends_at=local("2027-01-13 19:30"),
                reason="",
                now=NOW,
                tz=TZ,
            )


class TestUndo:
    """An undo takes back the last check-in, no-show, completion or cancellation, by a
    compensating event, to the status the appointment had before it."""

    DONE = local("2027-01-12 10:15")  # when the action was recorded

    # (the action, the status it is done from) -> the status the undo returns to
    BACK: ClassVar[dict[tuple[str, Status], Status]] = {
        ("check_in", Status.CONFIRMED): Status.CONFIRMED,
        ("check_in", Status.PENDING): Status.CONFIRMED,  # the confirmation by coming stays
        ("mark_no_show", Status.CONFIRMED): Status.CONFIRMED,
        ("complete", Status.CHECKED_IN): Status.CHECKED_IN,
        ("cancel", Status.PENDING): Status.PENDING,
        ("cancel", Status.CONFIRMED): Status.CONFIRMED,
    }

    def done(self, action: str, status: Status) -> Appointment:
        subject = appointment(status)
        for event in act(subject, action):
            subject.apply(event)
        return subject

    @pytest.mark.parametrize(("action", "status"), list(BACK), ids=lambda v: str(v))
    def test_an_undo_returns_to_the_status_before_the_action(self, action, status):
        subject = self.done(action, status)
        version = subject.version
        [undo] = subject.undo(done_at=self.DONE, now=self.DONE + timedelta(minutes=14), tz=TZ)
        assert (undo.undone_version, undo.status) == (version, self.BACK[(action, status)].value)
        subject.apply(undo)
        assert subject.status is self.BACK[(action, status)]

    def test_the_action_can_be_done_again_after_its_undo(self):
        subject = self.done("check_in", Status.CONFIRMED)
        subject.apply(subject.undo(done_at=self.DONE, now=self.DONE, tz=TZ)[0])
        assert [type(e) for e in subject.check_in(now=NOW, tz=TZ)] == [AppointmentCheckedIn]

    def test_an_undo_cannot_be_undone(self):
        subject = self.done("cancel", Status.CONFIRMED)
        subject.apply(subject.undo(done_at=self.DONE, now=self.DONE, tz=TZ)[0])
        with pytest.raises(InvalidTransitionError) as refused:
            subject.undo(done_at=self.DONE, now=self.DONE, tz=TZ, always=True)
        assert "already been undone" in refused.value.message

    @pytest.mark.parametrize("status", [Status.PENDING, Status.CONFIRMED])
    def test_only_the_four_actions_can_be_undone(self, status):
        subject = appointment(status)  # its last change: a booking, or a confirmation
        with pytest.raises(InvalidTransitionError) as refused:
            subject.undo(done_at=self.DONE, now=self.DONE, tz=TZ, always=True)
        assert "Only a check-in, a no-show, a completion or a cancellation" in (
            refused.value.message
        )

    def test_past_the_window_only_an_admin_may_undo(self):
        subject = self.done("mark_no_show", Status.CONFIRMED)
        late = self.DONE + timedelta(minutes=15, seconds=1)
        with pytest.raises(InvalidTransitionError) as refused:
            subject.undo(done_at=self.DONE, now=late, tz=TZ)
        assert refused.value.message == (
            "It is too late to undo the no-show: it was recorded at Tuesday 12 January 2027 "
            "at 10:15, more than 15 min ago. An admin can still undo it."
        )
        assert subject.undo(done_at=self.DONE, now=late, tz=TZ, always=True)
        # The window is the clinic's to choose (UNDO_MINUTES).
        assert subject.undo(done_at=self.DONE, now=late, tz=TZ, window=timedelta(minutes=30))
