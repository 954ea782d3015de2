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
from collections.abc import Mapping
from typing import Any

import redis
from celery import Celery, shared_task

from app.commands import CommandResult
from app.extensions import celery, services
from app.projections import Projector
from app.projections.projector import TRANSIENT, RunReport

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
    return _reported(services().projector.settle(name))


@shared_task(name="rendezvous.project_all", **PROJECTION_TASK)
def project_all() -> list[dict[str, Any]]:
    """After a commit: bring every projection up to date, in one pass over the new events
    (see Projector.run_many). A projection another worker holds is passed over (it is
    being brought up to date already)."""
    found = services()
    nudge = found.bus.after_commit
    if isinstance(nudge, Nudge) and nudge.queued is not None:
        # Before the pass, not after: a commit from now on must send a nudge of its own,
        # as this pass may have read the store before it.
        nudge.queued.clear()
    return [_reported(report) for report in found.projector.settle_many()]


def _reported(report: RunReport) -> dict[str, Any]:
    if report.outcome in ("parked", "needs_rebuild"):
        log.warning(
            "Projection %s is %s; see `flask projections status`.", report.name, report.outcome
        )
    return {"name": report.name, "applied": report.applied, "outcome": report.outcome}


@shared_task(name="rendezvous.catch_up", acks_late=True)
def catch_up() -> None:
    """Beat's tick: one projection task per projection, spread over the workers."""
    queue = celery()
    for name in services().projector.names:
        queue.send_task(project.name, (name,), expires=NUDGE_EXPIRES)


class QueuedNudge:
    """A mark, in the broker's Redis, that a nudge is queued which no worker has begun.

    A commit that finds it need send nothing: the pass that nudge starts begins after this
    commit (the worker clears the mark first), so it reads this commit's events too. Under
    load most commits then cost one Redis round trip instead of a publish. The mark lasts
    no longer than the nudge it stands for (NUDGE_EXPIRES). Redis away: send, as before.
    """

    def __init__(self, client: redis.Redis, key: str) -> None:
        self.client, self.key = client, key

    def mark(self) -> bool:
        """Mark a nudge queued; False if one already was (then send none)."""
        try:
            return bool(self.client.set(self.key, b"1", nx=True, ex=NUDGE_EXPIRES))
        except redis.RedisError:
            return True

    def clear(self) -> None:
        try:
            self.client.delete(self.key)
        except redis.RedisError:  # the mark expires on its own
            log.warning("Could not clear the queued-nudge mark %s", self.key, exc_info=True)


class Nudge:
    """What the command bus calls after each commit: send one task that projects everything
    to `celery`, or, without a broker, run the projections here and now. One task, not one
    per projection: publishing is most of what a nudge costs the request.

    A nudge that cannot be sent (the broker is down) is dropped and logged: the command has
    committed, and the catch-up tick makes good. For the next BROKER_PAUSE seconds no nudge
    is tried, so requests do not each wait out a connection timeout while the broker is away.
    """

    def __init__(
        self, projector: Projector, celery: Celery | None, queued: QueuedNudge | None = None
    ) -> None:
        self.projector, self.celery, self.queued = projector, celery, queued
        self._paused_until = 0.0

    def __call__(self, result: CommandResult) -> None:
        if result.position is None or result.replayed:
            return  # nothing new was written
        if self.celery is None:
            self._run_here()
        elif time.monotonic() >= self._paused_until:
            self._send()

    def _run_here(self) -> None:
        try:
            self.projector.settle_many()
        except Exception:  # the command has committed; never fail it here
            log.warning(
                "The projections failed after a command; the next command retries them.",
                exc_info=True,
            )

    def _send(self) -> None:
        assert self.celery is not None
        if self.queued is not None and not self.queued.mark():
            return  # a nudge no worker has begun yet will read this commit
        try:
            self.celery.send_task(project_all.name, expires=NUDGE_EXPIRES, retry=False)
        except Exception:  # the command has committed; never fail it here
            if self.queued is not None:
                self.queued.clear()
            self._paused_until = time.monotonic() + BROKER_PAUSE
            log.warning(
                "Could not send projection tasks (broker unreachable); pausing nudges "
                "for %.0f s, the catch-up tick will bring the projections up to date.",
                BROKER_PAUSE,
                exc_info=True,
            )


def queued_nudge(config: Mapping[str, Any]) -> QueuedNudge | None:
    """The queued-nudge mark, kept in the broker's Redis (or REDIS_URL's, with another
    broker); None without a Redis to keep it in."""
    from app.redis_clients import fail_fast

    broker = config["CELERY"].get("broker_url") or ""
    url = broker if broker.startswith(("redis://", "rediss://")) else config.get("REDIS_URL")
    if not url:
        return None
    queue = config["CELERY"]["task_default_queue"]
    key = f"{config['CACHE_PREFIX']}:nudge-queued:{queue}"
    return QueuedNudge(fail_fast(url, timeout=0.5), key)
