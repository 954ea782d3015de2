"""Shared fixtures: a controllable clock, real PostgreSQL and Redis for integration tests.

PostgreSQL tests create and drop their own database on the server at TEST_DATABASE_URL;
Redis tests use their own database number (TEST_REDIS_DB) and queue name. An unreachable
service stops the run with a message naming it and how to start it: nothing is skipped.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest
import redis
from argon2 import PasswordHasher
from hypothesis import settings
from sqlalchemy.engine import make_url

PG_SERVER = os.environ.get(
    "TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
TEST_REDIS_DB = int(os.environ.get("TEST_REDIS_DB", "14"))
CLINIC_TZ = ZoneInfo("Europe/Paris")

# The property tests (tests/integration/test_bad_input.py) draw random examples at a desk,
# which keeps finding new inputs; CI (.ci/run sets HYPOTHESIS_PROFILE=ci) derives them from
# each test's name, so that the run that decides whether a change lands is repeatable.
settings.register_profile("ci", derandomize=True, database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

START_POSTGRES = (
    "start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
)
START_REDIS = (
    'start it with: redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" '
    "--appendonly no"
)


def _libpq(url: str, dbname: str | None = None) -> str:
    """A psycopg connection string from a SQLAlchemy URL."""
    parsed = make_url(url)
    if dbname:
        parsed = parsed.set(database=dbname)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def redis_test_url() -> str:
    return str(make_url(REDIS_URL).set(database=str(TEST_REDIS_DB)))


def _check_services() -> None:
    problems = []
    try:
        psycopg.connect(_libpq(PG_SERVER), connect_timeout=5).close()
    except psycopg.Error as exc:
        problems.append(f"PostgreSQL at {PG_SERVER} is unreachable ({exc}); {START_POSTGRES}")
    try:
        redis.Redis.from_url(redis_test_url(), socket_connect_timeout=5).ping()
    except redis.RedisError as exc:
        problems.append(f"Redis at {REDIS_URL} is unreachable ({exc}); {START_REDIS}")
    if problems:
        pytest.exit("Integration tests need real services:\n  " + "\n  ".join(problems), 3)


def pytest_sessionstart(session: pytest.Session) -> None:
    if hasattr(session.config, "workerinput"):
        return  # the xdist controller already checked
    args = [str(a) for a in session.config.args]
    only_unit = args and all("tests/unit" in a for a in args)
    if not only_unit:
        _check_services()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        path = str(item.fspath)
        if "tests/integration" in path:
            item.add_marker(pytest.mark.integration)
        elif "tests/e2e" in path:
            item.add_marker(pytest.mark.e2e)


class Clock:
    """A clock tests move by hand; handlers read it through `clock()`."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    def set_local(self, text: str) -> datetime:
        """Jump to a local clinic time, e.g. '2027-01-11 08:00'."""
        self.now = datetime.fromisoformat(text).replace(tzinfo=CLINIC_TZ).astimezone(UTC)
        return self.now


@pytest.fixture
def clock() -> Clock:
    # Monday 11 January 2027, 08:00 in the clinic.
    return Clock(datetime(2027, 1, 11, 7, 0, tzinfo=UTC))


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


# argon2id at its cheapest: tests sign in hundreds of times; the real settings are the
# library's defaults.
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def make_app(database_url: str, **extra: object):  # type: ignore[no-untyped-def]
    """The app on `database_url`; without a CELERY setting in `extra` it has no broker, so
    it projects in process after each commit (whatever REDIS_URL the shell has). Sign-in
    attempts are counted in memory unless `extra` names a storage, under limits no test
    reaches unless `extra` sets them."""
    from app import create_app
    from app.config import celery_config

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "TESTING": True,
            "SECRET_KEY": "test",
            "CLINIC_TIMEZONE": "Europe/Paris",
            "CELERY": celery_config(None, "rendezvous-test", 5.0),
            "RATELIMIT_STORAGE_URI": "memory://",
            # Every sign-in counts, and the tests sign in hundreds of times a minute; the
            # tests of the limits set their own.
            "LOGIN_LIMIT_PER_ACCOUNT": "100000 per minute",
            "LOGIN_LIMIT_PER_ADDRESS": "100000 per minute",
            "PASSWORD_HASHER": CHEAP_HASHER,
            **extra,
        }
    )


def migrate_to_head(database_url: str) -> None:
    import flask_migrate

    app = make_app(database_url)
    with app.app_context():
        flask_migrate.upgrade()
        from app.extensions import db

        db.engine.dispose()


def dispose(app) -> None:  # type: ignore[no-untyped-def]
    from app.extensions import db

    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def pg_app(pg_url: str):  # type: ignore[no-untyped-def]
    app = make_app(pg_url)
    yield app
    dispose(app)


def truncate_all(engine) -> None:  # type: ignore[no-untyped-def]
    """Empty the write tables and the read models (both live in this database)."""
    from app.eventstore.tables import metadata
    from app.projections.tables import metadata as read_metadata

    tables = [*metadata.sorted_tables, *read_metadata.sorted_tables]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(t.name for t in tables)
            conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY")
        else:
            for table in reversed(tables):
                conn.execute(table.delete())


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
def services(engine, clock: Clock):  # type: ignore[no-untyped-def]
    from app.bootstrap import build_services

    return build_services(engine, clinic_timezone="Europe/Paris", clock=clock)


@pytest.fixture
def pg_services(pg_engine, clock: Clock):  # type: ignore[no-untyped-def]
    from app.bootstrap import build_services

    return build_services(pg_engine, clinic_timezone="Europe/Paris", clock=clock)
