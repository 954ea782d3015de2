"""Fixtures for integration tests, defined once: a PostgreSQL database per test worker,
SQLite beside it, the command side on either, the app on PostgreSQL, a small clinic, the
front desk, and Redis (a queue, a private server, an app with a broker).

`services` is the command side (bus, store, projector, queries) built on a bare engine
with the test clock; `app_services` is what the app's pages use (with the app's clock,
cache and nudge), and `clocked_app_services` the same on the test clock. A module that
needs an app of its own (a broker, other limits) overrides `app`, and `app_services`
follows it. A `pg_` name is the PostgreSQL-only twin of a fixture that runs on both.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from flask import Flask
from sqlalchemy.engine import Engine, make_url

from app.eventstore import EventStore

from ..backends import (
    PG_SERVER,
    _libpq,
    dispose,
    make_app,
    migrate_to_head,
    redis_test_url,
    truncate_all,
)
from ..clinic import Clinic, open_clinic
from ..conftest import Clock
from .desk import Desk, open_desk
from .webclient import Staff
from .workers import RedisServer, forget_queue, free_port

# -- PostgreSQL --


@pytest.fixture(scope="session")
def pg_url(worker_id: str) -> Iterator[str]:
    """A fresh PostgreSQL database for this test worker, migrated to head, dropped after."""
    name = f"rendezvous_test_{worker_id}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_libpq(PG_SERVER), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = make_url(PG_SERVER).set(database=name).render_as_string(hide_password=False)
    migrate_to_head(url)
    yield url
    _drop(name)


def _drop(*names: str) -> None:
    with psycopg.connect(_libpq(PG_SERVER), autocommit=True) as admin:
        for name in names:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def write_and_read_databases() -> Iterator[tuple[str, str]]:
    """The URLs of two scratch PostgreSQL databases, not migrated, for the write side and
    the read side of one app; dropped after."""
    names = [f"rendezvous_test_{side}_{uuid.uuid4().hex[:8]}" for side in ("write", "read")]
    with psycopg.connect(_libpq(PG_SERVER), autocommit=True) as admin:
        for name in names:
            admin.execute(f'CREATE DATABASE "{name}"')
    try:
        write, read = (
            make_url(PG_SERVER).set(database=name).render_as_string(hide_password=False)
            for name in names
        )
        yield write, read
    finally:
        _drop(*names)


@pytest.fixture(scope="session")
def pg_app(pg_url: str):  # type: ignore[no-untyped-def]
    app = make_app(pg_url)
    yield app
    dispose(app)


@pytest.fixture
def pg_engine(pg_app):  # type: ignore[no-untyped-def]
    from app.extensions import db

    with pg_app.app_context():
        engine = db.engine
    truncate_all(engine)
    return engine


# -- SQLite (the embedded default) --


@pytest.fixture
def sqlite_app(tmp_path: Path):  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'rendezvous.db'}"
    migrate_to_head(url)
    app = make_app(url)
    yield app
    dispose(app)


@pytest.fixture
def sqlite_engine(sqlite_app):  # type: ignore[no-untyped-def]
    from app.extensions import db

    with sqlite_app.app_context():
        return db.engine


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """The same tests on both event store backends."""
    return request.getfixturevalue(
        {"sqlite": "sqlite_engine", "postgresql": "pg_engine"}[request.param]
    )


@pytest.fixture
def store(engine: Engine) -> EventStore:
    """The event store alone, on each backend."""
    return EventStore(engine)


@pytest.fixture
def pg_store(pg_engine: Engine) -> EventStore:
    """The event store alone, on PostgreSQL only (the relay reads it in commit order)."""
    return EventStore(pg_engine)


# -- the command side, without the web --


@pytest.fixture
def services(engine, clock: Clock):  # type: ignore[no-untyped-def]
    """The command side on each backend, on the test clock (tests/unit has it in memory)."""
    from app.bootstrap import build_services

    return build_services(engine, clinic_timezone="Europe/Paris", clock=clock)


@pytest.fixture
def pg_services(pg_engine, clock: Clock):  # type: ignore[no-untyped-def]
    """The command side on PostgreSQL only (races, pipelined saves), on the test clock."""
    from app.bootstrap import build_services

    return build_services(pg_engine, clinic_timezone="Europe/Paris", clock=clock)


@pytest.fixture
def clinic(services) -> Clinic:  # type: ignore[no-untyped-def]
    """A doctor with weekday hours and three patients, registered through `services`."""
    return open_clinic(services.bus)


# -- the app --


@pytest.fixture
def app(pg_app, pg_engine):  # type: ignore[no-untyped-def]
    """The session's app on an emptied database. It lives for the whole session and counts
    refused sign-ins per address (in memory): other tests' refusals must not count here."""
    from app.extensions import sign_in_limiter

    with pg_app.app_context():
        sign_in_limiter(pg_app).reset()
    return pg_app


@pytest.fixture
def app_services(app):  # type: ignore[no-untyped-def]
    """The services of `app` (this module's, if it overrides `app`): what its pages use."""
    from app.extensions import services as services_of

    return services_of(app)


@pytest.fixture
def clocked_app_services(app: Flask, app_services: Any, clock: Clock) -> Iterator[Any]:
    """`app_services` with the bus and projector on the test clock for this test, then
    back on the app's own (the session's app outlives the test)."""
    saved = app_services.bus.clock, app_services.projector.clock
    app_services.bus.clock = app_services.projector.clock = clock
    yield app_services
    app_services.bus.clock, app_services.projector.clock = saved


@pytest.fixture
def admin(app: Flask) -> Staff:
    """An admin signed in on `app`."""
    return Staff(app, "admin")


@pytest.fixture
def desk(app: Flask, clocked_app_services: Any, clock: Clock) -> Desk:
    """The front desk: an admin signed in on the app, on the test clock, and a clinic."""
    return open_desk(app, clock)


# -- Redis --


@pytest.fixture
def broker_queue() -> Iterator[str]:
    """A Celery queue name of this test's own on the test Redis database, forgotten after."""
    name = f"rendezvous-test-{uuid.uuid4().hex[:8]}"
    yield name
    forget_queue(redis_test_url(), name)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A Redis server of this test's own, so that the test can stop it."""
    server = RedisServer(free_port(), tmp_path).start()
    yield server
    server.stop()


@pytest.fixture
def brokered_app(
    pg_url: str, pg_engine: Engine, broker_queue: str
) -> Iterator[Callable[..., Flask]]:
    """brokered_app(tick_seconds, sample_seconds, **settings): a new app on the emptied
    database whose commands nudge `broker_queue` on the test Redis, where only the workers
    a test starts listen (none: the read model lags until the test projects). Closed after."""
    from app.config import celery_config

    made: list[Flask] = []

    def make(tick_seconds: float = 5.0, sample_seconds: float = 15.0, **settings: object) -> Flask:
        config = celery_config(redis_test_url(), broker_queue, tick_seconds, sample_seconds)
        made.append(make_app(pg_url, CELERY=config, **settings))
        return made[-1]

    yield make
    for app in made:
        app.extensions["celery"].close()
        dispose(app)
