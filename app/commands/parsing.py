"""Coercion of raw command fields (form strings or typed values) with clear messages.

A field's `label` is a catalog msgid ("The patient's name", "patient"), marked with N_
where the command names it; the messages take it as a nested message."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from app.domain.errors import ValidationError
from app.domain.messages import phrase

MIN_YEAR, MAX_YEAR = 1970, 2999


def to_uuid(value: Any, field: str, label: str) -> UUID:
    """A UUID from a UUID or its text form."""
    if isinstance(value, UUID):
        return value
    try:
        return UUID(str(value).strip())
    except (ValueError, AttributeError, TypeError):
        raise ValidationError(
            {field: phrase("That is not a valid %(noun)s id.", noun=phrase(label))}
        ) from None


def to_datetime(value: Any, field: str) -> datetime:
    """A zone-aware datetime from a datetime or ISO 8601 text; naive times are refused."""
    if not isinstance(value, datetime):
        try:
            value = datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise ValidationError(
                {
                    field: phrase(
                        "%(value)s is not a date and time (e.g. 2027-01-14T09:30+01:00).",
                        value=repr(str(value)[:40]),
                    )
                }
            ) from None
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError({field: phrase("The time must include a time zone.")})
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValidationError(
            {field: phrase("%(year)s is not a year the clinic books in.", year=str(value.year))}
        )
    # Arithmetic on an aware datetime is wall-clock arithmetic in its own zone; in UTC a
    # 60-minute visit lasts 60 minutes even on the night the clocks change.
    return value.astimezone(UTC)


def to_date(value: Any, field: str, label: str) -> date | None:
    """A date from a date or YYYY-MM-DD text; empty means none."""
    if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    text = str(value).strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError(
            {field: phrase("%(field)s must be a date (YYYY-MM-DD).", field=phrase(label))}
        ) from None


def to_int(
    value: Any, field: str, label: str, *, low: int = -(2**31), high: int = 2**31 - 1
) -> int:
    """A whole number between `low` and `high`, from an int or its text form."""
    whole = phrase("%(field)s must be a whole number.", field=phrase(label))
    if isinstance(value, bool):
        raise ValidationError({field: whole})
    if not isinstance(value, int):
        try:
            value = int(str(value).strip())
        except ValueError:
            raise ValidationError({field: whole}) from None
    if not low <= value <= high:
        raise ValidationError(
            {
                field: phrase(
                    "%(field)s must be between %(low)s and %(high)s.",
                    field=phrase(label),
                    low=str(low),
                    high=str(high),
                )
            }
        )
    return value


def to_text(value: Any, field: str, label: str) -> str:
    """Text as given (the domain trims and checks lengths)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError({field: phrase("%(field)s must be text.", field=phrase(label))})
    return value


YES = frozenset({"1", "true", "on", "yes"})
NO = frozenset({"", "0", "false", "off", "no"})


def to_flag(value: Any, field: str, label: str) -> bool:
    """Yes or no, from a bool or what a checkbox sends ("1", or nothing)."""
    if isinstance(value, bool):
        return value
    text = "" if value is None else str(value).strip().lower()
    if text in YES or text in NO:
        return text in YES
    raise ValidationError({field: phrase("%(field)s must be yes or no.", field=phrase(label))})


def to_maybe_flag(value: Any, field: str, label: str) -> bool | None:
    """Yes, no, or not said (None, or an empty value: the caller did not ask)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return to_flag(value, field, label)


def to_maybe_uuid(value: Any, field: str, label: str) -> UUID | None:
    """A UUID, or None when none was given."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return to_uuid(value, field, label)
