"""PostgreSQL helpers for the benchmarks: URLs, scratch databases, truncation.

Database URLs are given in SQLAlchemy form (``postgresql+psycopg://user@host:port/db``), as the
app takes them; psycopg gets the same URL with the driver suffix removed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL, make_url

MAINTENANCE_DB = "postgres"


def sqlalchemy_url(url: str, *, database: str | None = None) -> str:
    """`url` as a SQLAlchemy URL for psycopg 3, optionally pointing at another database."""
    parsed = make_url(url).set(drivername="postgresql+psycopg")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


def conninfo(url: str, *, database: str | None = None) -> str:
    """`url` as a libpq URI that psycopg.connect() accepts."""
    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


def parts(url: str) -> URL:
    """The parsed URL (host, port, user, password, database)."""
    return make_url(url)


def database_name(url: str) -> str:
    name = make_url(url).database
    if not name:
        raise ValueError(f"no database name in {url!r}")
    return name


def recreate_database(url: str, *, extensions: Iterable[str] = ()) -> None:
    """Drop the database named in `url` if it exists, create it empty, add `extensions`.

    Only scratch databases are touched: the name must contain "bench", so a mistyped URL
    cannot drop real data.
    """
    drop_database(url)
    name = database_name(url)
    with psycopg.connect(conninfo(url, database=MAINTENANCE_DB), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    if extensions:
        with psycopg.connect(conninfo(url), autocommit=True) as conn:
            for extension in extensions:
                conn.execute(
                    sql.SQL("CREATE EXTENSION IF NOT EXISTS {}").format(sql.Identifier(extension))
                )


def clone_database(source_url: str, url: str) -> None:
    """Make the database named in `url` a fresh copy of `source_url`'s (which nobody may be
    connected to meanwhile). The same "bench" guard as `recreate_database` applies."""
    drop_database(url)
    name = database_name(url)
    with psycopg.connect(conninfo(url, database=MAINTENANCE_DB), autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(database_name(source_url))
            )
        )


def drop_database(url: str) -> None:
    """Drop a scratch database (its name must contain "bench")."""
    name = database_name(url)
    if "bench" not in name:
        raise ValueError(f"refusing to drop {name!r}: scratch database names contain 'bench'")
    with psycopg.connect(conninfo(url, database=MAINTENANCE_DB), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def truncate(url: str, tables: Iterable[str]) -> None:
    """Empty `tables` (and restart their identities) in one statement."""
    names = sql.SQL(", ").join(sql.Identifier(table) for table in tables)
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        conn.execute(sql.SQL("TRUNCATE {} RESTART IDENTITY").format(names))


def tables(url: str, *, leave: Iterable[str] = ()) -> list[str]:
    """The tables of the database's public schema, but `leave`."""
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
        ).fetchall()
    return [name for (name,) in rows if name not in set(leave)]


def count_rows(url: str, table: str) -> int:
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        row = conn.execute(
            sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
        ).fetchone()
    assert row is not None
    return int(row[0])


def checkpoint(url: str) -> None:
    """Flush dirty buffers now, so a checkpoint is less likely to land inside a timed run.

    Needs superuser (or pg_checkpoint on PostgreSQL 15+); skipped quietly otherwise.
    """
    with (
        psycopg.connect(conninfo(url), autocommit=True) as conn,
        contextlib.suppress(psycopg.errors.InsufficientPrivilege),
    ):
        conn.execute("CHECKPOINT")


def server_settings(url: str, names: Iterable[str]) -> dict[str, str]:
    """SHOW each setting, for the report header."""
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        found: dict[str, str] = {}
        for name in names:
            row = conn.execute(sql.SQL("SHOW {}").format(sql.Identifier(name))).fetchone()
            found[name] = str(row[0]) if row else "?"
        return found
