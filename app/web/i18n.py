"""The language of a page, and everything the web says in it: Flask-Babel's catalogs
(app/translations), the domain's messages rendered in the reader's language, and dates,
times and numbers formatted by Babel for that language.

Which language: a signed-in person's own choice (their account's setting), else the
clinic's (CLINIC_LOCALE). A person not signed in (the sign-in page) gets the language their
browser asks for (Accept-Language) or one picked with `?lang=`; such pages say
`Vary: Accept-Language`, and no other page does: a signed-in page does not depend on it.
"""

from __future__ import annotations

from datetime import date, datetime, time
from functools import lru_cache
from typing import Any, Literal

from babel import Locale
from babel.dates import format_date, format_datetime, get_day_names
from babel.numbers import format_decimal
from flask import Flask, Response, current_app, g, has_request_context, request
from flask_babel import Babel, get_locale, get_translations
from flask_login import current_user
from markupsafe import Markup

from app.config import LOCALES
from app.domain.availability import ABSENCE_REASONS, REASON_WORDS
from app.domain.messages import N_, Message, Param

# What each status is called on a badge, a filter or a counter.
STATUS_LABELS = {
    "pending": N_("Pending"),
    "confirmed": N_("Confirmed"),
    "checked_in": N_("Checked in"),
    "completed": N_("Completed"),
    "cancelled": N_("Cancelled"),
    "no_show": N_("No-show"),
}


def status_label(status: Any) -> str:
    """A status (the enum or its code) as staff call it, in the active language."""
    return gettext(STATUS_LABELS[getattr(status, "value", status)])


# The language names as each language writes its own, for the switch in the header.
LANGUAGE_NAMES = {"en": "English", "fr": "Français"}

# Babel patterns per language: days, and a moment in a sentence (a moment in a list is its
# day and its clock: MOMENTS).
# English keeps the zero-padded day the desk has always read ("Thu 03 Dec 2026").
PATTERNS: dict[str, dict[str, str]] = {
    "en": {
        "day": "EEE dd MMM y",
        "short_day": "EEE dd MMM",
        "long_day": "EEEE d MMMM",
        "full_day": "EEEE d MMMM y",
        "date_of_birth": "dd MMM y",
        "full_moment": "EEEE d MMMM y 'at' HH:mm",
    },
    "fr": {
        "day": "EEE d MMM y",
        "short_day": "EEE d MMM",
        "long_day": "EEEE d MMMM",
        "full_day": "EEEE d MMMM y",
        "date_of_birth": "d MMM y",
        "full_moment": "EEEE d MMMM y 'à' HH:mm",
    },
}


def _known(value: str | None) -> str | None:
    """`value` as one of LOCALES ("fr-FR" reads as "fr"), or None."""
    if not value:
        return None
    language = str(value).replace("_", "-").split("-")[0].strip().lower()
    return language if language in LOCALES else None


def select_locale() -> str:
    """The language of the page being answered (Flask-Babel's locale selector)."""
    clinic: str = current_app.config.get("CLINIC_LOCALE") or "en"
    if not has_request_context():
        return clinic
    # A patient's own page: the language they asked for, else the one on their record.
    patient = _known(g.get("patient_locale"))
    if patient:
        return patient
    if current_user.is_authenticated:
        return _known(getattr(current_user, "locale", None)) or clinic
    # Only a page for someone not signed in depends on what the browser asks for.
    g.varies_by_language = True
    asked = _known(request.args.get("lang"))
    if asked:
        return asked
    return request.accept_languages.best_match(LOCALES) or clinic


def locale_code() -> str:
    """The active language, as <html lang> and the patterns name it."""
    if not has_request_context():
        return _known(str(get_locale())) or "en"
    code: str | None = g.get("rendezvous_locale")
    if code is None:
        code = g.rendezvous_locale = _known(str(get_locale())) or "en"
    return code


def _translations() -> Any:
    """The active catalog, looked up once per request: Flask-Babel finds it anew on every
    call, and a list page asks for a few hundred strings (about a sixth of its time)."""
    try:
        return g.rendezvous_translations
    except AttributeError:  # the request's first string
        if not has_request_context():
            return get_translations()
        found = g.rendezvous_translations = get_translations()
        return found
    except RuntimeError:  # no app context at all (a script): Flask-Babel's default catalog
        return get_translations()


def gettext(msgid: str, **values: Any) -> str:
    """Flask-Babel's gettext, on the request's catalog: `%(name)s` filled from `values`."""
    text: str = _translations().gettext(msgid)
    return text % values if values else text


def ngettext(singular: str, plural: str, num: int, **values: Any) -> str:
    """Flask-Babel's ngettext, on the request's catalog; `%(num)d` is the count."""
    values.setdefault("num", num)
    text: str = _translations().ngettext(singular, plural, num)
    return text % values


def _pattern(name: str) -> str:
    return PATTERNS[locale_code()][name]


def _babel_locale() -> Locale:
    return get_locale() or Locale("en")


