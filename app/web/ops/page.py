"""The operations page, for admins: each projection's state, lag and throughput, the event
it is stuck on with Retry and Skip, a Rebuild with its progress, and charts of the last hour.
Every action is logged to "rendezvous.ops" with the admin who took it."""

from __future__ import annotations

import logging
from datetime import datetime

from flask import Blueprint, Response, abort, flash, request, url_for
from flask_login import current_user

from app.domain.messages import N_
from app.extensions import services
from app.ops import panels, rebuilds, tasks
from app.outbound import ledger
from app.projections import RunReport
from app.web import i18n
from app.web.kit.outcomes import Refusal
from app.web.kit.rendering import fragment, see_other, wants_fragment

from . import charts as ops_charts
from .words import REBUILD_STATES, projection_name, state_label

log = logging.getLogger("rendezvous.ops")

bp = Blueprint("ops", __name__, url_prefix="/ops")


@bp.context_processor
def _words() -> dict[str, object]:
    """What this page's templates word projections and states with."""
    return {"projection_name": projection_name, "state_label": state_label}


OUTCOMES = {
    "caught_up": N_("up to date"),
    "more": N_("more to go: the workers (or the next command) carry on"),
    "busy": N_("a worker is running it now"),
    "held_back": N_("newer events wait for a transaction still open elsewhere"),
    "parked": N_("parked again: see its error"),
    "needs_rebuild": N_("it needs a rebuild"),
    "deferred": N_("the database or the cache did not answer just now; the workers carry on"),
}


def _who() -> str:
    return current_user.username


def _now() -> datetime:
    return services().projector.clock()


def _known(name: str) -> str:
    try:
        services().projector.projection(name)
    except LookupError:
        abort(404, description=i18n.gettext("There is no projection named %(name)s.", name=name))
    return name


def _back(name: str) -> Response:
    return see_other(url_for(".index") + f"#projection-{name}")


def _page(
    status: int = 200, *, refused: str | None = None, refusal: Refusal | None = None
) -> Response:
    """The whole page; `refusal` shows in the card of the projection named `refused`.

    Drawn without pages.page(): this page shows the lag itself, and the "shown as of" banner
    that page() adds would reload the whole page every few seconds while a projection is
    parked, closing the traceback and the Skip confirmation the admin has open."""
    now = _now()
    return fragment(
        "ops/index.html",
        status=status,
        panels=panels.panels(services().projector, now),
        reminders=ledger.summary(services().store.engine),
        refused=refused,
        refusal=refusal,
        **ops_charts.chart_context(now),
    )


@bp.get("")
def index() -> Response:
    """Projections with their actions, and charts of the last hour."""
    return _page()


@bp.get("/projections/<name>")
def projection(name: str) -> Response:
    """One projection's card; the page polls it every second while a rebuild runs."""
    _known(name)
    if wants_fragment(f"projection-{name}"):
        now = _now()
        panel = panels.panel(services().projector, name, now)
        return fragment("ops/_projection.html", p=panel, now=now, number=ops_charts.number)
    return _page()


@bp.get("/charts")
def charts() -> Response:
    """The charts, which the page refreshes every 15 seconds."""
    if wants_fragment("ops-charts"):
        return fragment("ops/_charts.html", **ops_charts.chart_context(_now()))
    return _page()


@bp.post("/projections/<name>/retry")
def retry(name: str) -> Response:
    """Try a projection's failed event again (after a fix), and carry on."""
    _known(name)
    report = panels.retry(services().projector, name)
    log.info(
        "retry of %s by %s: %d events applied, %s", name, _who(), report.applied, report.outcome
    )
    flash(
        i18n.gettext(
            "Retried %(projection)s: %(outcome)s.",
            projection=projection_name(name),
            outcome=_ran(report),
        )
    )
    return _back(name)


@bp.post("/reminders/<path:key>/retry")
def retry_reminder(key: str) -> Response:
    """Send a parked reminder again at the sender's next pass."""
    if ledger.retry(services().store.engine, key, _now()):
        log.info("retry of reminder %s by %s", key, _who())
        flash(i18n.gettext("The reminder will be sent again at the next pass."))
    else:
        flash(i18n.gettext("That reminder is no longer set aside: nothing to retry."))
    return see_other(url_for(".index") + "#reminders-title")


