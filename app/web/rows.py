"""One appointment as the pages show it: its row in each region, its detail page's parts,
and the actions it offers the signed-in user."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, tzinfo
from typing import Any
from uuid import UUID

from flask import Response, abort, g, request, url_for

from app.commands import commands as c
from app.commands.access import UNDO_NEEDS, may_undo_any_time
from app.domain.appointment import Status, why_not_undo
from app.domain.staff import Principal
from app.extensions import services
from app.outbound import ledger
from app.queries import appointments as q
from app.queries import waitlist
from app.queries.agenda import birth_dates, free_slots_for_day
from app.queries.availability import visit_type_labels
from app.queries.freshness import recorded
from app.queries.series import visit_count as series_count
from app.queries.timeline import timeline_beside

from . import formatting as fmt
from . import forms, i18n, pickers, reminder_words
from .actions import ACTIONS, UNDO_WORDS, Action, offered
from .kit import access
from .kit.outcomes import Refusal
from .kit.rendering import fragment, missing, page_or_fragment

# Rows and the detail page are the places an action can be started from, and re-rendered.
CONTEXTS = {
    "queue": "appointments/_queue_row.html",
    "agenda": "appointments/_agenda_row.html",
    "doctor-day": "appointments/_doctor_day_row.html",
    "list": "appointments/_list_row.html",
    "detail": "appointments/_detail.html",
}

# Status is never shown by colour alone: each badge has a symbol and a word.
STATUS_ICONS = {
    "pending": "◷",
    "confirmed": "✓",
    "checked_in": "➜",
    "completed": "✔",
    "cancelled": "✕",
    "no_show": "∅",
}


def appointment_path(row: q.AppointmentRow) -> str:
    """The detail page's address. Pages list fifty rows with several links each; building
    them from one prefix costs a fraction of a url_for per link."""
    return f"{request.script_root}/appointments/{row.appointment_id}"


def action_path(action: Action, row: q.AppointmentRow) -> str:
    """Where an action on this row is sent (or, for one with a page, opened)."""
    return f"{appointment_path(row)}/{action.slug}"


def patient_path(patient_id: UUID) -> str:
    return f"{request.script_root}/patients/{patient_id}"


def _permitted() -> list[Action]:
    """The actions the user's role allows, their buttons in the reader's language (a page of
    rows asks once: a translation per button of every row was a tenth of a list's time)."""
    if "permitted_actions" not in g:
        g.permitted_actions = [
            replace(a, label=i18n.gettext(a.label))
            for a in ACTIONS.values()
            if access.may(a.command)
        ]
    return g.permitted_actions


@dataclass(frozen=True)
class _Judge:
    """What a page's rows have their actions judged by, looked up once per request: a page
    is drawn at one moment, and rows of the same status and time offer the same actions."""

    now: datetime
    tz: tzinfo
    grace: timedelta
    permitted: list[Action]
    me: Principal
    offers: dict[tuple[Status, datetime, str], list[Action]] = field(default_factory=dict)


def _judge() -> _Judge:
    found: _Judge | None = g.get("row_judge")
    if found is None:
        app = services()
        found = g.row_judge = _Judge(
            fmt.now(), app.tz, app.bus.no_show_grace, _permitted(), access.principal()
        )
    return found


def actions_for(row: q.AppointmentRow, context: str = "detail") -> list[Action]:
    """The actions the user's role, the row's status and the clock allow now, in the order
    staff use them; Today's queue offers only those that clear it."""
    judge = _judge()
    if judge.me.is_doctor and not judge.me.owns(row.doctor_id):  # access.sees_doctor
        return []
    key = (row.status, row.starts_at, context)
    actions = judge.offers.get(key)
    if actions is None:
        actions = judge.offers[key] = offered(
            row.status,
            row.starts_at,
            now=judge.now,
            tz=judge.tz,
            permitted=judge.permitted,
            context=context,
            no_show_grace=judge.grace,
        )
    return actions


@dataclass(frozen=True)
class UndoOffer:
    """An Undo button: what it says, and the change it takes back (an event type)."""

    label: str
    undoes: str


def undo_for(row: q.AppointmentRow, last_event: str, done_at: datetime) -> UndoOffer | None:
    """Undo beside the row's last change (`last_event`, recorded at `done_at`), when the
    user may take it back now: the bus's rules (app/domain/appointment.py), asked first."""
    needed = UNDO_NEEDS.get(last_event)
    if needed is None or not access.sees_doctor(row.doctor_id):
        return None
    if not (access.may(needed) and access.may(c.UndoAppointmentChange)):
        return None
    refused = why_not_undo(
        last_event,
        done_at=done_at,
        now=fmt.now(),
        tz=services().tz,
        window=services().bus.undo_window,
        always=may_undo_any_time(access.principal()),
    )
    return None if refused else UndoOffer(i18n.gettext(UNDO_WORDS[last_event][0]), last_event)


def found(appointment_id: UUID) -> q.AppointmentRow | None:
    """The appointment's row once the user may see it; None for one the store has and the
    read model does not show yet (it lags, or is being rebuilt); 404 for no appointment."""
    row = services().reads.appointment_detail(appointment_id)
    if row is not None:
        _require_sight(row.doctor_id, row.patient_id)
        return row
    # The store is the truth: a command may have been taken on a record not projected yet.
    stored = recorded(services().store, "appointment", appointment_id)
    if stored is None:
        abort(404, description=i18n.no_such("appointment"))
    _require_sight(stored.doctor_id, stored.patient_id)
    return None


def _require_sight(doctor_id: UUID | None, patient_id: UUID | None) -> None:
    """404, as for an unknown id, unless the user may see this appointment."""
    if not access.may_see_appointment(doctor_id, patient_id):
        access.conceal("an appointment of another doctor's patient", "appointment")


def not_shown_yet() -> Response:
    """An appointment the read model does not show yet, on a page: it refreshes itself."""
    return missing("appointment", True, url_for("appointments.index"))


def detail_context(row: q.AppointmentRow) -> dict[str, Any]:
    """What the detail page shows besides the row: its history, and people's names."""
    found = services()
    entries = timeline_beside(row, found.reads, found.store, tz=found.tz)
    # Events name their actor by user id; people read names.
    actors = [row.booked_by, row.changed_by, *(entry.actor for entry in entries)]
    last = entries[-1] if entries and entries[-1].version == row.version else None
    front_desk = not access.principal().is_doctor
    return {
        "row": row,
        "history": entries,
        # A cancelled time still ahead and free: the patients waiting for it, first first.
        "waiting": waitlist.freed(found.query_engine, row, tz=found.tz, now=found.bus.clock())
        if front_desk
        else [],
        "series_visits": series_count(found.query_engine, row.series_id) if row.series_id else 0,
        "people": reminder_words.named_actors(found.accounts.names(actors)),
        "reminders": ledger.for_appointments(found.store_query_engine, [row.appointment_id]),
        "undo": undo_for(row, last.summary, last.recorded_at) if last else None,
        "visit_type": visit_type_labels(found.query_engine, [row.visit_type_id]).get(
            row.visit_type_id
        )
        if row.visit_type_id
        else None,
    }


def render_in(
    context: str,
    row: q.AppointmentRow,
    updating: bool = False,
    refusal: Refusal | None = None,
    status: int = 200,
    **extra: Any,
) -> Response:
    """The row as the region `context` shows it (the detail page's article for "detail")."""
    template = CONTEXTS.get(context, CONTEXTS["list"])
    values = dict(request.form) if refusal else {}
    state = {"updating": updating, "refusal": refusal, "values": values, **extra}
    if context == "detail":
        return fragment(template, status=status, **state, **detail_context(row))
    if context == "doctor-day":
        # The doctor's day shows the patient's date of birth under the name (print too).
        born = birth_dates(services().query_engine, {row.patient_id})
        return fragment(template, status=status, row=row, state=state, born=born)
    return fragment(template, status=status, row=row, state=state)


def reschedule_page(
    row: q.AppointmentRow,
    chosen: date,
    values: dict[str, str],
    refusal: Refusal | None = None,
    status: int = 200,
) -> Response:
    """The reschedule page (its free slots alone, for htmx), with what was typed: the free
    times of the doctor chosen (`doctor_id`, the appointment's own by default)."""
    doctor_id, doctor_name = _doctor_to_move_to(
        row, values.get("doctor_id") or request.args.get("doctor_id")
    )
    slots = free_slots_for_day(
        services().query_engine, doctor_id, chosen, tz=services().tz, now=fmt.now()
    )
    return page_or_fragment(
        "appointments/reschedule.html",
        "appointments/_slots.html",
        target="slots",
        status=status,
        row=row,
        day=chosen,
        slots=slots,
        doctor_id=doctor_id,
        doctor_name=doctor_name,
        values=values,
        refusal=refusal,
    )


def _doctor_to_move_to(row: q.AppointmentRow, asked: str | None) -> tuple[UUID, str]:
    """The doctor whose free times the page shows, and their name: one the clinic has, as
    asked, or the appointment's own."""
    wanted = forms.uuid_or_none(asked or "")
    if wanted is not None and wanted != row.doctor_id:
        for choice in pickers.doctors():
            if choice.doctor_id == wanted:
                return wanted, choice.full_name
    return row.doctor_id, row.doctor_name
