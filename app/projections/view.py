"""A batch's unit of work over read-model rows: handlers read and change plain dicts, and the
batch is written with a few set-based statements at the end.

Loading every row a batch needs in one query per table, and writing each changed row once
(an appointment booked, confirmed and checked in within one batch is one insert), is what
lets a rebuild run at the speed of bulk SQL rather than of one statement per event.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping
from datetime import tzinfo
from typing import Any

import psycopg
import sqlalchemy as sa
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

Key = Any  # the primary key value, or a tuple of them for a composite key
Row = dict[str, Any]
# What a read-model row feeds, for the read cache: ("appointment", id), ("agenda", doctor,
# day)... A projection names its tags per table; see `Projection.taggers`.
Tag = tuple[Hashable, ...]
Tagger = Callable[[Row, tzinfo], Iterable[Tag]]


class MissingRowError(LookupError):
    """A handler needed a read-model row that does not exist (the events disagree)."""


class TableStatements:
    """The statements a View runs against one physical table, built once.

    On PostgreSQL, keys travel as one array parameter and rows as one array per column
    (`unnest`), so a batch of any size is one statement with a handful of parameters; that
    is most of what makes a rebuild fast. SQLite gets plain IN lists and executemany.
    """

    def __init__(self, table: sa.Table, dialect: str) -> None:
        self.table, self.postgres = table, dialect == "postgresql"
        self.key_columns = [c.name for c in table.primary_key.columns]
        self.columns = [c.name for c in table.columns]
        keys = [table.c[name] for name in self.key_columns]
        # SQLite's reads (PostgreSQL's are select_sql, below).
        key_expr = keys[0] if len(keys) == 1 else sa.tuple_(*keys)
        self.select = sa.select(table).where(key_expr.in_(sa.bindparam("keys", expanding=True)))
        self.delete = sa.delete(table).where(
            *(column == sa.bindparam(f"k_{column.name}") for column in keys)
        )
        others = [name for name in self.columns if name not in self.key_columns]
        if self.postgres:
            self.select_sql = _unnest_select(table, self.key_columns)
            self.delete_sql = _unnest_delete(table, self.key_columns)
            self.upsert_sql = _unnest_upsert(table, self.key_columns, others)
            self.json_columns = {c.name for c in table.columns if isinstance(c.type, sa.JSON)}
        else:
            insert = sqlite.insert(table)
            if others:
                self.upsert = insert.on_conflict_do_update(
                    index_elements=keys, set_={name: insert.excluded[name] for name in others}
                )
            else:
                self.upsert = insert.on_conflict_do_nothing(index_elements=keys)

    def write(self, conn: Connection, rows: list[Row]) -> None:
        """Insert or update `rows` (whole rows, distinct keys)."""
        if not self.postgres:
            conn.execute(self.upsert, rows)
            return
        conn.exec_driver_sql(self.upsert_sql, self.arrays(rows))

    def arrays(self, rows: list[Row]) -> dict[str, list[Any]]:
        """Rows as one array per column, the parameters of upsert_sql (PostgreSQL)."""
        arrays = {}
        for n, name in enumerate(self.columns):
            values = [row[name] for row in rows]
            if name in self.json_columns:
                values = [Jsonb(v) if v is not None else None for v in values]
            arrays[f"c{n}"] = values
        return arrays

    def key_arrays(self, keys: Iterable[Key]) -> dict[str, list[Any]]:
        """Keys as one array per key column, the parameters of select_sql and delete_sql."""
        if len(self.key_columns) == 1:
            return {"k0": list(keys)}
        columns = list(zip(*keys, strict=True))
        return {f"k{n}": list(values) for n, values in enumerate(columns)}

    def key_of(self, row: Mapping[str, Any]) -> Key:
        if len(self.key_columns) == 1:
            return row[self.key_columns[0]]
        return tuple(row[name] for name in self.key_columns)

    def key_params(self, key: Key) -> dict[str, Any]:
        values = key if len(self.key_columns) > 1 else (key,)
        return {f"k_{name}": value for name, value in zip(self.key_columns, values, strict=True)}


class View:
    """Read-model rows as one batch of handlers sees and changes them.

    `tables` maps each logical table (what handlers name) to the physical one written:
    itself for the live read models, a shadow copy during a rebuild or a verify.
    """

    def __init__(
        self,
        conn: Connection,
        statements: Mapping[sa.Table, TableStatements],
        tz: tzinfo,
        taggers: Mapping[sa.Table, Tagger] | None = None,
        region: str = "FR",
    ) -> None:
        # The clinic's zone and phone region (CLINIC_REGION): handlers word days and
        # normalise phone numbers with them.
        self.conn, self.tz, self.region = conn, tz, region
        self._statements = statements
        self._pipelined = conn.dialect.name == "postgresql"
        self._rows: dict[sa.Table, dict[Key, Row | None]] = defaultdict(dict)
        self._dirty: dict[sa.Table, set[Key]] = defaultdict(set)
        # With taggers, every change records the tags of the row before and after it: the
        # cache entries the batch makes stale (an appointment moved to another day makes
        # both days' agendas stale).
        self._taggers = taggers or {}
        self.tags: set[Tag] = set()
        # What handlers work out from rows and reuse within the batch (a doctor's schedule):
        # a handler that changes the rows clears its own entries.
        self.memo: dict[Hashable, Any] = {}

    def _tag(self, table: sa.Table, row: Row | None) -> None:
        tagger = self._taggers.get(table)
        if tagger is not None and row is not None:
            self.tags.update(tagger(row, self.tz))

    def prefetch(self, wanted: Iterable[tuple[sa.Table, Key]]) -> None:
        """Load, in one query per table, the rows that the coming handlers will ask for."""
        missing: dict[sa.Table, set[Key]] = defaultdict(set)
        for table, key in wanted:
            if key not in self._rows[table]:
                missing[table].add(key)
        if self._pipelined:
            self._load_pipelined(missing)
            return
        for table, keys in missing.items():
            self._load(table, keys)

    def get(self, table: sa.Table, key: Key) -> Row | None:
        """The row with this key, or None."""
        rows = self._rows[table]
        if key in rows:
            rows[key] = row = rows.pop(key)  # most recently used last: see `trim`
            return row
        self._load(table, {key})
        return rows[key]

    def require(self, table: sa.Table, key: Key) -> Row:
        """The row with this key; its absence means the events disagree with the read model."""
        row = self.get(table, key)
        if row is None:
            raise MissingRowError(f"{table.name} has no row {key}")
        return row

    def put(self, table: sa.Table, row: Row) -> None:
        """Insert or replace a whole row."""
        key = self._statements[table].key_of(row)
        rows = self._rows[table]
        # A row replaced without being read first is a new one (handlers read what they
        # change), so only a loaded row has a "before" to tag.
        self._tag(table, rows.pop(key, None))
        self._tag(table, row)
        rows[key] = row
        self._dirty[table].add(key)

    def update(self, table: sa.Table, key: Key, **values: Any) -> Row:
        """Change some columns of an existing row."""
        row = self.require(table, key)
        self._tag(table, row)
        row.update(values)
        self._tag(table, row)
        self._dirty[table].add(key)
        return row

    def delete(self, table: sa.Table, key: Key) -> None:
        self._tag(table, self._rows[table].get(key))
        self._rows[table][key] = None
        self._dirty[table].add(key)

    def add(self, table: sa.Table, key: Key, column: str, amount: int) -> None:
        """Move a counter; a counter back at zero is deleted, as if never counted."""
        row = self.get(table, key)
        if row is None:
            names = self._statements[table].key_columns
            values = key if len(names) > 1 else (key,)
            row = {**dict(zip(names, values, strict=True)), column: 0}
        row[column] += amount
        if row[column] == 0:
            self.delete(table, key)
        else:
            self.put(table, row)

    def update_where(self, table: sa.Table, match: Mapping[str, Any], **values: Any) -> None:
        """Change every row matching `match` (say, a patient's name on all their visits)."""
        self.flush()
        physical = self._statements[table].table
        where = [physical.c[name] == value for name, value in match.items()]
        if table in self._taggers:
            for found in self.conn.execute(sa.select(physical).where(*where)).mappings():
                self._tag(table, dict(found))
                self._tag(table, {**found, **values})
        self.conn.execute(sa.update(physical).where(*where).values(**values))
        for row in self._rows[table].values():
            if row is not None and all(row[name] == value for name, value in match.items()):
                row.update(values)

    def select(
        self, table: sa.Table, where: Callable[[sa.Table], Iterable[sa.ColumnElement[bool]]]
    ) -> list[Row]:
        """The rows matching `where` (built on the physical table), as the batch sees them:
        written first, so the query finds this batch's own changes, then shared with it."""
        self.flush()
        statements, rows = self._statements[table], self._rows[table]
        physical = statements.table
        found = []
        for found_row in self.conn.execute(sa.select(physical).where(*where(physical))).mappings():
            fresh = dict(found_row)
            key = statements.key_of(fresh)
            row = rows.get(key)
            if row is None:
                row = rows[key] = fresh
            found.append(row)
        return found

    def flush(self) -> None:
        """Write every changed row: deletes, then inserts-or-updates, a statement each (on
        PostgreSQL all sent at once: one round trip for the batch's writes)."""
        if self._pipelined:
            self._flush_pipelined()
            return
        for table, keys in self._dirty.items():
            if not keys:
                continue
            statements, rows = self._statements[table], self._rows[table]
            gone = [statements.key_params(key) for key in keys if rows[key] is None]
            kept = [row for key in keys if (row := rows[key]) is not None]
            if gone:
                self.conn.execute(statements.delete, gone)
            if kept:
                statements.write(self.conn, kept)
            keys.clear()

    def trim(self, most: int) -> None:
        """Keep at most `most` rows per table in memory, writing changes first: a long
        replay's memory stays bounded. The rows used least recently go (for appointments,
        those long finished, which the log does not mention again)."""
        if all(len(rows) <= most for rows in self._rows.values()):
            return
        self.flush()
        for table, rows in self._rows.items():
            if len(rows) > most:
                keep = list(rows.items())[len(rows) - most // 2 :]
                self._rows[table] = dict(keep)

    def _load_pipelined(self, missing: Mapping[sa.Table, set[Key]]) -> None:
        """PostgreSQL's `_load`, for any number of tables: their queries sent together."""
        driver = self._driver()
        queries = []
        with driver.pipeline():
            for table, keys in missing.items():
                statements, rows = self._statements[table], self._rows[table]
                for key in keys:
                    rows[key] = None
                cursor = driver.cursor(row_factory=dict_row)
                cursor.execute(statements.select_sql, statements.key_arrays(keys))
                queries.append((statements, rows, cursor))
        for statements, rows, cursor in queries:
            for row in cursor.fetchall():
                rows[statements.key_of(row)] = row

    def _flush_pipelined(self) -> None:
        driver = self._driver()
        with driver.pipeline(), driver.cursor() as cursor:
            for table, keys in self._dirty.items():
                if not keys:
                    continue
                statements, rows = self._statements[table], self._rows[table]
                gone = [key for key in keys if rows[key] is None]
                kept = [row for key in keys if (row := rows[key]) is not None]
                if gone:
                    cursor.execute(statements.delete_sql, statements.key_arrays(gone))
                if kept:
                    cursor.execute(statements.upsert_sql, statements.arrays(kept))
                keys.clear()

    def _driver(self) -> psycopg.Connection[Any]:
        """The psycopg connection under the batch's, in its transaction."""
        driver = self.conn.connection.driver_connection
        assert isinstance(driver, psycopg.Connection)
        return driver

    def _load(self, table: sa.Table, keys: set[Key]) -> None:
        if self._pipelined:
            self._load_pipelined({table: keys})
            return
        statements, rows = self._statements[table], self._rows[table]
        for key in keys:
            rows[key] = None
        found = self.conn.execute(statements.select, {"keys": list(keys)}).mappings()
        for found_row in found:
            row = dict(found_row)
            rows[statements.key_of(row)] = row


def _array_type(column: sa.Column) -> str:
    # Text without its length: a cast to varchar(n) would cut a long value silently, where
    # the insert into the column refuses it (and the event is parked).
    if isinstance(column.type, sa.String):
        return "text[]"
    return f"{column.type.compile(dialect=postgresql.dialect())}[]"


def _keys_match(table: sa.Table, keys: list[str]) -> str:
    """`key IN the arrays k0, k1...` (PostgreSQL), one array per key column."""
    arrays = ", ".join(f"%(k{n})b::{_array_type(table.c[name])}" for n, name in enumerate(keys))
    names = ", ".join(f'"{name}"' for name in keys)
    return f"({names}) IN (SELECT * FROM unnest({arrays}))"  # nosec B608: identifiers only


def _unnest_select(table: sa.Table, keys: list[str]) -> str:
    names = ", ".join(f'"{c.name}"' for c in table.c)
    # Only identifiers from the app's own table definitions go into this SQL.
    return f'SELECT {names} FROM "{table.name}" WHERE {_keys_match(table, keys)}'  # nosec B608


def _unnest_delete(table: sa.Table, keys: list[str]) -> str:
    return f'DELETE FROM "{table.name}" WHERE {_keys_match(table, keys)}'  # nosec B608


def _unnest_upsert(table: sa.Table, keys: list[str], others: list[str]) -> str:
    arrays = ", ".join(f"%(c{n})b::{_array_type(column)}" for n, column in enumerate(table.c))
    names = ", ".join(f'"{c.name}"' for c in table.c)
    conflict = ", ".join(f'"{name}"' for name in keys)
    updates = ", ".join(f'"{name}" = EXCLUDED."{name}"' for name in others)
    # Only identifiers from the app's own table definitions go into this SQL; the values
    # travel as bound parameters.
    action = " ".join(["DO UPDATE SET", updates]) if others else "DO NOTHING"
    clauses = [
        f'INSERT INTO "{table.name}" ({names})',
        "SELECT * FROM",
        f"unnest({arrays})",
        f"ON CONFLICT ({conflict})",
        action,
    ]
    return " ".join(clauses)
