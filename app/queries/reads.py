"""The read repositories behind the busiest pages, through the read cache when there is one:
an appointment's detail and its timeline, a doctor's agenda (by day and by week), and the
day's counters.

Each call is timed (rendezvous_query_duration_seconds, cache included), and the cache
counts its hits and misses per repository. Without a cache (no REDIS_URL), the same calls
read the read model directly.
"""

from __future__ import annotations

import hashlib
import types
import typing
from dataclasses import fields
from datetime import date, datetime, tzinfo
from enum import Enum
from functools import cache
from typing import Any
from uuid import UUID

import orjson
from sqlalchemy.engine import Engine

from app.domain.appointment import Status
from app.metrics import timed

from . import agenda
from . import appointments as q
from . import timeline as tl
from .appointments import AppointmentRow
from .cache import ReadCache
from .history import Change, HistoryEntry

# The cached rows' fields: entries written by code whose rows have other fields are kept
# apart (ReadCache.shape), so a deploy that adds one never decodes an old entry.
SHAPE = hashlib.sha1(
    ",".join(
        field.name for cls in (AppointmentRow, HistoryEntry, Change) for field in fields(cls)
    ).encode(),
    usedforsecurity=False,
).hexdigest()[:8]


class Reads:
    """Cached read repositories; without a cache (`cache` None, until `use_cache`), they
    read the database every time."""

    def __init__(self, engine: Engine, tz: tzinfo) -> None:
        self.engine, self.tz = engine, tz
        self.cache: ReadCache | None = None

    @timed("appointment_detail")
    def appointment_detail(self, appointment_id: UUID) -> AppointmentRow | None:
        return self._through_cache(
            "appointment_detail",
            ("appointment", appointment_id),
            lambda: q.appointment_detail(self.engine, appointment_id),
            orjson.dumps,
            appointment_from_json,
        )

    @timed("appointment_history")
    def appointment_timeline(self, appointment_id: UUID) -> list[HistoryEntry]:
        return self._through_cache(
            "appointment_history",
            ("timeline", appointment_id),
            lambda: tl.appointment_timeline(self.engine, appointment_id),
            orjson.dumps,
            tl.timeline_from_json,
        )

    @timed("agenda_day")
    def agenda_for_day(self, doctor_id: UUID, day: date) -> list[AppointmentRow]:
        return self._through_cache(
            "agenda_day",
            ("agenda", doctor_id, day),
            lambda: agenda.agenda_for_day(self.engine, doctor_id, day, tz=self.tz),
            orjson.dumps,
            lambda raw: [_row(item) for item in orjson.loads(raw)],
        )

    @timed("agenda_week")
    def agenda_for_week(self, doctor_id: UUID, monday: date) -> dict[date, list[AppointmentRow]]:
        return self._through_cache(
            "agenda_week",
            ("week", doctor_id, monday),
            lambda: agenda.agenda_for_week(self.engine, doctor_id, monday, tz=self.tz),
            lambda week: orjson.dumps({day.isoformat(): rows for day, rows in week.items()}),
            lambda raw: {
                date.fromisoformat(day): [_row(item) for item in rows]
                for day, rows in orjson.loads(raw).items()
            },
        )

    @timed("day_counts")
    def day_counts(self, day: date, *, doctor_id: UUID | None = None) -> dict[Status, int]:
        return self._through_cache(
            "day_counts",
            ("today", day, doctor_id),
            lambda: q.day_counts(self.engine, day, doctor_id=doctor_id, tz=self.tz),
            lambda counts: orjson.dumps({status.value: n for status, n in counts.items()}),
            lambda raw: {Status(status): n for status, n in orjson.loads(raw).items()},
        )

    def _through_cache(
        self,
        repository: str,
        entry: tuple[Any, ...],
        load: typing.Callable[[], Any],
        encode: typing.Callable[[Any], bytes],
        decode: typing.Callable[[bytes], Any],
    ) -> Any:
        if self.cache is None:
            return load()
        return self.cache.fetch(repository, self.cache.key(*entry), load, encode, decode)


def appointment_from_json(raw: bytes) -> AppointmentRow:
    """An appointment row as cached (orjson's encoding of the dataclass)."""
    return _row(orjson.loads(raw))


# -- rows back from JSON: each field through its declared type --


def _row(values: dict[str, Any]) -> AppointmentRow:
    readers = _readers(AppointmentRow)
    return AppointmentRow(**{name: read(values[name]) for name, read in readers.items()})


@cache
def _readers(cls: type) -> dict[str, typing.Callable[[Any], Any]]:
    hints = typing.get_type_hints(cls)
    return {field.name: _reader(hints[field.name]) for field in fields(cls)}


def _reader(kind: Any) -> typing.Callable[[Any], Any]:
    """How to turn orjson's output back into a value of type `kind`."""
    if isinstance(kind, types.UnionType) or typing.get_origin(kind) is typing.Union:
        (inner,) = [arg for arg in typing.get_args(kind) if arg is not type(None)]
        read = _reader(inner)
        return lambda value: None if value is None else read(value)
    if kind is datetime:
        return datetime.fromisoformat
    if kind is date:
        return date.fromisoformat
    if kind is UUID or (isinstance(kind, type) and issubclass(kind, Enum)):
        return kind
    return lambda value: value
