"""The clinic's language and phone region come from the environment, with defaults a
French clinic needs no setting for, and a sentence naming the variable when one is wrong."""

from __future__ import annotations

import pytest

from app.config import ConfigurationError, Settings


@pytest.mark.parametrize(
    ("timezone", "language"),
    [
        ("Europe/Paris", "fr"),
        ("Indian/Reunion", "fr"),  # overseas departments read French too
        ("America/Guadeloupe", "fr"),
        ("Europe/London", "en"),
        ("America/Montreal", "en"),  # Quebec's clinics set CLINIC_LOCALE=fr themselves
    ],
)
def test_the_clinic_reads_french_by_default_in_a_french_time_zone(timezone, language):
    assert Settings.from_env({"CLINIC_TIMEZONE": timezone}).clinic_locale == language


def test_clinic_locale_overrides_the_time_zones_default():
    settings = Settings.from_env({"CLINIC_TIMEZONE": "Europe/Paris", "CLINIC_LOCALE": "EN"})
    assert settings.clinic_locale == "en"
    assert settings.flask_config("/tmp")["CLINIC_LOCALE"] == "en"


def test_an_unknown_language_stops_the_app_with_a_sentence_naming_the_variable():
    with pytest.raises(ConfigurationError, match="CLINIC_LOCALE='de' is not a language"):
        Settings.from_env({"CLINIC_LOCALE": "de"})


def test_phone_numbers_are_read_as_french_unless_another_region_is_set():
    assert Settings.from_env({}).flask_config("/tmp")["CLINIC_REGION"] == "FR"
    assert Settings.from_env({"CLINIC_REGION": "be"}).clinic_region == "BE"
    with pytest.raises(ConfigurationError, match="CLINIC_REGION='XX'"):
        Settings.from_env({"CLINIC_REGION": "XX"})
