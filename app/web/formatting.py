"""How pages show dates and times: in the clinic's time zone, in the active language's
formats (app/web/i18n.py)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import Flask

from app.domain.availability import Absence
from app.extensions import services

from . import i18n
from .forms.fields import INPUT_FORMAT, clinic_today  # what the forms read back


def _local(moment: datetime) -> datetime:
    return moment.astimezone(services().tz)


def moment(value: datetime | None) -> str:
    return i18n.moment_text(_local(value)) if value else ""


def short_moment(value: datetime | None) -> str:
    return i18n.moment_text(_local(value), "short_moment") if value else ""


def clock(value: datetime | None) -> str:
    return i18n.clock_text(_local(value)) if value else ""


def clock_seconds(value: datetime | None) -> str:
    return i18n.clock_text(_local(value), seconds=True) if value else ""


def day(value: date | datetime | None, pattern: str = "day") -> str:
    """A day in the active language; `pattern` names one of i18n.PATTERNS."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = _local(value).date()
    return i18n.day_text(value, pattern)


def short_day(value: date | datetime | None) -> str:
    return day(value, "short_day")


def long_day(value: date | datetime | None) -> str:
    """'lundi 7 décembre', 'Monday 7 December'."""
    return day(value, "long_day")


def upper_first(text: str) -> str:
    """A capital on the first letter only, for text that starts a heading ("Lundi 7
    décembre"); Jinja's `capitalize` would lower-case the month of an English day."""
    return text[:1].upper() + text[1:]


def input_moment(value: datetime | None) -> str:
    """A moment as the local `YYYY-MM-DDTHH:MM` that forms send back."""
    return _local(value).strftime(INPUT_FORMAT) if value else ""


def spans(periods: list[tuple[datetime, datetime]]) -> str:
    """Periods of a day as the clinic's clock reads them: "09:00-12:00, 14:00-18:00"."""
    return ", ".join(f"{clock(start)}-{clock(end)}" for start, end in periods)


def clock_spans(periods: tuple[tuple[str, str], ...]) -> str:
    """Periods written on the wall clock: "09:00-12:00, 14:00-16:00"."""
    return ", ".join(f"{start}-{end}" for start, end in periods)


def absence_span(absence: Absence) -> str:
    """ "from Monday 14 to Friday 18 December", in the reader's language."""
    return i18n.render(absence.span_words(services().tz))


def iso_moment(value: str) -> datetime:
    """A moment kept as ISO text in a read model (a series' planned visit)."""
    return datetime.fromisoformat(value)


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
        "long_day": long_day,
        "upper_first": upper_first,
        "input_moment": input_moment,
        "iso_moment": iso_moment,
        "minutes": minutes,
        "spans": spans,
        "absence_span": absence_span,
        "clock_spans": clock_spans,
        # A domain message (a refusal, why an appointment needs a new time), in the
        # reader's language.
        "said": i18n.render,
    }.items():
        app.jinja_env.filters[name] = fn
