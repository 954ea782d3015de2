"""Small checks shared by the aggregates, phrased for people at the front desk."""

from __future__ import annotations

from datetime import datetime, tzinfo

from .errors import ValidationError
from .messages import Message, phrase

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def clean_text(
    value: str,
    *,
    field: str,
    label: Message,
    max_length: int,
    required: bool = True,
    plain: bool = False,
) -> str:
    """Strip `value` and check its length; the error names the field as the form shows it
    (`label`, "The patient's name", starts the sentence). `plain` text (a label shown in
    lists and on the agenda) refuses angle brackets: markup there is a mistake or worse."""
    if not isinstance(value, str):
        raise ValidationError({field: phrase("%(field)s must be text.", field=label)})
    cleaned = " ".join(value.split())
    if "\x00" in cleaned or any("\ud800" <= ch <= "\udfff" for ch in cleaned):
        raise ValidationError(
            {field: phrase("%(field)s contains characters that cannot be stored.", field=label)}
        )
    if plain and ("<" in cleaned or ">" in cleaned):
        raise ValidationError({field: phrase("%(field)s cannot contain < or >.", field=label)})
    if required and not cleaned:
        raise ValidationError({field: phrase("%(field)s is required.", field=label)})
    if len(cleaned) > max_length:
        raise ValidationError(
            {
                field: phrase(
                    "%(field)s is too long (%(length)d characters; at most %(most)d).",
                    field=label,
                    length=len(cleaned),
                    most=max_length,
                )
            }
        )
    return cleaned


def require_aware(value: datetime, *, field: str) -> datetime:
    """Refuse a datetime without a time zone: it would be read differently by each reader."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError({field: phrase("The time must include a time zone.")})
    return value


def local_label(moment: datetime, tz: tzinfo) -> str:
    """Render a moment as the clinic reads it, e.g. 'Tuesday 14 January 2027 at 09:30'."""
    local = moment.astimezone(tz)
    return f"{WEEKDAY_NAMES[local.weekday()]} {local.day} {local:%B %Y} at {local:%H:%M}"
