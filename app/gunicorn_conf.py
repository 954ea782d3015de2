"""gunicorn settings for the web processes, as production runs them:

    rm -rf "$PROMETHEUS_MULTIPROC_DIR" && mkdir -p "$PROMETHEUS_MULTIPROC_DIR"  # whole stack down
    gunicorn -c python:app.gunicorn_conf --bind 0.0.0.0:8000 --workers 4

Each worker records its metrics in files under PROMETHEUS_MULTIPROC_DIR, which /metrics adds
up; the Celery worker writes there too when it shares the environment. Several workers
without that directory would each answer /metrics with their own counts, a different one
at each scrape, so the master refuses to start that way.

It does not empty the directory: a Celery worker on this host may be recording there while
the web restarts, and the counts of processes that have ended are kept on purpose (totals
then never go backwards). Empty it when the whole stack is stopped (docs/operations.md).
"""

from __future__ import annotations

import os
from typing import Any

# The app to serve when the command line names none.
wsgi_app = "app:create_app()"


def metrics_directory_problem(directory: str | None, workers: int) -> tuple[str | None, str | None]:
    """(why gunicorn must not start, what to warn about) for this PROMETHEUS_MULTIPROC_DIR."""
    if not directory:
        if workers > 1:
            return (
                f"PROMETHEUS_MULTIPROC_DIR is not set, and {workers} workers would each "
                "answer /metrics with their own counts. Set it to an empty directory that "
                "the web and Celery processes of this host share (docs/operations.md, Metrics).",
                None,
            )
        return None, (
            "PROMETHEUS_MULTIPROC_DIR is not set: /metrics shows this worker's metrics "
            "only, without the Celery worker's."
        )
    if not os.path.isdir(directory) or not os.access(directory, os.W_OK | os.X_OK):
        return f"PROMETHEUS_MULTIPROC_DIR={directory} is not a writable directory.", None
    # Not this process's own files: importing the app (for this very check) writes one.
    own = f"_{os.getpid()}.db"
    files = [name for name in os.listdir(directory) if name.endswith(".db")]
    left = [name for name in files if not name.endswith(own)]
    if left:
        return None, (
            f"PROMETHEUS_MULTIPROC_DIR={directory} holds {len(left)} metric files from "
            "earlier processes (or a running Celery worker): their counts are included. "
            "Empty it before starting the whole stack to start from zero."
        )
    return None, None


def on_starting(server: Any) -> None:
    """In the master, before any worker starts."""
    fatal, warning = metrics_directory_problem(
        os.environ.get("PROMETHEUS_MULTIPROC_DIR"), server.cfg.workers
    )
    if fatal:
        # gunicorn prints a RuntimeError as "Error: ..." and exits with status 1.
        raise RuntimeError(fatal)
    if warning:
        server.log.warning(warning)