@bp.post("/projections/<name>/skip")
def skip(name: str) -> Response:
    """Pass over a projection's failed event for good (it is recorded), and carry on."""
    _known(name)
    seen = request.form.get("position") or ""
    try:
        position = int(seen) if seen else None
    except ValueError:
        abort(400, description=i18n.gettext("The event's position is a whole number."))
    try:
        row, report = panels.skip(services().projector, name, position)
    except (panels.NothingToSkipError, panels.FailureMovedError) as exc:
        log.info("skip on %s refused for %s: %s", name, _who(), exc)
        return _page(409, refused=name, refusal=Refusal(409, _not_skipped(exc)))
    log.warning(
        "skipped %s at position %s on %s, by %s",
        row.failed_event_type,
        row.failed_position,
        name,
        _who(),
    )
    flash(
        i18n.gettext(
            "Skipped %(event)s at position %(position)s on %(projection)s: %(outcome)s.",
            event=row.failed_event_type,
            position=row.failed_position,
            projection=projection_name(name),
            outcome=_ran(report),
        )
    )
    return _back(name)


@bp.post("/projections/<name>/rebuild")
def rebuild(name: str) -> Response:
    """Queue a rebuild: the log replayed into new tables, swapped in at the end."""
    _known(name)
    engine = services().read_engine
    try:
        asked = rebuilds.request(engine, name, by=_who(), now=_now())
    except rebuilds.RebuildRefusedError as exc:
        log.info("rebuild of %s refused for %s: %s", name, _who(), exc)
        return _page(409, refused=name, refusal=Refusal(409, _not_rebuilt(exc)))
    try:
        tasks.start_rebuild(asked.id)
    except Exception:  # the broker is unreachable: say so, rather than leave it queued
        log.warning(
            "rebuild #%d of %s by %s not started: broker unreachable",
            asked.id,
            name,
            _who(),
            exc_info=True,
        )
        rebuilds.fail(engine, asked.id, "The task queue could not be reached.", _now())
        message = i18n.gettext(
            "The task queue could not be reached, so the rebuild did not start. Try again."
        )
        return _page(503, refused=name, refusal=Refusal(503, message))
    log.info("rebuild #%d of %s asked for by %s", asked.id, name, _who())
    flash(
        i18n.gettext(
            "Rebuild of %(projection)s queued; its progress shows below.",
            projection=projection_name(name),
        )
    )
    return _back(name)


def _ran(report: RunReport) -> str:
    applied = i18n.ngettext("%(num)d event applied", "%(num)d events applied", report.applied)
    outcome = OUTCOMES.get(report.outcome)
    said = i18n.gettext(outcome) if outcome else report.outcome.replace("_", " ")
    return f"{applied}, {said}"


def _not_skipped(exc: panels.NothingToSkipError | panels.FailureMovedError) -> str:
    projection = projection_name(exc.name)
    if isinstance(exc, panels.NothingToSkipError):
        return i18n.gettext("%(projection)s has no failed event to skip.", projection=projection)
    return i18n.gettext(
        "%(projection)s is now failing on another event (%(event)s at position %(position)s), "
        "not the one at position %(seen)s: look at its error before skipping it.",
        projection=projection,
        event=exc.row.failed_event_type,
        position=exc.row.failed_position,
        seen=exc.seen,
    )


def _not_rebuilt(exc: rebuilds.RebuildRefusedError) -> str:
    projection = projection_name(exc.name)
    if exc.active is None:
        return i18n.gettext(
            "A rebuild of %(projection)s is queued already; wait for it to finish.",
            projection=projection,
        )
    return i18n.gettext(
        "A rebuild of %(projection)s is %(state)s already, asked for by %(who)s; "
        "wait for it to finish.",
        projection=projection,
        state=i18n.gettext(REBUILD_STATES.get(exc.active.state, exc.active.state)),
        who=exc.active.requested_by,
    )
