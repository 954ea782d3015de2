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


# Keys are Any: a SQLAlchemy RowMapping is keyed by name or column.
def row_to(cls: type[T], row: Mapping[Any, Any], **convert: Callable[[Any], Any]) -> T:
    """`cls` built from the row's columns of the same names: times in UTC (SQLite hands
    them back naive), other values through `convert` where one is named; a field with a
    default that the row lacks (joined in later, as a doctor's schedule) keeps it."""
    values = {}
    for field in fields(cls):
        if field.default is not MISSING and field.name not in row:
            continue
        value = row[field.name]
        if isinstance(value, datetime):
            value = to_utc(value)
        elif value is not None and field.name in convert:
            value = convert[field.name](value)
        values[field.name] = value
    return cls(**values)
