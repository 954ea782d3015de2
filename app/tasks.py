"""Celery tasks that run projections, and how a committed command reaches them; and the
operations page's tasks (rebuilds, chart samples).

With a broker, each commit sends one small task (the nudge) that brings every projection up
to date, and beat sends a catch-up tick every few seconds, one task per projection spread
over the workers, so a nudge lost while the broker was down is made good.
Without one (the embedded default), the same projector runs in process after each commit.
Tasks carry only a projection's name; running one twice is harmless, because the projector
locks the checkpoint and applies each event once.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import TYPE_CHECKING, Any

from celery import Celery, shared_task
from flask import current_app

from app.commands import CommandResult
from app.projections import Projector
from app.projections.checkpoints import describe
from app.projections.projector import TRANSIENT
from app.queries import rebuilds, samples

if TYPE_CHECKING:
    from app.bootstrap import Services

log = logging.getLogger(__name__)

NUDGE_EXPIRES = 60  # seconds; a nudge older than this is redundant with the ticks
BROKER_PAUSE = 30.0  # seconds without nudges after one could not be sent


# Projection tasks: acknowledged once done (a worker lost mid-task leaves it to be run
# again, which is safe), retried with backoff while the database is unreachable.
PROJECTION_TASK = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": TRANSIENT,
    "retry_backoff": True,
    "retry_backoff_max": 30,
    "max_retries": 8,
}


@shared_task(name="rendezvous.project", **PROJECTION_TASK)
def project(name: str) -> dict[str, Any]:
    """Bring one projection up to date with the event store."""
    report = current_app.extensions["rendezvous"].projector.settle(name)
    if report.outcome in ("parked", "needs_rebuild"):
        log.warning("Projection %s is %s; see `flask projections status`.", name, report.outcome)
    return {"name": name, "applied": report.applied, "outcome": report.outcome}


@shared_task(name="rendezvous.project_all", **PROJECTION_TASK)
def project_all() -> list[dict[str, Any]]:
    """After a commit: bring every projection up to date in turn. A projection another
    worker holds is passed over (it is being brought up to date already)."""
    return [project(name) for name in current_app.extensions["rendezvous"].projector.names]


@shared_task(name="rendezvous.catch_up", acks_late=True)
def catch_up() -> None:
    """Beat's tick: one projection task per projection, spread over the workers."""
    celery = current_app.extensions["celery"]
    for name in current_app.extensions["rendezvous"].projector.names:
        celery.send_task(project.name, (name,), expires=NUDGE_EXPIRES)


class Nudge:
    """What the command bus calls after each commit: send one task that projects everything
    to `celery`, or, without a broker, run the projections here and now. One task, not one
    per projection: publishing is most of what a nudge costs the request.

    A nudge that cannot be sent (the broker is down) is dropped and logged: the command has
    committed, and the catch-up tick makes good. For the next BROKER_PAUSE seconds no nudge
    is tried, so requests do not each wait out a connection timeout while the broker is away.
    """

    def __init__(self, projector: Projector, celery: Celery | None) -> None:
        self.projector, self.celery = projector, celery
        self._paused_until = 0.0

    def __call__(self, result: CommandResult) -> None:
        if result.position is None or result.replayed:
            return  # nothing new was written
        if self.celery is None:
            self._run_here()
        elif time.monotonic() >= self._paused_until:
            self._send()

    def _run_here(self) -> None:
        for name in self.projector.names:
            try:
                self.projector.settle(name)
            except Exception:  # the command has committed; never fail it here
                log.warning(
                    "Projection %s failed after a command; the next command retries it.",
                    name,
                    exc_info=True,
                )

    def _send(self) -> None:
        assert self.celery is not None
        try:
            self.celery.send_task(project_all.name, expires=NUDGE_EXPIRES, retry=False)
        except Exception:  # the command has committed; never fail it here
            self._paused_until = time.monotonic() + BROKER_PAUSE
            log.warning(
                "Could not send projection tasks (broker unreachable); pausing nudges "
                "for %.0f s, the catch-up tick will bring the projections up to date.",
                BROKER_PAUSE,
                exc_info=True,
            )


# -- the operations page --

ops_log = logging.getLogger("rendezvous.ops")


@shared_task(name="rendezvous.sample_ops", acks_late=True)
def sample_ops() -> None:
    """Beat's tick: record the metrics and projection lag that the operations page charts."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Each pool process would sample its own few counts, and the charts would read
        # the jumps between processes as restarts.
        if not _warned_unsampled.is_set():
            _warned_unsampled.set()
            ops_log.warning("Not sampling the operations page's charts: set "
                            "PROMETHEUS_MULTIPROC_DIR for the web and worker processes.")
        return
    projector = current_app.extensions["rendezvous"].projector
    samples.take(projector, projector.clock())


_warned_unsampled = threading.Event()


# Acknowledged on receipt, unlike the projection tasks: a rebuild outlasting the broker's
# visibility timeout must not be handed to a second worker while the first carries on. A
# worker lost mid-rebuild leaves its row without news, which a new request then overrides.
@shared_task(name="rendezvous.rebuild", acks_late=False)
def rebuild(rebuild_id: int) -> str:
    """Carry out a rebuild asked for on the operations page."""
    return carry_out(current_app.extensions["rendezvous"], rebuild_id)


def carry_out(services: Services, rebuild_id: int) -> str:
    """Rebuild the projection a queued request names, keeping its row up to date; returns
    the final state. A failed rebuild leaves the live tables as they were."""
    engine, clock = services.read_engine, services.projector.clock
    request = rebuilds.claim(engine, rebuild_id, services.store.count(), clock())
    if request is None:
        return "gone"  # already taken, or given up as abandoned
    ops_log.info("rebuild #%d of %s started, asked for by %s", rebuild_id,
                 request.projection, request.requested_by)  # fmt: skip
    try:
        with rebuilds.ProgressReporter(engine, rebuild_id, clock) as reporter:
            services.maintenance.rebuild(request.projection, progress=reporter.add)
    except Exception as exc:
        ops_log.error("rebuild #%d of %s failed; the live tables are unchanged",
                      rebuild_id, request.projection, exc_info=True)  # fmt: skip
        rebuilds.fail(engine, rebuild_id, describe(exc), clock())
        return "failed"
    rebuilds.finish(engine, rebuild_id, reporter.done, clock())
    ops_log.info("rebuild #%d of %s done", rebuild_id, request.projection)
    return "done"


def has_broker() -> bool:
    """Whether tasks go to workers; without a broker (the embedded default) this process
    does their work itself."""
    return bool(current_app.config["CELERY"].get("broker_url"))


def start_rebuild(rebuild_id: int) -> None:
    """Hand a queued rebuild to the workers; without a broker (the embedded default), to a
    thread of this web process. Raises if the broker cannot be reached."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if has_broker():
        app.extensions["celery"].send_task(rebuild.name, (rebuild_id,), retry=False)
        return
    services = app.extensions["rendezvous"]
    threading.Thread(
        target=_rebuild_here, args=(services, rebuild_id), name=f"rebuild-{rebuild_id}",
        daemon=True,
    ).start()  # fmt: skip


def _rebuild_here(services: Services, rebuild_id: int) -> None:
    try:
        carry_out(services, rebuild_id)
    except Exception:  # the database went away: the row goes stale, and says so
        ops_log.exception("rebuild #%d could not be carried out", rebuild_id)
