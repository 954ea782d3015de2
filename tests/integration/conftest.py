"""Fixtures for integration tests, defined once: a PostgreSQL database per test worker,
SQLite beside it, the command side on either, the app on PostgreSQL, and a small clinic.

`services` is the command side (bus, store, projector, queries) built on a bare engine
with the test clock; `app_services` is what the app's pages use (with the app's clock,
cache and nudge). A module that needs an app of its own (a broker, other limits)
overrides `app`, and `app_services` follows it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from ..backends import PG_SERVER, _libpq, dispose, make_app, migrate_to_head, truncate_all
from ..clinic import Clinic, open_clinic
from ..conftest import Clock

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
    with psycopg.connect(_libpq(PG_SERVER), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


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
