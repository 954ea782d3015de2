"""Celery tasks that run projections, and how a committed command reaches them (the
operations page's tasks, rebuilds and chart samples, are in app.ops.tasks).

With a broker, each commit sends one small task (the nudge) that brings every projection up
to date, and beat sends a catch-up tick every few seconds, one task per projection spread
over the workers, so a nudge lost while the broker was down is made good.
Without one (the embedded default), the same projector runs in process after each commit.
Tasks carry only a projection's name; running one twice is harmless, because the projector
locks the checkpoint and applies each event once.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from celery import Celery, shared_task

from app.commands import CommandResult
from app.extensions import celery, services
from app.projections import Projector
from app.projections.projector import TRANSIENT

log = logging.getLogger(__name__)

NUDGE_EXPIRES = 60  # seconds; a nudge older than this is redundant with the ticks
BROKER_PAUSE = 30.0  # seconds without nudges after one could not be sent


# Projection tasks: acknowledged once done (a worker lost mid-task leaves it to be run
# again, which is safe), retried with backoff while the database is unreachable.
PROJECTION_TASK: dict[str, Any] = {
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
    report = services().projector.settle(name)
    if report.outcome in ("parked", "needs_rebuild"):
        log.warning("Projection %s is %s; see `flask projections status`.", name, report.outcome)
    return {"name": name, "applied": report.applied, "outcome": report.outcome}


@shared_task(name="rendezvous.project_all", **PROJECTION_TASK)
def project_all() -> list[dict[str, Any]]:
    """After a commit: bring every projection up to date in turn. A projection another
    worker holds is passed over (it is being brought up to date already)."""
    return [project(name) for name in services().projector.names]


@shared_task(name="rendezvous.catch_up", acks_late=True)
def catch_up() -> None:
    """Beat's tick: one projection task per projection, spread over the workers."""
    queue = celery()
    for name in services().projector.names:
        queue.send_task(project.name, (name,), expires=NUDGE_EXPIRES)


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
