"""The Appointment aggregate and its status machine.

created(pending) -confirm-> confirmed -check_in-> checked_in -complete-> completed
pending -check_in-> checked_in (confirmed, then checked in)
pending|confirmed -cancel(reason)-> cancelled
pending|confirmed -reschedule (another time, another doctor, or both)-> confirmed when agreed
    with the patient (a confirmed one by default), else pending
confirmed -mark_no_show (a grace period after the start time)-> no_show
undo of the last check-in, no-show, completion or cancellation (within UNDO_MINUTES, always
    for admins)-> the status before it, by a compensating event
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from enum import StrEnum
from uuid import UUID

from .availability import Schedule
from .clinic_time import same_local_day
from .doctor import Doctor
from .errors import (
    AlreadyExistsError,
    InvalidTransitionError,
    OutsideWorkingHoursError,
    ValidationError,
)
from .events import (
    AppointmentCancellationUndone,
    AppointmentCancelled,
    AppointmentCheckedIn,
    AppointmentCheckInUndone,
    AppointmentCompleted,
    AppointmentCompletionUndone,
    AppointmentConfirmed,
    AppointmentCreated,
    AppointmentMarkedNoShow,
    AppointmentNoShowUndone,
    AppointmentRescheduled,
    Event,
    Undone,
)
from .messages import N_, Message, phrase
from .patient import Patient
from .rules import clean_text, require_aware

MIN_DURATION = timedelta(minutes=5)
MAX_DURATION = timedelta(hours=8)
# How late a patient may be before the desk can mark a no-show (NO_SHOW_GRACE_MINUTES):
# "No-show" offered the second a visit starts was pressed for patients in the waiting room.
NO_SHOW_GRACE = timedelta(minutes=10)
# How long staff may take back a check-in, no-show, completion or cancellation
# (UNDO_MINUTES); admins may at any time.
UNDO_WINDOW = timedelta(minutes=15)


class Status(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    CHECKED_IN = "checked_in"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").replace("no show", "no-show")

    @property
    def word(self) -> Message:
        """The status inside a sentence ("this one is cancelled"), for the catalog."""
        return STATUS_WORDS[self]


STATUS_WORDS = {
    Status.PENDING: phrase("pending"),
    Status.CONFIRMED: phrase("confirmed"),
    Status.CHECKED_IN: phrase("checked in"),
    Status.COMPLETED: phrase("completed"),
    Status.CANCELLED: phrase("cancelled"),
    Status.NO_SHOW: phrase("no-show"),
}

# action -> (statuses it is allowed from, the refusal naming the status it has: %(status)s)
TRANSITIONS: dict[str, tuple[frozenset[Status], str]] = {
    "confirm": (
        frozenset({Status.PENDING}),
        N_("Only a pending appointment can be confirmed; this one is %(status)s."),
    ),
    "cancel": (
        frozenset({Status.PENDING, Status.CONFIRMED}),
        N_("Only a pending or confirmed appointment can be cancelled; this one is %(status)s."),
    ),
    "reschedule": (
        frozenset({Status.PENDING, Status.CONFIRMED}),
        N_("Only a pending or confirmed appointment can be rescheduled; this one is %(status)s."),
    ),
    # From Pending too: a patient at the desk has confirmed by coming (the check-in then
    # records the confirmation first, so the history says both).
    "check_in": (
        frozenset({Status.PENDING, Status.CONFIRMED}),
        N_("Only a pending or confirmed appointment can be checked in; this one is %(status)s."),
    ),
    "complete": (
        frozenset({Status.CHECKED_IN}),
        N_(
            "Only an appointment whose patient has checked in can be completed; this one "
            "is %(status)s."
        ),
    ),
    "mark_no_show": (
        frozenset({Status.CONFIRMED}),
        N_("Only a confirmed appointment can be marked as a no-show; this one is %(status)s."),
    ),
}


# The statuses in which an appointment holds its doctor's time: the agenda shows it and its
# slot is not free. A cancelled or missed appointment gives the time back.
HOLDS_TIME = frozenset({Status.PENDING, Status.CONFIRMED, Status.CHECKED_IN, Status.COMPLETED})

# The actions an undo takes back, by the event that recorded them: the compensating event,
# and the action's name in the refusals ("the check-in").
UNDOABLE: dict[str, tuple[type[Undone], Message]] = {
    "AppointmentCheckedIn": (AppointmentCheckInUndone, phrase("the check-in")),
    "AppointmentMarkedNoShow": (AppointmentNoShowUndone, phrase("the no-show")),
    "AppointmentCompleted": (AppointmentCompletionUndone, phrase("the completion")),
    "AppointmentCancelled": (AppointmentCancellationUndone, phrase("the cancellation")),
}
# Undoing these gives the appointment its doctor's time back, if it is still free.
RETAKES_TIME = frozenset({"AppointmentMarkedNoShow", "AppointmentCancelled"})
UNDOS = frozenset(cls.__name__ for cls, _ in UNDOABLE.values())


def why_not_undo(
    last_event: str | None,
    *,
    done_at: datetime,
    now: datetime,
    tz: tzinfo,
    window: timedelta = UNDO_WINDOW,
    always: bool = False,
) -> Message | None:
    """Why the appointment's last change (`last_event`, recorded at `done_at`) may not be
    undone now; None when it may. `always` for those who may undo at any time (admins)."""
    if last_event in UNDOS:
        return phrase("That has already been undone; an undo cannot itself be undone.")
    if last_event not in UNDOABLE:
        return phrase(
            "Only a check-in, a no-show, a completion or a cancellation can be undone, "
            "and only as the appointment's last change."
        )
    if not always and now > done_at + window:
        return phrase(
            "It is too late to undo %(action)s: it was recorded at %(when)s, more than "
            "%(minutes)s min ago. An admin can still undo it.",
            action=UNDOABLE[last_event][1],
            when=done_at.astimezone(tz),
            minutes=int(window.total_seconds() // 60),
        )
    return None


def _on_its_day(starts_at: datetime, now: datetime, tz: tzinfo, grace: timedelta) -> bool:
    return same_local_day(now, starts_at, tz)


def _after_its_grace(starts_at: datetime, now: datetime, tz: tzinfo, grace: timedelta) -> bool:
    return now >= starts_at + grace


# action -> the clock's rule beyond the status, and the refusal when it says no (naming the
# appointment's start, %(starts)s, the moment the rule allows it from, %(after)s, and the
# no-show grace in minutes, %(minutes)s).
WHEN: dict[str, tuple[Callable[[datetime, datetime, tzinfo, timedelta], bool], str]] = {
    "check_in": (
        _on_its_day,
        N_("A patient can be checked in only on the day of the appointment (%(starts)s)."),
    ),
    "mark_no_show": (
        _after_its_grace,
        N_(
            "A patient can be marked as a no-show only from %(after)s, %(minutes)s min after "
            "the start time."
        ),
    ),
}


def _clock_refuses(
    action: str,
    starts_at: datetime | None,
    now: datetime | None,
    tz: tzinfo | None,
    grace: timedelta,
) -> str | None:
    """The phrase of the clock's rule for `action` when it refuses now; None when the
    action has no such rule or the rule allows it."""
    rule = WHEN.get(action)
    if rule is None:
        return None
    if starts_at is None or now is None or tz is None:
        raise TypeError(f"{action} is judged by the clock: pass starts_at, now and tz")
    allows, refusal = rule
    return None if allows(starts_at, now, tz, grace) else refusal


def why_not(
    action: str,
    status: Status | None,
    *,
    starts_at: datetime | None,
    now: datetime | None = None,
    tz: tzinfo | None = None,
    no_show_grace: timedelta = NO_SHOW_GRACE,
) -> Message | None:
    """Why staff may not take `action` on an appointment in `status` starting at
    `starts_at`, at `now`; None when they may. Commands and pages both ask this."""
    allowed, refusal = TRANSITIONS[action]
    if status not in allowed:
        return phrase(refusal, status=status.word if status else phrase("not booked"))
    refused = _clock_refuses(action, starts_at, now, tz, no_show_grace)
    if refused is None:
        return None
    assert starts_at is not None and tz is not None  # _clock_refuses raised otherwise
    return phrase(
        refused,
        starts=starts_at.astimezone(tz),
        after=(starts_at + no_show_grace).astimezone(tz),
        minutes=int(no_show_grace.total_seconds() // 60),
    )


def allowed_actions(
    status: Status | None,
    *,
    starts_at: datetime | None,
    now: datetime,
    tz: tzinfo,
    no_show_grace: timedelta = NO_SHOW_GRACE,
) -> frozenset[str]:
    """The actions (keys of TRANSITIONS) staff may take on such an appointment now: the
    same rules as why_not, without wording the refusals (a page asks this for every row)."""
    return frozenset(
        action
        for action, (allowed, _) in TRANSITIONS.items()
        if status in allowed and _clock_refuses(action, starts_at, now, tz, no_show_grace) is None
    )


def check_times(
    starts_at: datetime, ends_at: datetime, *, now: datetime, schedule: Schedule, tz: tzinfo
) -> None:
    """A bookable time: zone-aware, in the future, a sensible length, inside the doctor's
    effective hours (weekly or one-off, within the clinic's, outside absences and
    closures)."""
    require_aware(starts_at, field="starts_at")
    require_aware(ends_at, field="duration_minutes")
    starts_at, ends_at = starts_at.astimezone(UTC), ends_at.astimezone(UTC)
    if ends_at <= starts_at:
        raise ValidationError(
            {"duration_minutes": phrase("The appointment must end after it starts.")}
        )
    if ends_at - starts_at < MIN_DURATION:
        raise ValidationError(
            {"duration_minutes": phrase("An appointment lasts at least 5 minutes.")}
        )
    if ends_at - starts_at > MAX_DURATION:
        raise ValidationError({"duration_minutes": phrase("An appointment lasts at most 8 hours.")})
    if starts_at <= now:
        raise ValidationError(
            {
                "starts_at": phrase(
                    "%(starts)s has already passed; choose a later time.",
                    starts=starts_at.astimezone(tz),
                )
            }
        )
    refused = schedule.refusal(starts_at, ends_at, tz)
    if refused is not None:
        raise OutsideWorkingHoursError(refused)


@dataclass
class Appointment:
    """One patient's appointment with one doctor, folded from its stream."""

    id: UUID
    version: int = 0
    patient_id: UUID | None = None
    doctor_id: UUID | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    title: str = ""
    visit_type_id: UUID | None = None
    status: Status | None = None
    # The last event's type, and the status before it: what an undo takes back to.
    last_event: str | None = None
    status_before: Status | None = None

    @property
    def exists(self) -> bool:
        return self.status is not None

    @classmethod
    def from_history(cls, appointment_id: UUID, events: Iterable[Event]) -> Appointment:
        appointment = cls(id=appointment_id)
        for event in events:
            appointment.apply(event)
        return appointment

    def apply(self, event: Event) -> None:
        """Fold one event into the state."""
        self.status_before, self.last_event = self.status, type(event).__name__
        match event:
            case AppointmentCreated():
                self.patient_id, self.doctor_id = event.patient_id, event.doctor_id
                self.starts_at, self.ends_at = event.starts_at, event.ends_at
                self.title, self.status = event.title, Status.PENDING
                self.visit_type_id = event.visit_type_id
            case AppointmentConfirmed():
                self.status = Status.CONFIRMED
            case AppointmentCancelled():
                self.status = Status.CANCELLED
            case AppointmentRescheduled():
                self.starts_at, self.ends_at = event.starts_at, event.ends_at
                self.doctor_id = event.doctor_id or self.doctor_id
                if event.awaits_confirmation:
                    self.status = Status.PENDING
            case AppointmentCheckedIn():
                self.status = Status.CHECKED_IN
            case AppointmentCompleted():
                self.status = Status.COMPLETED
            case AppointmentMarkedNoShow():
                self.status = Status.NO_SHOW
            case Undone():
                self.status = Status(event.status)
        self.version += 1

    def _check_can(
        self,
        action: str,
        *,
        now: datetime | None = None,
        tz: tzinfo | None = None,
        no_show_grace: timedelta = NO_SHOW_GRACE,
    ) -> None:
        refused = why_not(
            action,
            self.status,
            starts_at=self.starts_at,
            now=now,
            tz=tz,
            no_show_grace=no_show_grace,
        )
        if refused is not None:
            raise InvalidTransitionError(refused)

    def book(
        self,
        *,
        patient: Patient,
        doctor: Doctor,
        starts_at: datetime,
        ends_at: datetime,
        title: str,
        now: datetime,
        tz: tzinfo,
        confirmed: bool = False,
        schedule: Schedule | None = None,
        visit_type_id: UUID | None = None,
        series_id: UUID | None = None,
        occurrence: int | None = None,
    ) -> list[Event]:
        """Decide a new booking for `patient` with `doctor`; `confirmed` when it was agreed
        with the patient as it was made (on the phone, at the desk): the history then says
        the booking and its confirmation, in that order."""
        if self.version:
            raise AlreadyExistsError(phrase("This appointment has already been booked."))
        title = clean_text(
            title, field="title", label=phrase("The reason for the visit"), max_length=200
        )
        check_times(starts_at, ends_at, now=now, schedule=schedule or doctor.schedule(), tz=tz)
        booked: list[Event] = [
            AppointmentCreated(
                patient.id,
                doctor.id,
                starts_at,
                ends_at,
                title,
                visit_type_id,
                series_id=series_id,
                occurrence=occurrence if series_id else None,
            )
        ]
        return [*booked, AppointmentConfirmed()] if confirmed else booked

    def confirm(self) -> list[Event]:
        """Decide the confirmation of a pending appointment."""
        self._check_can("confirm")
        return [AppointmentConfirmed()]

    def cancel(self, reason: str, *, required: bool = True) -> list[Event]:
        """Decide a cancellation; staff must say why (a patient need not)."""
        self._check_can("cancel")
        reason = clean_text(
            reason,
            field="reason",
            label=phrase("The reason for cancelling"),
            max_length=500,
            required=required,
        )
        return [AppointmentCancelled(reason)]

    def reschedule(
        self,
        *,
        doctor: Doctor,
        starts_at: datetime,
        ends_at: datetime,
        reason: str,
        now: datetime,
        tz: tzinfo,
        confirmed: bool | None = None,
        schedule: Schedule | None = None,
    ) -> list[Event]:
        """Decide a move to a new time, with `doctor` (the same one or another).

        `confirmed` says whether the patient agreed the new time: a confirmed appointment
        stays confirmed, a pending one is confirmed by the same act (recorded after the
        move); False sends it back to pending; None keeps the status it has."""
        self._check_can("reschedule")
        reason = clean_text(
            reason,
            field="reason",
            label=phrase("The reason for rescheduling"),
            max_length=500,
            required=False,
        )
        assert self.starts_at is not None and self.ends_at is not None
        if (starts_at, ends_at, doctor.id) == (self.starts_at, self.ends_at, self.doctor_id):
            raise ValidationError({"starts_at": phrase("The appointment is already at that time.")})
        check_times(starts_at, ends_at, now=now, schedule=schedule or doctor.schedule(), tz=tz)
        agreed = self.status is Status.CONFIRMED if confirmed is None else confirmed
        moved = AppointmentRescheduled(
            starts_at,
            ends_at,
            self.starts_at,
            self.ends_at,
            reason,
            doctor_id=doctor.id,
            previous_doctor_id=self.doctor_id,
            awaits_confirmation=not (agreed and self.status is Status.CONFIRMED),
        )
        if agreed and self.status is Status.PENDING:
            return [moved, AppointmentConfirmed()]
        return [moved]

    def check_in(self, *, now: datetime, tz: tzinfo) -> list[Event]:
        """Decide the arrival of the patient, on the day of the appointment; a pending one is
        confirmed by the same act, recorded first."""
        self._check_can("check_in", now=now, tz=tz)
        if self.status is Status.PENDING:
            return [AppointmentConfirmed(), AppointmentCheckedIn()]
        return [AppointmentCheckedIn()]

    def complete(self) -> list[Event]:
        """Decide the end of the visit."""
        self._check_can("complete")
        return [AppointmentCompleted()]

    def mark_no_show(
        self, *, now: datetime, tz: tzinfo, grace: timedelta = NO_SHOW_GRACE
    ) -> list[Event]:
        """Decide that the patient did not come; only once `grace` after the start time has
        passed."""
        self._check_can("mark_no_show", now=now, tz=tz, no_show_grace=grace)
        return [AppointmentMarkedNoShow()]

    def undo(
        self,
        *,
        done_at: datetime,
        now: datetime,
        tz: tzinfo,
        window: timedelta = UNDO_WINDOW,
        always: bool = False,
    ) -> list[Event]:
        """Decide the undo of the last change (recorded at `done_at`): a compensating event
        that returns the appointment to the status it had before that change."""
        refused = why_not_undo(
            self.last_event, done_at=done_at, now=now, tz=tz, window=window, always=always
        )
        if refused is not None:
            raise InvalidTransitionError(refused)
        assert self.last_event is not None and self.status_before is not None
        undone, _ = UNDOABLE[self.last_event]
        return [undone(undone_version=self.version, status=self.status_before.value)]
