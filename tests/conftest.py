"""What every layer shares: a controllable clock, the clinic's zone, the property tests'
profile, and the check that integration and end-to-end runs have their services.

Standard library, pytest and hypothesis only: `pytest tests/unit` must run without
PostgreSQL, Redis or their drivers. Those live in tests/backends.py, imported by
tests/integration and tests/e2e; a run of tests/unit alone refuses to import them
(tests/unit/without_services.py).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import settings

CLINIC_TZ = ZoneInfo("Europe/Paris")
UNIT = Path(__file__).parent / "unit"

# The property tests (tests/integration/test_bad_input.py) draw random examples at a desk,
# which keeps finding new inputs; CI (.ci/run sets HYPOTHESIS_PROFILE=ci) derives them from
# each test's name, so that the run that decides whether a change lands is repeatable.
settings.register_profile("ci", derandomize=True, database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

# Pages in English unless a test asks for French: a clinic in Europe/Paris reads French by
# default (app/config.py), and most tests read English text. Set in the environment so that
# the servers and workers the tests start inherit it.
os.environ.setdefault("CLINIC_LOCALE", "en")


def _only_unit(config: pytest.Config) -> bool:
    """Whether every path this run was given is under tests/unit."""
    paths = [Path(str(arg).split("::")[0]).resolve() for arg in config.args]
    return bool(paths) and all(path.is_relative_to(UNIT) for path in paths)


def pytest_configure(config: pytest.Config) -> None:
    if _only_unit(config):
        from .unit import without_services

        if not config.pluginmanager.is_registered(without_services):  # already given by -p
            config.pluginmanager.register(without_services, "without_services")


def pytest_sessionstart(session: pytest.Session) -> None:
    if hasattr(session.config, "workerinput"):
        return  # the xdist controller already checked
    if not _only_unit(session.config):
        from .backends import check_services

        check_services()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        path = str(item.fspath)
        if "tests/integration" in path:
            item.add_marker(pytest.mark.integration)
        elif "tests/e2e" in path:
            item.add_marker(pytest.mark.e2e)


class Clock:
    """A clock tests move by hand; handlers read it through `clock()`."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    def set_local(self, text: str) -> datetime:
        """Jump to a local clinic time, e.g. '2027-01-11 08:00'."""
        self.now = datetime.fromisoformat(text).replace(tzinfo=CLINIC_TZ).astimezone(UTC)
        return self.now


@pytest.fixture
def clock() -> Clock:
    # Monday 11 January 2027, 08:00 in the clinic.
    return Clock(datetime(2027, 1, 11, 7, 0, tzinfo=UTC))
