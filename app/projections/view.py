"""A batch's unit of work over read-model rows: handlers read and change plain dicts, and the
batch is written with a few set-based statements at the end.

Loading every row a batch needs in one query per table, and writing each changed row once
(an appointment booked, confirmed and checked in within one batch is one insert), is what
lets a rebuild run at the speed of bulk SQL rather than of one statement per event.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import tzinfo
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

Key = Any  # the primary key value, or a tuple of them for a composite key
Row = dict[str, Any]


class MissingRowError(LookupError):
    """A handler needed a read-model row that does not exist (the events disagree)."""


class TableStatements:
    """The statements a View runs against one physical table, built once."""

    def __init__(self, table: sa.Table, dialect: str) -> None:
        self.table = table
        self.key_columns = [c.name for c in table.primary_key.columns]
        keys = [table.c[name] for name in self.key_columns]
        wanted = sa.bindparam("keys", expanding=True)
        key_expr = keys[0] if len(keys) == 1 else sa.tuple_(*keys)
        self.select = sa.select(table).where(key_expr.in_(wanted))
        self.delete = sa.delete(table).where(
            *(column == sa.bindparam(f"k_{column.name}") for column in keys)
        )
        insert = (postgresql if dialect == "postgresql" else sqlite).insert(table)
        others = [c.name for c in table.columns if c.name not in self.key_columns]
        if others:
            self.upsert = insert.on_conflict_do_update(
                index_elements=keys, set_={name: insert.excluded[name] for name in others}
            )
        else:
            self.upsert = insert.on_conflict_do_nothing(index_elements=keys)

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
    ) -> None:
        self.conn, self.tz = conn, tz
        self._statements = statements
        self._rows: dict[sa.Table, dict[Key, Row | None]] = defaultdict(dict)
        self._dirty: dict[sa.Table, set[Key]] = defaultdict(set)

    def prefetch(self, wanted: Iterable[tuple[sa.Table, Key]]) -> None:
        """Load, in one query per table, the rows that the coming handlers will ask for."""
        missing: dict[sa.Table, set[Key]] = defaultdict(set)
        for table, key in wanted:
            if key not in self._rows[table]:
                missing[table].add(key)
        for table, keys in missing.items():
            self._load(table, keys)

    def get(self, table: sa.Table, key: Key) -> Row | None:
        """The row with this key, or None."""
        rows = self._rows[table]
        if key not in rows:
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
        self._rows[table][key] = row
        self._dirty[table].add(key)

    def update(self, table: sa.Table, key: Key, **values: Any) -> Row:
        """Change some columns of an existing row."""
        row = self.require(table, key)
        row.update(values)
        self._dirty[table].add(key)
        return row

    def delete(self, table: sa.Table, key: Key) -> None:
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
        self.conn.execute(
            sa.update(physical)
            .where(*(physical.c[name] == value for name, value in match.items()))
            .values(**values)
        )
        for row in self._rows[table].values():
            if row is not None and all(row[name] == value for name, value in match.items()):
                row.update(values)

    def flush(self) -> None:
        """Write every changed row: deletes, then inserts-or-updates, a statement each."""
        for table, keys in self._dirty.items():
            if not keys:
                continue
            statements, rows = self._statements[table], self._rows[table]
            gone = [statements.key_params(key) for key in keys if rows[key] is None]
            kept = [rows[key] for key in keys if rows[key] is not None]
            if gone:
                self.conn.execute(statements.delete, gone)
            if kept:
                self.conn.execute(statements.upsert, kept)
            keys.clear()

    def _load(self, table: sa.Table, keys: set[Key]) -> None:
        statements, rows = self._statements[table], self._rows[table]
        for key in keys:
            rows[key] = None
        found = self.conn.execute(statements.select, {"keys": list(keys)}).mappings()
        for row in found:
            rows[statements.key_of(row)] = dict(row)
