"""Alembic environment for two databases: the write side and the read side.

Each revision has an `upgrade_write`/`upgrade_read` pair (and downgrades). Each database
keeps its own version table, so when the read models live in the write database (the
default) both halves still run once each, and with `DATABASE_URL_READ` set each database
gets only its own tables.
"""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

import app.accounts.tables  # noqa: F401  (the users table joins the write metadata)
import app.outbound.tables  # noqa: F401  (and so does the reminders' ledger)
from app.eventstore.tables import metadata as write_metadata
from app.extensions import read_engine
from app.projections.tables import metadata as read_metadata

config = context.config
fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

METADATA = {"write": write_metadata, "read": read_metadata}
VERSION_TABLE = {"write": "alembic_version", "read": "alembic_version_read"}
DATABASE = {"write": "Write database (event store)", "read": "Read database (read models)"}


def engines():
    db = current_app.extensions["migrate"].db
    return {"write": db.engine, "read": read_engine()}


def only_own_tables(name, dialect):
    """Autogenerate compares each database with its own metadata and nothing else: the
    other side's tables, and a projection's shadow tables, are not this side's business."""
    tables = METADATA[name].tables

    def include(obj, obj_name, type_, reflected, compare_to):
        if type_ == "table":
            return obj_name in tables
        if type_ == "index" and not reflected:
            # An index made for one database kind only (trigram search on PostgreSQL).
            condition = obj._ddl_if
            return condition is None or condition.dialect in (None, dialect)
        return True

    return include


def options(name, dialect):
    return {
        "target_metadata": METADATA[name],
        "version_table": VERSION_TABLE[name],
        "include_object": only_own_tables(name, dialect),
        "upgrade_token": f"{name}_upgrades",
        "downgrade_token": f"{name}_downgrades",
    }


def describe(name, engines):
    """Which database a block of migrations is for, for people (no password)."""
    url = engines[name].url
    if name == "read" and url == engines["write"].url:
        return f"{DATABASE[name]}, in the write database"
    return f"{DATABASE[name]} at {url.render_as_string(hide_password=True)}"


def report(name, engines, before, after):
    # Alembic's own per-revision lines are off (alembic.ini): with two databases each
    # revision printed twice, on stderr, and read like an error before the admin password.
    revisions = ", ".join(after) or "empty"
    if before == after:
        logger.info("%s: up to date at %s.", describe(name, engines), revisions)
    else:
        start = ", ".join(before) or "empty"
        logger.info("%s: migrated from %s to %s.", describe(name, engines), start, revisions)


def run_migrations_offline():
    for name, engine in engines().items():
        logger.info("-- %s", DATABASE[name])
        url = engine.url.render_as_string(hide_password=False)
        context.configure(url=url, literal_binds=True, **options(name, engine.dialect.name))
        with context.begin_transaction():
            context.run_migrations(engine_name=name)


def run_migrations_online():
    conf_args = dict(current_app.extensions["migrate"].configure_args)

    def skip_empty(context, revision, directives):
        # No revision file when autogenerate finds nothing to change in either database
        # (asked once per database; decide when both have been compared).
        if getattr(config.cmd_opts, "autogenerate", False):
            script = directives[0]
            compared = script.upgrade_ops_list
            if len(compared) == len(METADATA) and all(ops.is_empty() for ops in compared):
                directives[:] = []
                logger.info("No changes in schema detected.")

    conf_args.setdefault("process_revision_directives", skip_empty)
    named = engines()
    for name, engine in named.items():
        with engine.connect() as connection:
            context.configure(
                connection=connection, **options(name, engine.dialect.name), **conf_args
            )
            migration = context.get_context()
            before = migration.get_current_heads()
            with context.begin_transaction():
                context.run_migrations(engine_name=name)
            report(name, named, before, migration.get_current_heads())


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
