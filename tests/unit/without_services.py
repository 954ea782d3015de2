"""A pytest plugin that makes the database and cache drivers and the task queue unimportable.

tests/conftest.py registers it whenever a run is given only tests/unit; the guard in
test_unit_layer.py runs tests/unit with it in a subprocess of its own, so that `make test`,
which imports everything in one process, still proves the unit layer needs none of them.
A unit test that reaches one, directly or through an app module, fails at its import with
the message below instead of passing on a machine that happens to have the services.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType

import pytest

# The database and cache drivers, the task queue, the ORM and the web framework: the unit
# layer is the domain, the commands and their handlers, and the web's pure tables (the
# action table's test renders its template with Jinja alone).
UNAVAILABLE = frozenset(
    {
        "psycopg", "psycopg2", "psycopg_binary", "psycopg_c", "redis", "hiredis",
        "celery", "kombu", "sqlalchemy", "flask", "flask_sqlalchemy", "flask_wtf", "wtforms",
        "werkzeug",
    }
)  # fmt: skip


class Refuse:
    """A meta path finder that answers every import of an unavailable package with an error."""

    def find_spec(
        self, name: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if name.partition(".")[0] in UNAVAILABLE:
            raise ImportError(
                f"tests/unit runs without services: {name} may not be imported here. "
                "Make the app module's import of it lazy, or move the test to tests/integration."
            )
        return None


def pytest_configure(config: pytest.Config) -> None:
    loaded = sorted(name for name in sys.modules if name.partition(".")[0] in UNAVAILABLE)
    if loaded:
        raise pytest.UsageError(f"Imported before tests/unit even started: {', '.join(loaded)}")
    sys.meta_path.insert(0, Refuse())
