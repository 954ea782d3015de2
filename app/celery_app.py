"""Celery wired the way Flask's documentation recommends: tasks run in the app context."""

from __future__ import annotations

import logging
import os
from typing import Any

from celery import Celery, Task
from celery.signals import (
    task_failure,
    task_retry,
    worker_process_init,
    worker_ready,
)
from flask import Flask

from app.extensions import CELERY
from app.metrics import TASK_FAILURES, registry

log = logging.getLogger(__name__)


def celery_init_app(app: Flask) -> Celery[Any]:
    """Create the Celery app from app.config["CELERY"] and keep it in app.extensions."""

    class FlaskTask(Task):
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            with app.app_context():
                return self.run(*args, **kwargs)

    celery = Celery(app.name, task_cls=FlaskTask)
    celery.config_from_object(app.config["CELERY"])
    celery.set_default()
    app.extensions[CELERY] = celery

    # Imported for their @shared_task decorators: every task registers with this app.
    from app import tasks  # noqa: F401
    from app.ops import tasks as ops_tasks  # noqa: F401
    from app.outbound import tasks as outbound_tasks  # noqa: F401

    @worker_process_init.connect(weak=False)
    def fresh_connections(**_: Any) -> None:
        # A forked pool process must not share its parent's database sockets.
        from app.extensions import db

        with app.app_context():
            for engine in db.engines.values():
                engine.dispose(close=False)

    @worker_ready.connect(weak=False)
    def serve_metrics(sender: Any = None, **_: Any) -> None:
        # Sent once, in the worker's main process. Every app built in this process (tests
        # build many) connects a receiver: only the worker's own app's serves.
        if getattr(sender, "app", None) is celery:
            start_metrics_server(app.config.get("WORKER_METRICS_PORT"))

    # One receiver each, however many apps are built: a failure must be counted once.
    task_failure.connect(count_failure, weak=False, dispatch_uid="rendezvous.task_failure")
    task_retry.connect(count_failure, weak=False, dispatch_uid="rendezvous.task_retry")
    return celery


def count_failure(sender: Any = None, **_: Any) -> None:
    """A task raised: counted whether Celery gives up (task_failure) or will try again
    (task_retry), so a task that keeps failing while the database is away shows at once,
    not only after its last retry, minutes later."""
    TASK_FAILURES.labels(getattr(sender, "name", None) or "unknown").inc()


def start_metrics_server(port: int | None) -> None:
    """Serve the metrics of every process sharing PROMETHEUS_MULTIPROC_DIR on `port`, for a
    worker on a host with no web process to scrape (no port: nothing to do).

    A port that cannot be bound is logged, not fatal: projections matter more than their
    metrics."""
    if not port:
        return
    from prometheus_client import start_http_server

    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        log.warning(
            "WORKER_METRICS_PORT is set without PROMETHEUS_MULTIPROC_DIR: tasks run in pool "
            "processes, so this port shows the main process's metrics only."
        )
    try:
        # Every interface: the point is a scraper on another host. Unauthenticated, like
        # most exporters (counts only, no patient data): firewall it (docs/operations.md).
        start_http_server(port, addr="0.0.0.0", registry=registry())  # nosec B104
    except OSError as exc:
        log.error("Could not serve worker metrics on port %s: %s", port, exc)
        return
    log.info("Serving worker metrics on port %s", port)