# A moment is its day and its clock, in both languages ("jeu. 3 déc. 2026, 09:30").
MOMENTS = {"moment": "day", "short_moment": "short_day"}


@lru_cache(maxsize=4096)
def _day(value: date, pattern: str, locale: str) -> str:
    # A page names the same few days on every row: Babel formats each once per process.
    return format_date(value, PATTERNS[locale][pattern], locale=locale)


def day_text(value: date, pattern: str = "day") -> str:
    return _day(value, pattern, locale_code())


def moment_text(value: datetime, pattern: str = "moment") -> str:
    """An aware moment in its own zone (the caller converts to the clinic's)."""
    if pattern in MOMENTS:
        return f"{day_text(value.date(), MOMENTS[pattern])}, {value:%H:%M}"
    return format_datetime(value, _pattern(pattern), tzinfo=value.tzinfo, locale=_babel_locale())


def clock_text(value: datetime | time, seconds: bool = False) -> str:
    """24-hour clock in both languages: the same digits, formatted without Babel."""
    return value.strftime("%H:%M:%S" if seconds else "%H:%M")


def number(value: float | int) -> str:
    """A number with the active language's separators ("1 234,5" in French)."""
    return format_decimal(value, locale=_babel_locale())


_WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def weekday_labels(
    width: Literal["abbreviated", "narrow", "short", "wide"] = "wide",
) -> list[tuple[str, str]]:
    """(key, name) Monday first, as a label starts: ("mon", "Lundi"), or "Lun." for
    width "abbreviated". Babel numbers the days from Monday, as the keys do."""
    names = get_day_names(width, locale=_babel_locale())
    return [(key, names[n][:1].upper() + names[n][1:]) for n, key in enumerate(_WEEKDAY_KEYS)]


def short_weekdays() -> list[tuple[str, str]]:
    return weekday_labels("abbreviated")


def first_week_day() -> int:
    """0 for Monday: the first column of a week in the active language."""
    return _babel_locale().first_week_day


def _param(value: Param) -> Any:
    if isinstance(value, Message):
        return render(value)
    if isinstance(value, datetime):
        return moment_text(value, "full_moment")
    if isinstance(value, date):
        return day_text(value, "full_day")
    if isinstance(value, time):
        return clock_text(value)
    return value


def render(message: Message | str) -> str:
    """A domain message in the active language: its id looked up in the catalog, its
    parameters formatted in that language. Plain text (from older code) passes through."""
    if not isinstance(message, Message):
        return message
    values = {name: _param(value) for name, value in message.params.items()}
    if message.plural is not None and message.count is not None:
        return ngettext(message.msgid, message.plural, message.count, **values)
    return gettext(message.msgid, **values)


# A record that is not there (or that the reader may not see: answered the same).
NO_SUCH = {
    "appointment": N_("There is no appointment with that id."),
    "patient": N_("There is no patient with that id."),
    "doctor": N_("There is no doctor with that id."),
    "series": N_("There is no series with that id."),
    "waitlist": N_("That patient is not on the waitlist."),
    "record": N_("There is no record with that id."),
}


def no_such(noun: str) -> str:
    return gettext(NO_SUCH.get(noun, NO_SUCH["record"]))


def vary_by_language(response: Response) -> Response:
    if g.get("varies_by_language"):
        response.vary.add("Accept-Language")
    return response


def template_gettext(msgid: str, **values: Any) -> Markup:
    """A template's _(): the catalog's text is markup (it may hold <strong>); the values
    are escaped as they fill it. `%%` is a literal % whether or not values are given."""
    # The text is the template's own msgid or its translation in the catalog, both from
    # the repository; only `values` come from data, and `%` escapes them.
    return Markup(_translations().gettext(msgid)) % values  # nosec B704


def template_ngettext(singular: str, plural: str, num: int, **values: Any) -> Markup:
    """A template's ngettext(): as template_gettext, `%(num)d` the count."""
    values.setdefault("num", num)
    return Markup(_translations().ngettext(singular, plural, num)) % values  # nosec B704


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "en")
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "translations")
    Babel(app, locale_selector=select_locale)
    # The templates' _() and ngettext(): Jinja's own (install_gettext_callables, newstyle)
    # wrap each call in three more, a fifth of the detail page's time; these do the same
    # on the request's catalog in one call.
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.globals.update(_=template_gettext, gettext=template_gettext)
    app.jinja_env.globals["ngettext"] = template_ngettext
    app.after_request(vary_by_language)
    app.jinja_env.globals.update(
        locale_code=locale_code,
        LANGUAGE_NAMES=LANGUAGE_NAMES,
        LOCALES=LOCALES,
        say=render,
        status_label=status_label,
        short_weekdays=short_weekdays,
        number=number,
    )


def absence_reasons() -> list[tuple[str, str]]:
    """(key, label) of the reasons an absence may give, as the form lists them."""
    return [(key, render(REASON_WORDS[key])) for key in ABSENCE_REASONS]
