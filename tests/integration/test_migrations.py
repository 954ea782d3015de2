"""Migrations build the schema the code expects, on PostgreSQL and on SQLite."""

from __future__ import annotations

import flask_migrate
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app.eventstore.tables import metadata
from app.extensions import db
from app.projections.tables import metadata as read_metadata


@pytest.fixture(params=["sqlite_app", "pg_app"])
def migrated_app(request):
    return request.getfixturevalue(request.param)


def _differences(conn, target):  # type: ignore[no-untyped-def]
    """compare_metadata for one side, ignoring the other side's tables in the same database
    and indexes made for the other kind of database."""
    dialect = conn.dialect.name

    def include(obj, name, type_, reflected, compare_to):  # type: ignore[no-untyped-def]
        if type_ == "table":
            return name in target.tables
        if type_ == "index" and not reflected and obj._ddl_if is not None:
            return obj._ddl_if.dialect == dialect
        return True

    context = MigrationContext.configure(conn, opts={"include_object": include})
    return compare_metadata(context, target)


def test_the_models_and_the_migrations_agree(migrated_app):
    with migrated_app.app_context(), db.engine.connect() as conn:
        assert _differences(conn, metadata) == []
        assert _differences(conn, read_metadata) == []


def test_downgrade_to_empty_and_upgrade_again(sqlite_app):
    with sqlite_app.app_context():
        flask_migrate.downgrade(revision="base")
        assert set(sa.inspect(db.engine).get_table_names()) == {
            "alembic_version",
            "alembic_version_read",
        }
        flask_migrate.upgrade()
        assert {"events", "reservations", "processed_commands", "rm_appointments"} <= set(
            sa.inspect(db.engine).get_table_names()
        )


def test_postgres_refuses_overlapping_reservations_by_constraint(pg_engine):
    with pg_engine.connect() as conn:
        constraint = conn.execute(
            sa.text(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conname = 'reservations_no_overlap'"
            )
        ).scalar_one()
    # compare_metadata cannot see exclusion constraints, so check the definition itself.
    assert (
        constraint == "EXCLUDE USING gist (doctor_id WITH =, tstzrange(starts_at, ends_at) WITH &&)"
    )
