"""The templates' _() and ngettext() (app/web/i18n.py): the catalog's text fills with
escaped values in the reader's language, as Jinja's own newstyle gettext would."""

from __future__ import annotations

import pytest
from flask import Flask


@pytest.fixture
def app(sqlite_app: Flask) -> Flask:
    return sqlite_app


def render(app: Flask, source: str, lang: str, **values: object) -> str:
    with app.test_request_context(f"/?lang={lang}"):
        return app.jinja_env.from_string(source).render(**values)


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("en", "with Dr &lt;b&gt;Evil&lt;/b&gt;"), ("fr", "avec Dr &lt;b&gt;Evil&lt;/b&gt;")],
)
def test_a_value_is_escaped_where_it_fills_the_sentence(app, lang, expected):
    shown = render(app, '{{ _("with %(doctor)s", doctor=name) }}', lang, name="Dr <b>Evil</b>")
    assert shown == expected


def test_the_catalog_s_own_markup_stays_markup_and_plurals_follow_each_language(app):
    source = '{{ ngettext("%(num)d appointment", "%(num)d appointments", n) }}'
    assert [render(app, source, "en", n=n) for n in (0, 1, 2)] == [
        "0 appointments",
        "1 appointment",
        "2 appointments",
    ]
    # French: 0 and 1 are singular.
    assert [render(app, source, "fr", n=n) for n in (0, 1, 2)] == [
        "0 rendez-vous",
        "1 rendez-vous",
        "2 rendez-vous",
    ]
    failing = (
        '{{ ngettext("<strong>Failing on</strong> %(event)s at position %(position)s, after'
        ' %(num)d attempt:", "<strong>Failing on</strong> %(event)s at position %(position)s,'
        ' after %(num)d attempts:", 2, event=kind, position=7) }}'
    )
    assert render(app, failing, "fr", kind="<X>").startswith(
        "<strong>En échec sur</strong> &lt;X&gt; en position 7, après 2 tentatives"
    )


def test_a_literal_percent_is_written_once_with_or_without_values(app):
    # In a template, as with Jinja's newstyle gettext, a literal % is always written %%.
    assert render(app, '{{ _("Full at 100 %%") }}', "en") == "Full at 100 %"
    shown = render(app, '{{ _("%(label)s %(value)s %%", label="Hit rate", value="97") }}', "en")
    assert shown == "Hit rate 97 %"
