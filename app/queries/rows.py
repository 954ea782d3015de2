"""Read-model rows as the dataclasses pages use."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import MISSING, fields
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from app.domain.clinic_time import to_utc

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

T = TypeVar("T", bound="DataclassInstance")


def _plan(cls: type) -> tuple[tuple[str, bool], ...]:
    """(name, has a default) of each field: `fields()` builds its tuple anew on every call,
    and a page turns a hundred rows into dataclasses."""
    plan: tuple[tuple[str, bool], ...] | None = _PLANS.get(cls)
    if plan is None:
        plan = _PLANS[cls] = tuple(
            (f.name, f.default is not MISSING or f.default_factory is not MISSING)
            for f in fields(cls)
        )
    return plan


_PLANS: dict[type, tuple[tuple[str, bool], ...]] = {}


# Keys are Any: a SQLAlchemy RowMapping is keyed by name or column.
def row_to(cls: type[T], row: Mapping[Any, Any], **convert: Callable[[Any], Any]) -> T:
    """`cls` built from the row's columns of the same names: times in UTC (SQLite hands
    them back naive), other values through `convert` where one is named; a field with a
    default that the row lacks (joined in later, as a doctor's schedule) keeps it."""
    values = {}
    for name, optional in _plan(cls):
        if optional and name not in row:
            continue
        value = row[name]
        if isinstance(value, datetime):
            value = to_utc(value)
        elif value is not None and name in convert:
            value = convert[name](value)
        values[name] = value
    return cls(**values)
