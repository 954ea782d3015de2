"""The views of the actions on one appointment (web/actions.py's table): send the command,
then show the row again where it was pressed, or the refusal."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from flask import Response, flash, request, url_for
from flask_babel import gettext

from app.commands import CommandResult

from . import forms
from .actions import Action
from .kit.outcomes import Expectation, Refusal, attempt
from .kit.rendering import fragment, from_htmx, page, safe_next, see_other
from .rows import detail_context, found, render_in, reschedule_page


def _act(appointment_id: UUID, action: Action) -> Response:
    context = request.form.get("context", "detail")
    outcome = attempt(lambda: action.build(appointment_id, request.form))
    if isinstance(outcome, Refusal):
        return _refused(appointment_id, context, outcome)
    return _acted(appointment_id, action, context, outcome)


def _acted(appointment_id: UUID, action: Action, context: str, result: CommandResult) -> Response:
    expectation = Expectation.of("appointment", result)
    if not from_htmx():
        flash(gettext(action.done))
        default = url_for("appointments.detail", appointment_id=appointment_id)
        return see_other(safe_next(default), expectation)
    caught_up = expectation.wait()
    row = found(appointment_id)
    if row is None:
        # No row to swap in yet: the appointment's page says "updating" until there is.
        detail = url_for("appointments.detail", appointment_id=appointment_id)
        response = Response(status=204)
        response.headers["HX-Redirect"] = f"{detail}?expect={expectation.param()}"
        return response
    response = render_in(context, row, not caught_up, done=action.done, expectation=expectation)
    # Other regions (Today's counters) refresh themselves when they hear this.
    response.headers["HX-Trigger"] = "appointment-changed"
    return response


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
