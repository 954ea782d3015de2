"""What a projection is: a name, a version, its tables, and a handler per event type."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import sqlalchemy as sa

from app.domain.events import Event
from app.eventstore import RecordedEvent

from .view import Key, Tagger, View

Handler = Callable[[View, RecordedEvent], None]
Loads = Callable[[RecordedEvent], Iterable[tuple[sa.Table, Key]]]


def stream_row(*tables: sa.Table) -> Loads:
    """The rows keyed by the event's own stream id (the usual case)."""
    return lambda record: [(table, record.stream_id) for table in tables]


@dataclass
class Projection:
    """A read model's recipe. Bump `version` when the tables or handlers change in a way
    that needs existing rows rebuilt; the projector then waits for `rebuild`."""

    name: str
    version: int
    tables: tuple[sa.Table, ...]
    handlers: dict[str, tuple[Handler, Loads | None]] = field(default_factory=dict)
    # Per table, the cache tags a row feeds (see app.queries.cache): the projector
    # invalidates the tags of every row a batch changes, before and after the change.
    taggers: dict[sa.Table, Tagger] = field(default_factory=dict)

    def on(self, event_type: type[Event], *, loads: Loads | None = None) -> Callable:
        """Register the decorated function as the handler of `event_type`.

        `loads` names the rows the handler will read, so that a batch fetches them all in
        one query per table before any handler runs.
        """

        def register(handler: Handler) -> Handler:
            self.handlers[event_type.__name__] = (handler, loads)
            return handler

        return register

    @property
    def event_types(self) -> list[str]:
        return list(self.handlers)

    def handles(self, record: RecordedEvent) -> bool:
        return record.event_type in self.handlers

    def wanted(self, records: Iterable[RecordedEvent]) -> Iterator[tuple[sa.Table, Key]]:
        for record in records:
            entry = self.handlers.get(record.event_type)
            if entry is not None and entry[1] is not None:
                yield from entry[1](record)

    def apply(self, view: View, record: RecordedEvent) -> None:
        self.handlers[record.event_type][0](view, record)
