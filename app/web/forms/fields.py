"""Fields as browsers send them: a kept command id, an id or a day from a query string, a
clinic-local time that the command wants as an aware moment."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from app.domain.clinic_time import local_day, local_moment
from app.domain.errors import ValidationError
from app.domain.messages import Message, phrase

if TYPE_CHECKING:
    from app.bootstrap import Services

T = TypeVar("T")
Fields = Mapping[str, str]

# What <input type="datetime-local"> and the booking form's `starts_at` carry; the pages
# write such values back in the same format (formatting.input_moment).
INPUT_FORMAT = "%Y-%m-%dT%H:%M"

# The days a page may be asked to show: pages also reach the day before and the week after,
# which would overflow at the calendar's ends (year 1, year 9999).
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)


def clinic() -> Services:
    """The running app's services, for the clinic's zone and clock at parse time."""
    # Imported here, not at the top: the forms, and the action table built on them, import
    # without Flask or SQLAlchemy (tests/unit).
    from app.extensions import services

    return services()


def clinic_today() -> date:
    """The clinic-local day now."""
    found = clinic()
    return local_day(found.bus.clock(), found.tz)


def command_id(form: Fields, key: str = "command_id") -> dict[str, Any]:
    """The command id the form was rendered with, as the command's keyword (text, which the
    command coerces); nothing when the form sent none (the command then makes a fresh one)."""
    value = form.get(key)
    return {"command_id": value} if value else {}


def uuid_or_none(value: str | None) -> UUID | None:
    """An id from a query string or a kept form field; None when it is not one."""
    try:
        return UUID((value or "").strip())
    except ValueError:
        return None


def parse_day(text: str | None) -> date | None:
    """A `YYYY-MM-DD` from a query string, or None when absent, malformed or out of range."""
    try:
        day = date.fromisoformat((text or "").strip()) if text else None
    except ValueError:
        return None
    return day if day is not None and FIRST_DAY <= day <= LAST_DAY else None


def parse_local(text: str | None, field: str = "starts_at") -> datetime:
    """A clinic-local `YYYY-MM-DDTHH:MM` as an aware moment; clear messages otherwise."""
    text = (text or "").strip()
    if not text:
        raise ValidationError({field: phrase("Choose a time.")})
    try:
        naive = datetime.strptime(text[:16], INPUT_FORMAT)
    except ValueError:
        raise ValidationError(
            {field: f"{text[:40]!r} is not a date and time (YYYY-MM-DDTHH:MM)."}
        ) from None
    if not FIRST_DAY <= naive.date() <= LAST_DAY:
        # Converting year 1 to UTC would overflow; no clinic books that far anyway.
        raise ValidationError({field: phrase("Choose a date between the years 1900 and 2999.")})
    found = local_moment(naive.date(), naive.time().isoformat("minutes"), clinic().tz)
    if found is None:
        raise ValidationError(
            {field: phrase("That time does not exist on that day: the clocks go forward.")}
        )
    return found


def with_local_time(
    command: Callable[..., T], local: tuple[str, ...] = ("starts_at",), /, **fields: Any
) -> T:
    """Build `command` with its `local` fields (`starts_at`, by default) given as
    clinic-local form text, reporting a bad time together with every other field's
    message."""
    errors: dict[str, Message] = {}
    for name in local:
        if name not in fields:
            continue
        try:
            fields[name] = parse_local(fields[name], name)
        except ValidationError as exc:
            errors.update(exc.said_errors)
            fields[name] = datetime.now(UTC)  # a stand-in, so the rest gets checked
    try:
        built = command(**fields)
    except ValidationError as exc:
        raise ValidationError({**exc.said_errors, **errors}) from None
    if errors:
        raise ValidationError(errors)
    return built
