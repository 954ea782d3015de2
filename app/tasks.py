"""Celery tasks that run projections, and how a committed command reaches them.

With a broker, each commit sends one small task per projection (the nudge) and beat sends a
catch-up tick every few seconds, so a nudge lost while the broker was down is made good.
Without one (the embedded default), the same projector runs in process after each commit.
Tasks carry only a projection's name; running one twice is harmless, because the projector
locks the checkpoint and applies each event once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from celery import Celery, shared_task
from flask import current_app

from app.commands import CommandResult
from app.projections import Projector
from app.projections.projector import TRANSIENT

log = logging.getLogger(__name__)

NUDGE_EXPIRES = 60  # seconds; a nudge older than this is redundant with the ticks


@shared_task(
    name="rendezvous.project",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT,
    retry_backoff=True,
    retry_backoff_max=30,
    max_retries=8,
)
def project(name: str) -> dict[str, Any]:
    """Bring one projection up to date with the event store."""
    report = current_app.extensions["rendezvous"].projector.run(name)
    if report.outcome in ("parked", "needs_rebuild"):
        log.warning("Projection %s is %s; see `flask projections status`.", name, report.outcome)
    return {"name": name, "applied": report.applied, "outcome": report.outcome}


@shared_task(name="rendezvous.catch_up", acks_late=True)
def catch_up() -> None:
    """Beat's tick: one projection task per projection, spread over the workers."""
    celery = current_app.extensions["celery"]
    for name in current_app.extensions["rendezvous"].projector.names:
        celery.send_task(project.name, (name,), expires=NUDGE_EXPIRES)


def nudge_after_commit(
    projector: Projector, celery: Celery | None
) -> Callable[[CommandResult], None]:
    """What the command bus calls after each commit: send the projection tasks to `celery`,
    or, without a broker, run the projections here and now."""

    def nudge(result: CommandResult) -> None:
        if result.position is None or result.replayed:
            return  # nothing new was written
        for name in projector.names:
            try:
                if celery is None:
                    projector.run(name)
                else:
                    # No publish retries: with the broker down, the request should not hang.
                    celery.send_task(project.name, (name,), expires=NUDGE_EXPIRES, retry=False)
            except Exception:  # the command has committed; never fail it here
                log.warning(
                    "Could not bring projection %s up to date after a command; the next "
                    "run or catch-up tick will.",
                    name,
                    exc_info=True,
                )

    return nudge
