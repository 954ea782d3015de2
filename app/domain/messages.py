"""What the domain says to staff, as message ids with parameters rather than finished text.

The domain speaks no language of its own: a refusal carries a `Message` whose id is the
English sentence with `%(name)s` placeholders, and the web renders it through the active
locale's catalog (app/web/i18n.py), formatting each parameter in that locale. `str()` gives
the English rendering, for logs, the command line and tests of the domain.

`phrase`, `phrase_n` and `N_` (a msgid kept in a table) are the keywords `pybabel extract`
looks for (the Makefile's BABEL_KEYWORDS).
Parameters are text, numbers, other messages (a status's label), or the clinic's local
`datetime` (a full moment), `date` (a day) or `time` (a clock time), formatted by the reader.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Union

Param = Union[str, int, "Message", datetime, date, time]

_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class Message:
    """A sentence for staff: its id (the English text), and the values it names."""

    msgid: str
    params: Mapping[str, Param] = field(default_factory=dict)
    # A plural form: `plural` is used in English when `count` is not 1.
    plural: str | None = None
    count: int | None = None

    def __str__(self) -> str:
        text = self.msgid if self.plural is None or self.count == 1 else self.plural
        values: dict[str, object] = {k: english(v) for k, v in self.params.items()}
        if self.count is not None:
            values.setdefault("num", self.count)
        return text % values if values or "%%" in text else text


def N_(msgid: str) -> str:
    """Marks a msgid kept in a table for the catalog; `phrase` makes it a message later."""
    return msgid


def phrase(msgid: str, **params: Param) -> Message:
    """A message with parameters: `phrase("%(name)s is away.", name=...)`."""
    return Message(msgid, params)


def phrase_n(singular: str, plural: str, count: int, **params: Param) -> Message:
    """A message whose wording depends on `count`, which it names as `%(num)d`."""
    return Message(singular, params, plural, count)


def english(value: Param) -> str | int:
    """A parameter as the English text reads it."""
    if isinstance(value, Message):
        return str(value)
    if isinstance(value, datetime):
        return f"{_day(value)} at {value:%H:%M}"
    if isinstance(value, date):
        return _day(value)
    if isinstance(value, time):
        return f"{value:%H:%M}"
    return value


def _day(value: date) -> str:
    return f"{_WEEKDAYS[value.weekday()]} {value.day} {value:%B %Y}"
