"""The benchmark scripts run against the app's own modules; nothing else runs them between
benchmark sessions, so a module moved in the app would break them unnoticed. Every name a
script imports from `app`, at the top or inside a function, must exist."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _app_imports() -> list[tuple[str, str, str]]:
    found = []
    for script in sorted(BENCH.glob("*.py")):
        for node in ast.walk(ast.parse(script.read_text(), str(script))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "app":
                found += [(script.name, node.module or "", alias.name) for alias in node.names]
            elif isinstance(node, ast.Import):
                found += [
                    (script.name, alias.name, "")
                    for alias in node.names
                    if alias.name.split(".")[0] == "app"
                ]
    return found


IMPORTS = _app_imports()


def test_the_scripts_import_from_the_app() -> None:
    # A parse that found nothing would make the test below pass vacuously.
    assert len({script for script, _, _ in IMPORTS}) >= 5


@pytest.mark.parametrize(("script", "module", "name"), IMPORTS)
def test_every_name_a_benchmark_imports_from_the_app_exists(
    script: str, module: str, name: str
) -> None:
    loaded = importlib.import_module(module)
    if name and not hasattr(loaded, name):
        # `from app.web import kit` names a submodule, not an attribute, until imported.
        importlib.import_module(f"{module}.{name}")
