"""How pages show dates and times: in the clinic's time zone, in formats set here only."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

from flask import Flask

from app.domain.errors import ValidationError
from app.extensions import services
from app.queries.slots import local_moment

T = TypeVar("T")

DAY_FORMAT = "%a %d %b %Y"  # Mon 11 Jan 2027
SHORT_DAY_FORMAT = "%a %d %b"  # Mon 11 Jan
CLOCK_FORMAT = "%H:%M"  # 09:30
SECONDS_FORMAT = "%H:%M:%S"  # 10:42:05
MOMENT_FORMAT = f"{DAY_FORMAT}, {CLOCK_FORMAT}"
SHORT_MOMENT_FORMAT = f"{SHORT_DAY_FORMAT}, {CLOCK_FORMAT}"
# What <input type="datetime-local"> and the booking form's `starts_at` carry.
INPUT_FORMAT = "%Y-%m-%dT%H:%M"


def _local(moment: datetime) -> datetime:
    return moment.astimezone(services().tz)


def moment(value: datetime | None) -> str:
    return _local(value).strftime(MOMENT_FORMAT) if value else ""


def short_moment(value: datetime | None) -> str:
    return _local(value).strftime(SHORT_MOMENT_FORMAT) if value else ""


def clock(value: datetime | None) -> str:
    return _local(value).strftime(CLOCK_FORMAT) if value else ""


def clock_seconds(value: datetime | None) -> str:
    return _local(value).strftime(SECONDS_FORMAT) if value else ""


def day(value: date | datetime | None, fmt: str = DAY_FORMAT) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = _local(value).date()
    return value.strftime(fmt)


def short_day(value: date | datetime | None) -> str:
    return day(value, SHORT_DAY_FORMAT)


def input_moment(value: datetime | None) -> str:
    """A moment as the local `YYYY-MM-DDTHH:MM` that forms send back."""
    return _local(value).strftime(INPUT_FORMAT) if value else ""


def minutes(value: timedelta) -> int:
    return int(value.total_seconds() // 60)


def today() -> date:
    return _local(services().bus.clock()).date()


def now() -> datetime:
    return services().bus.clock()


def parse_local(text: str | None, field: str = "starts_at") -> datetime:
    """A clinic-local `YYYY-MM-DDTHH:MM` as an aware moment; clear messages otherwise."""
    text = (text or "").strip()
    if not text:
        raise ValidationError({field: "Choose a time."})
    try:
        naive = datetime.strptime(text[:16], INPUT_FORMAT)
    except ValueError:
        raise ValidationError(
            {field: f"{text[:40]!r} is not a date and time (YYYY-MM-DDTHH:MM)."}
        ) from None
    if not FIRST_DAY <= naive.date() <= LAST_DAY:
        # Converting year 1 to UTC would overflow; no clinic books that far anyway.
        raise ValidationError({field: "Choose a date between the years 1900 and 2999."})
    found = local_moment(naive.date(), naive.strftime(CLOCK_FORMAT), services().tz)
    if found is None:
        raise ValidationError(
            {field: "That time does not exist on that day: the clocks go forward."}
        )
    return found


def with_local_time(command: Callable[..., T], **fields: Any) -> T:
    """Build `command` with its `starts_at` given as clinic-local form text, reporting a bad
    time together with every other field's message."""
    if "starts_at" not in fields:
        return command(**fields)
    errors: dict[str, str] = {}
    try:
        fields["starts_at"] = parse_local(fields["starts_at"])
    except ValidationError as exc:
        errors.update(exc.errors)
        fields["starts_at"] = datetime.now(UTC)  # a stand-in, so the rest gets checked
    try:
        built = command(**fields)
    except ValidationError as exc:
        raise ValidationError({**exc.errors, **errors}) from None
    if errors:
        raise ValidationError(errors)
    return built


# The days a page may be asked to show: pages also reach the day before and the week after,
# which would overflow at the calendar's ends (year 1, year 9999).
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)


def parse_day(text: str | None) -> date | None:
    """A `YYYY-MM-DD` from a query string, or None when absent, malformed or out of range."""
    try:
        day = date.fromisoformat((text or "").strip()) if text else None
    except ValueError:
        return None
    return day if day is not None and FIRST_DAY <= day <= LAST_DAY else None


def init_app(app: Flask) -> None:
    for name, fn in {
        "moment": moment,
        "short_moment": short_moment,
        "clock": clock,
        "clock_seconds": clock_seconds,
        "day": day,
        "short_day": short_day,
        "input_moment": input_moment,
        "minutes": minutes,
    }.items():
        app.jinja_env.filters[name] = fn
