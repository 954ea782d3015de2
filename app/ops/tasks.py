"""The operations page's Celery tasks: chart samples on beat's tick, and rebuilds asked for
on the page (carried out by a worker or, without a broker, by a thread of the web process).
Their names ("rendezvous.sample_ops", "rendezvous.rebuild") are what beat and the workers
know them by: they stay the same wherever the code sits."""

from __future__ import annotations

import logging
import os
import threading
from typing import TYPE_CHECKING

from celery import shared_task
from flask import current_app

from app.extensions import celery, services
from app.projections.checkpoints import describe

from . import rebuilds, samples

if TYPE_CHECKING:
    from app.bootstrap import Services

log = logging.getLogger("rendezvous.ops")


@shared_task(name="rendezvous.sample_ops", acks_late=True)
def sample_ops() -> None:
    """Beat's tick: record the metrics and projection lag that the operations page charts."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Each pool process would sample its own few counts, and the charts would read
        # the jumps between processes as restarts.
        if not _warned_unsampled.is_set():
            _warned_unsampled.set()
            log.warning(
                "Not sampling the operations page's charts: set "
                "PROMETHEUS_MULTIPROC_DIR for the web and worker processes."
            )
        return
    projector = services().projector
    samples.take(projector, projector.clock())


_warned_unsampled = threading.Event()


# Acknowledged on receipt, unlike the projection tasks: a rebuild outlasting the broker's
# visibility timeout must not be handed to a second worker while the first carries on. A
# worker lost mid-rebuild leaves its row without news, which a new request then overrides.
@shared_task(name="rendezvous.rebuild", acks_late=False)
def rebuild(rebuild_id: int) -> str:
    """Carry out a rebuild asked for on the operations page."""
    return carry_out(services(), rebuild_id)


def carry_out(services: Services, rebuild_id: int) -> str:
    """Rebuild the projection a queued request names, keeping its row up to date; returns
    the final state. A failed rebuild leaves the live tables as they were."""
    engine, clock = services.read_engine, services.projector.clock
    request = rebuilds.claim(engine, rebuild_id, services.store.count(), clock())
    if request is None:
        return "gone"  # already taken, or given up as abandoned
    log.info(
        "rebuild #%d of %s started, asked for by %s",
        rebuild_id,
        request.projection,
        request.requested_by,
    )
    try:
        with rebuilds.ProgressReporter(engine, rebuild_id, clock) as reporter:
            services.maintenance.rebuild(request.projection, progress=reporter.add)
    except Exception as exc:
        log.error(
            "rebuild #%d of %s failed; the live tables are unchanged",
            rebuild_id,
            request.projection,
            exc_info=True,
        )
        rebuilds.fail(engine, rebuild_id, describe(exc), clock())
        return "failed"
    rebuilds.finish(engine, rebuild_id, reporter.done, clock())
    log.info("rebuild #%d of %s done", rebuild_id, request.projection)
    return "done"


def has_broker() -> bool:
    """Whether tasks go to workers; without a broker (the embedded default) this process
    does their work itself."""
    return bool(current_app.config["CELERY"].get("broker_url"))


def start_rebuild(rebuild_id: int) -> None:
    """Hand a queued rebuild to the workers; without a broker (the embedded default), to a
    thread of this web process. Raises if the broker cannot be reached."""
    if has_broker():
        celery().send_task(rebuild.name, (rebuild_id,), retry=False)
        return
    threading.Thread(
        target=_rebuild_here,
        args=(services(), rebuild_id),
        name=f"rebuild-{rebuild_id}",
        daemon=True,
    ).start()


def _rebuild_here(services: Services, rebuild_id: int) -> None:
    try:
        carry_out(services, rebuild_id)
    except Exception:  # the database went away: the row goes stale, and says so
        log.exception("rebuild #%d could not be carried out", rebuild_id)
