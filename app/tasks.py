"""Celery tasks that run projections, and how a committed command reaches them.

With a broker, each commit sends one small task per projection (the nudge) and beat sends a
catch-up tick every few seconds, so a nudge lost while the broker was down is made good.
Without one (the embedded default), the same projector runs in process after each commit.
Tasks carry only a projection's name; running one twice is harmless, because the projector
locks the checkpoint and applies each event once.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from celery import Celery, shared_task
from flask import current_app

from app.commands import CommandResult
from app.projections import Projector
from app.projections.projector import TRANSIENT

log = logging.getLogger(__name__)

NUDGE_EXPIRES = 60  # seconds; a nudge older than this is redundant with the ticks
HELD_BACK_WAIT = 2.0  # seconds of looking again for held-back events; then the ticks


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
    projector = current_app.extensions["rendezvous"].projector
    report = projector.run(name)
    applied = report.applied
    deadline = time.monotonic() + HELD_BACK_WAIT
    while report.outcome == "held_back" and time.monotonic() < deadline:
        # Events wait for an older transaction, open somewhere on the server, to end:
        # look again shortly rather than leave them to the next tick.
        time.sleep(0.02)
        report = projector.run(name)
        applied += report.applied
    if report.outcome in ("parked", "needs_rebuild"):
        log.warning("Projection %s is %s; see `flask projections status`.", name, report.outcome)
    return {"name": name, "applied": applied, "outcome": report.outcome}


@shared_task(name="rendezvous.catch_up", acks_late=True)
def catch_up() -> None:
    """Beat's tick: one projection task per projection, spread over the workers."""
    celery = current_app.extensions["celery"]
    for name in current_app.extensions["rendezvous"].projector.names:
        celery.send_task(project.name, (name,), expires=NUDGE_EXPIRES)


class Nudge:
    """What the command bus calls after each commit: send one projection task per projection
    to `celery`, or, without a broker, run the projections here and now."""

    def __init__(self, projector: Projector, celery: Celery | None) -> None:
        self.projector, self.celery = projector, celery

    def __call__(self, result: CommandResult) -> None:
        if result.position is None or result.replayed:
            return  # nothing new was written
        for name in self.projector.names:
            try:
                if self.celery is None:
                    self.projector.run(name)
                else:
                    # No publish retries: with the broker down, the request must not hang.
                    self.celery.send_task(project.name, (name,), expires=NUDGE_EXPIRES, retry=False)
            except Exception:  # the command has committed; never fail it here
                log.warning(
                    "Could not bring projection %s up to date after a command; the next "
                    "run or catch-up tick will.",
                    name,
                    exc_info=True,
                )
