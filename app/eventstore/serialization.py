"""Turns domain events into JSON payloads and back, through the upcasters."""

from __future__ import annotations

import typing
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any
from uuid import UUID

from app.domain.clinic_time import to_utc
from app.domain.events import ALL_EVENTS, Event

from .errors import UnknownEventError
from .upcasting import UpcasterRegistry, upcasters


def _encode_value(value: Any) -> Any:
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime):
        return to_utc(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _decoder(hint: Any) -> Callable[[Any], Any]:
    arms = typing.get_args(hint)
    if type(None) in arms and len(arms) == 2:  # X | None: None as stored, else as X
        decode = _decoder(next(arm for arm in arms if arm is not type(None)))
        return lambda raw: None if raw is None else decode(raw)
    if hint is UUID:
        return UUID
    if hint is datetime:
        return lambda raw: to_utc(datetime.fromisoformat(raw))
    if hint is date:
        return date.fromisoformat
    return lambda raw: raw


# By class, worked out once: type hints are slow to resolve, and every event passes here.
_DECODERS: dict[type[Event], tuple[tuple[str, Callable[[Any], Any]], ...]] = {}


def _field_decoders(cls: type[Event]) -> tuple[tuple[str, Callable[[Any], Any]], ...]:
    found = _DECODERS.get(cls)
    if found is None:
        hints = typing.get_type_hints(cls)
        found = tuple((name, _decoder(h)) for name, h in hints.items() if name != "SCHEMA_VERSION")
        _DECODERS[cls] = found
    return found


class EventCodec:
    """Maps event classes to their stored names, payloads and schema versions."""

    def __init__(
        self, classes: Iterable[type[Event]] = ALL_EVENTS, registry: UpcasterRegistry = upcasters
    ) -> None:
        self._classes = {cls.__name__: cls for cls in classes}
        self._upcasters = registry

    def encode(self, event: Event) -> tuple[str, int, dict[str, Any]]:
        """(event type, schema version, JSON payload) for one event."""
        cls = type(event)
        data = {name: _encode_value(getattr(event, name)) for name, _ in _field_decoders(cls)}
        return cls.__name__, cls.SCHEMA_VERSION, data

    def decode(self, event_type: str, schema_version: int, data: dict[str, Any]) -> Event:
        """Rebuild the event in its current shape, upcasting an old payload first."""
        cls = self._classes.get(event_type)
        if cls is None:
            raise UnknownEventError(f"unknown event type {event_type!r}")
        if schema_version != cls.SCHEMA_VERSION:
            data = self._upcasters.upcast(event_type, schema_version, data, cls.SCHEMA_VERSION)
        return cls(**{name: decode(data[name]) for name, decode in _field_decoders(cls)})
