"""The real PostgreSQL and Redis that integration and end-to-end tests run against, and the
app built on them. Imported by tests/integration and tests/e2e, never by tests/unit.

PostgreSQL tests create and drop their own database on the server at TEST_DATABASE_URL;
Redis tests use their own database number (TEST_REDIS_DB) and queue name. An unreachable
service stops the run with a message naming it and how to start it: nothing is skipped.
"""

from __future__ import annotations

import os

import psycopg
import pytest
import redis
from argon2 import PasswordHasher
from sqlalchemy.engine import make_url

PG_SERVER = os.environ.get(
    "TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
TEST_REDIS_DB = int(os.environ.get("TEST_REDIS_DB", "14"))

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


def check_services() -> None:
    """Stop the whole run, loudly, if PostgreSQL or Redis is not there."""
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
            "PATIENT_LIMIT_PER_ADDRESS": "100000 per minute",
            "PATIENT_LIMIT_PER_LINK": "100000 per minute",
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
