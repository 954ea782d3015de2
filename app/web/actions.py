"""What staff can do to one appointment, as the pages offer it: one row per action says
its button, the form fields it carries beyond the version, how its row draws it
(app/web/row_html.py), and the command it sends. Which of them a row offers is the
domain's answer (`allowed_actions`), narrowed by the user's role."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from uuid import UUID

from app.commands import commands as c
from app.commands.access import UNDO_NEEDS
from app.domain.appointment import NO_SHOW_GRACE, Status, allowed_actions
from app.domain.messages import N_

from . import forms


@dataclass(frozen=True)
class Action:
    """One thing staff can do to an appointment."""

    slug: str  # in the URL
    label: str  # on the button; English, the catalog's id: pages show gettext(label)
    domain: str  # its name in the domain's TRANSITIONS
    command: type[c.AppointmentCommand]
    done: str  # said once it is done (a catalog id, as the label)
    macro: str = "button"  # how app/web/row_html.py draws it: "button", "reason", "link"
    fields: tuple[str, ...] = ()  # the form fields the command takes beyond the version
    method: str = "POST"  # confirm keeps the seed route's PUT (a form without script posts)
    in_queue: bool = False  # offered in Today's confirmation queue too
    style: str = ""  # the button's extra class

    @property
    def records(self) -> str:
        """The event it records, when an undo can take it back ("" otherwise)."""
        return _UNDONE_BY.get(self.command, "")

    @property
    def endpoint(self) -> str:
        return self.slug.replace("-", "_")

    @property
    def verb(self) -> str:
        """The htmx attribute that sends it."""
        return f"hx-{self.method.lower()}"

    @property
    def methods(self) -> list[str]:
        return [self.method, "POST"] if self.method != "POST" else ["POST"]

    def build(self, appointment_id: UUID, form: Mapping[str, str]) -> c.AppointmentCommand:
        """The command this action sends, from its form."""
        return forms.appointment_command(self.command, appointment_id, form, self.fields)


# The inverse of the bus's UNDO_NEEDS: which event each undoable action's command records.
_UNDONE_BY = {command: event for event, command in UNDO_NEEDS.items()}

ACTIONS = {
    a.slug: a
    for a in (
        Action(
            "confirm", N_("Confirm"), "confirm", c.ConfirmAppointment,
            N_("Appointment confirmed."), method="PUT", in_queue=True,
        ),
        Action(
            "check-in", N_("Check in"), "check_in", c.CheckInAppointment,
            N_("Patient checked in."),
        ),
        Action(
            "complete", N_("Complete"), "complete", c.CompleteAppointment,
            N_("Visit completed."),
        ),
        Action(
            "no-show", N_("No-show"), "mark_no_show", c.MarkNoShow, N_("Marked as a no-show."),
            style="secondary",
        ),
        Action(
            "cancel", N_("Cancel"), "cancel", c.CancelAppointment, N_("Appointment cancelled."),
            macro="reason", fields=("reason",), in_queue=True,
        ),
        Action(
            "reschedule", N_("Reschedule"), "reschedule", c.RescheduleAppointment,
            N_("Rescheduled."), macro="link",
            fields=("starts_at", "duration_minutes", "reason", "doctor_id", "confirmed"),
        ),
    )
}  # fmt: skip


# Undo, by the event it takes back: its button, and what is said once it is done.
UNDO_WORDS = {
    "AppointmentCheckedIn": (N_("Undo check-in"), N_("Check-in undone.")),
    "AppointmentMarkedNoShow": (N_("Undo no-show"), N_("No-show undone.")),
    "AppointmentCompleted": (N_("Undo completion"), N_("Completion undone.")),
    "AppointmentCancelled": (N_("Undo cancellation"), N_("Cancellation undone.")),
}


def offered(
    status: Status,
    starts_at: datetime,
    *,
    now: datetime,
    tz: tzinfo,
    permitted: Iterable[Action] = ACTIONS.values(),
    context: str = "detail",
    no_show_grace: timedelta = NO_SHOW_GRACE,
) -> list[Action]:
    """Of the `permitted` actions, those the domain would accept now, in the order staff
    use them; Today's confirmation queue offers only those that clear it."""
    allowed = allowed_actions(
        status, starts_at=starts_at, now=now, tz=tz, no_show_grace=no_show_grace
    )
    return [
        action
        for action in permitted
        if action.domain in allowed and (context != "queue" or action.in_queue)
    ]
