"""The unit layer needs no services: it passes with the database and cache drivers and the
task queue unimportable, in a process of its own (in `make test` everything shares one)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
THIS = f"{Path(__file__).relative_to(ROOT)}::test_the_unit_tests_pass_without_any_service"


def test_the_unit_tests_pass_without_any_service():
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/unit",
            "--deselect",
            THIS,
            "-p",
            "tests.unit.without_services",
            "-p",
            "no:xdist",
            "-p",
            "no:cacheprovider",
            "-q",
            "--no-header",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert " passed" in run.stdout and "deselected" in run.stdout
