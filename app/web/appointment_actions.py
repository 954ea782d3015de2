"""The views of the actions on one appointment (web/actions.py's table): send the command,
then show the row again where it was pressed, or the refusal."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any
from uuid import UUID

from flask import Response, flash, request, url_for
from flask_babel import gettext

from app.commands import CommandResult
from app.commands import commands as c
from app.domain.messages import N_
from app.extensions import services
from app.queries import first_free as ff
from app.queries import waitlist

from . import formatting as fmt
from . import forms, i18n
from .actions import UNDO_WORDS, Action
from .kit import access
from .kit.outcomes import Expectation, Refusal, attempt
from .kit.rendering import fragment, from_htmx, page, safe_next, see_other
from .rows import detail_context, found, render_in, reschedule_page, undo_for


def _act(appointment_id: UUID, action: Action) -> Response:
    context = request.form.get("context", "detail")
    outcome = attempt(lambda: action.build(appointment_id, request.form))
    if isinstance(outcome, Refusal):
        return _refused(appointment_id, context, outcome)
    return _acted(appointment_id, action.done, context, outcome, action.records)


def undo(appointment_id: UUID) -> Response:
    """undo: the appointment's last check-in, no-show, completion or cancellation."""
    context = request.form.get("context", "detail")
    outcome = attempt(
        lambda: forms.appointment_command(c.UndoAppointmentChange, appointment_id, request.form, ())
    )
    if isinstance(outcome, Refusal):
        return _refused(appointment_id, context, _with_next_free(appointment_id, outcome))
    # Which undo it was, as the button said: only the words depend on it.
    words = UNDO_WORDS.get(request.form.get("undoing", ""))
    return _acted(appointment_id, words[1] if words else N_("Undone."), context, outcome)


def _with_next_free(appointment_id: UUID, refusal: Refusal) -> Refusal:
    """A cancellation or no-show whose time was booked meanwhile cannot be undone: say when
    the doctor is next free for the same length, to book it again."""
    row = found(appointment_id) if refusal.errors.get("starts_at") else None
    if row is None:
        return refusal
    app = services()
    minutes = (row.ends_at - row.starts_at) // timedelta(minutes=1)
    search = ff.first_free(
        app.query_engine,
        doctor_id=row.doctor_id,
        from_day=max(row.local_day, fmt.today()),
        tz=app.tz,
        now=fmt.now(),
        minutes=minutes,
        count=1,
    )
    if not search.times:
        said = i18n.gettext(
            "%(doctor)s has no free time of %(minutes)d min in the next %(days)d days.",
            doctor=row.doctor_name,
            minutes=minutes,
            days=ff.HORIZON_DAYS,
        )
    else:
        said = i18n.gettext(
            "The next free time with %(doctor)s is %(when)s.",
            doctor=row.doctor_name,
            when=i18n.moment_text(search.times[0].starts_at.astimezone(app.tz), "full_moment"),
        )
    return replace(refusal, message=f"{refusal.message} {said}")


def _acted(
    appointment_id: UUID, done: str, context: str, result: CommandResult, records: str = ""
) -> Response:
    """After an action (`done`: what to say; `records`: the event it recorded, when an undo
    may take it back): the row where it was pressed, or the appointment's page."""
    expectation = Expectation.of("appointment", result)
    offer = _offer_page(appointment_id, expectation) if records in FREES_TIME else None
    if not from_htmx():
        flash(gettext(done))
        default = url_for("appointments.detail", appointment_id=appointment_id)
        return see_other(offer or safe_next(default), expectation)
    if offer is not None and context != "detail":
        # The time goes to the first patient waiting for it: the page that offers it.
        response = Response(status=204)
        response.headers["HX-Redirect"] = f"{offer}?expect={expectation.param()}#waitlist-offer"
        flash(gettext(done))
        return response
    caught_up = expectation.wait()
    row = found(appointment_id)
    if row is None:
        # No row to swap in yet: the appointment's page says "updating" until there is.
        detail = url_for("appointments.detail", appointment_id=appointment_id)
        response = Response(status=204)
        response.headers["HX-Redirect"] = f"{detail}?expect={expectation.param()}"
        return response
    extra: dict[str, Any] = {}
    if records and caught_up and context != "detail":  # the page finds it in the history
        extra["undo"] = undo_for(row, records, fmt.now())
    response = render_in(context, row, not caught_up, done=done, expectation=expectation, **extra)
    # Other regions (Today's counters) refresh themselves when they hear this.
    response.headers["HX-Trigger"] = "appointment-changed"
    return response


# The actions that give a doctor's time back while it may still be ahead.
FREES_TIME = frozenset({"AppointmentCancelled"})


def _offer_page(appointment_id: UUID, expectation: Expectation) -> str | None:
    """The appointment's page when the time just freed is one someone on the waitlist is
    waiting for (the page offers it to them); None otherwise, or for a doctor."""
    if access.principal().is_doctor or not expectation.wait():
        return None
    row = found(appointment_id)
    app = services()
    if row is None or not waitlist.freed(app.query_engine, row, tz=app.tz, now=fmt.now()):
        return None
    return url_for("appointments.detail", appointment_id=appointment_id)


def _refused(appointment_id: UUID, context: str, refusal: Refusal) -> Response:
    row = found(appointment_id)
    if row is None:
        return _refused_unshown(appointment_id, refusal)
    if context == "reschedule":
        chosen = forms.parse_day(request.form.get("day")) or row.local_day
        return reschedule_page(row, chosen, dict(request.form), refusal, refusal.status)
    if from_htmx():
        return render_in(context, row, refusal=refusal, status=refusal.status)
    if refusal.status == 422:
        return page(
            "appointments/detail.html",
            status=422,
            refusal=refusal,
            values=dict(request.form),
            **detail_context(row),
        )
    return page("refused.html", status=refusal.status, refusal=refusal, row=row)


def _refused_unshown(appointment_id: UUID, refusal: Refusal) -> Response:
    """A refusal on an appointment the read model does not show yet: the refusal as it is
    (409 with what changed), never "no such appointment"."""
    reload = url_for("appointments.detail", appointment_id=appointment_id)
    if not from_htmx():
        return page("refused.html", status=refusal.status, refusal=refusal, reload=reload)
    response = fragment(
        "_refusal_notice.html", status=refusal.status, refusal=refusal, reload=reload
    )
    # No row to show it in: the page's message area, as for other errors (kit/errors.py).
    response.headers["HX-Retarget"] = "#flash"
    response.headers["HX-Reswap"] = "innerHTML"
    return response


def action_view(action: Action) -> Callable[[UUID], Response]:
    def view(appointment_id: UUID) -> Response:
        return _act(appointment_id, action)

    view.__doc__ = f"{action.slug}: one appointment."
    return view
