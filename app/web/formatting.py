"""How pages show dates and times: in the clinic's time zone, in formats set here only."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import Flask

from app.extensions import services

from .forms.fields import INPUT_FORMAT, clinic_today  # what the forms read back

DAY_FORMAT = "%a %d %b %Y"  # Mon 11 Jan 2027
SHORT_DAY_FORMAT = "%a %d %b"  # Mon 11 Jan
CLOCK_FORMAT = "%H:%M"  # 09:30
SECONDS_FORMAT = "%H:%M:%S"  # 10:42:05
MOMENT_FORMAT = f"{DAY_FORMAT}, {CLOCK_FORMAT}"
SHORT_MOMENT_FORMAT = f"{SHORT_DAY_FORMAT}, {CLOCK_FORMAT}"


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
    return clinic_today()


def now() -> datetime:
    return services().bus.clock()


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
