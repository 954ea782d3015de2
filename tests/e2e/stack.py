"""The live stack end-to-end tests drive: a database of its own, a real Celery worker (with
beat) and gunicorn, each in its own process group, on the machine's PostgreSQL and Redis."""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from uuid import uuid4

import psycopg
from sqlalchemy.engine import Engine, make_url

from app.bootstrap import Services
from app.config import celery_config

from ..backends import PG_SERVER, _libpq, dispose, make_app, migrate_to_head, redis_test_url
from ..integration.projecting import everything_projected, wait_until
from ..integration.workers import Gunicorn, Worker, forget_queue
from .clock import CLINIC_ZONE

# A nudge can miss events held back by another test worker's open transaction; beat's tick
# then picks them up within this many seconds.
TICK_SECONDS = 1.0


class StackError(RuntimeError):
    """The live stack did not start."""


@dataclass
class LiveStack:
    """What tests reach for: the server's URL, and the same database and broker in process."""

    url: str
    database_url: str
    queue: str
    services: Services
    server: Gunicorn
    worker: Worker
    # The stack's SECRET_KEY: the tests sign patients' links as the server does.
    secret: str = ""

    @property
    def read_engine(self) -> Engine:
        return self.services.read_engine

    def wait_until_projected(self, timeout: float = 20) -> None:
        """Until the worker has projected every event in the store into every read model."""
        wait_until(
            lambda: everything_projected(self.services.projector),
            timeout=timeout,
            what="the worker to project every event",
        )

    def logs(self, lines: int = 60) -> str:
        """The last lines of the server's and the worker's logs, without beat's idle ticks."""
        return tails([self.server.log, self.worker.log], lines, skip=IDLE_TICK)


# Beat ticks every second; these lines would push anything useful out of a log's tail.
IDLE_TICK = re.compile(r"catch.up|\] received$|'applied': 0,")


def tails(paths: list[Path], lines: int, skip: re.Pattern[str] | None = None) -> str:
    """The last `lines` lines of each log, under its name."""
    parts = []
    for path in paths:
        text = path.read_text(errors="replace") if path.exists() else "(no log)"
        kept = [line for line in text.splitlines() if not (skip and skip.search(line))]
        parts.append(f"--- {path} (last {lines} lines) ---\n" + "\n".join(kept[-lines:]))
    return "\n".join(parts)


@contextmanager
def run_stack(directory: Path, label: str) -> Iterator[LiveStack]:
    """Start a stack on a fresh database and queue; stop it, drop both, at the end."""
    suffix = uuid4().hex[:8]
    name = f"rendezvous_test_{label}_{suffix}_e2e"
    queue = f"rendezvous-e2e-{label}-{suffix}"
    with ExitStack() as cleanup:
        database_url = _create_database(name)
        cleanup.callback(_drop_database, name)
        cleanup.callback(_delete_queue, queue)
        migrate_to_head(database_url)
        env = _environment(database_url, queue)
        # As in production: gunicorn's and the worker's metrics in one directory, which the
        # operations page's sampler (beat, every second here) reads.
        env["PROMETHEUS_MULTIPROC_DIR"] = str(directory / "metrics")
        (directory / "metrics").mkdir(exist_ok=True)
        env["OPS_SAMPLE_SECONDS"] = "1"
        server = Gunicorn(env, directory / "server.log", extra=("--threads", "4"))
        worker = Worker(env, directory / "worker.log", f"e2e-{label}-{suffix}", beat=True)
        cleanup.callback(server.stop)
        cleanup.callback(worker.stop)
        # gunicorn boots while the worker does: Worker.start blocks until "ready.".
        server.start()
        try:
            worker.start()
            server.wait_ready()
        except AssertionError as exc:
            logs = tails([server.log, worker.log], 200)
            raise StackError(f"The e2e stack did not start: {exc}\n{logs}") from None
        # The tests' own commands (clinic.book) in the stack's clinic time zone.
        app = make_app(
            database_url,
            CELERY=celery_config(redis_test_url(), queue, TICK_SECONDS),
            CLINIC_TIMEZONE=CLINIC_ZONE,
            SECRET_KEY=env["SECRET_KEY"],
        )
        cleanup.callback(dispose, app)
        cleanup.callback(app.extensions["celery"].close)
        yield LiveStack(
            server.url,
            database_url,
            queue,
            app.extensions["rendezvous"],
            server,
            worker,
            env["SECRET_KEY"],
        )


def _environment(database_url: str, queue: str) -> dict[str, str]:
    """The operator's environment for both processes, on this stack's database and queue."""
    env = {
        **os.environ,
        "DATABASE_URL_WRITE": database_url,
        "CELERY_BROKER_URL": redis_test_url(),
        "CELERY_QUEUE": queue,
        "CLINIC_TIMEZONE": CLINIC_ZONE,
        "SECRET_KEY": secrets.token_hex(32),
        "PROJECTION_TICK_SECONDS": str(TICK_SECONDS),
        # The read cache on, as in production: the worker invalidates what gunicorn serves.
        "REDIS_URL": redis_test_url(),
        "CACHE_PREFIX": f"e2e-{queue}",
        # Sign-in attempts are counted in Redis too, where every run's accounts share names.
        "LOGIN_LIMIT_PER_ACCOUNT": "1000 per minute",
        "LOGIN_LIMIT_PER_ADDRESS": "1000 per minute",
        # Every test's browser starts from the one sign-in's cookie (conftest.signed_in), so
        # the inactivity limit counts from that sign-in: on a slow machine, a run longer than
        # 30 minutes would send every later test to the sign-in page.
        "SESSION_IDLE_MINUTES": "720",
    }
    # A read database in the shell would point the stack somewhere else.
    env.pop("DATABASE_URL_READ", None)
    return env


def _create_database(name: str) -> str:
    with psycopg.connect(_libpq(PG_SERVER), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return make_url(PG_SERVER).set(database=name).render_as_string(hide_password=False)


def _drop_database(name: str) -> None:
    with psycopg.connect(_libpq(PG_SERVER), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _delete_queue(queue: str) -> None:
    forget_queue(redis_test_url(), queue)
