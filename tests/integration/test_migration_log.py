"""`flask db upgrade`, as `make run` and an operator run it: one line per database, saying
which database it is and where its schema went, instead of every revision twice."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from .workers import ROOT

HEAD = ScriptDirectory(str(ROOT / "migrations")).get_current_head()


def upgrade(write: str, read: str | None = None) -> str:
    """The output (both streams) of `flask db upgrade` on these databases; it must succeed."""
    env = {**os.environ, "DATABASE_URL_WRITE": write, "SECRET_KEY": "test"}
    env.pop("DATABASE_URL_READ", None)
    if read:
        env["DATABASE_URL_READ"] = read
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "db", "upgrade"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    return output


def test_each_database_is_named_once_and_no_revision_is_printed_twice(write_and_read_databases):
    write, read = write_and_read_databases
    # Trust authentication on the test server ignores a password; the log must hide it.
    with_password = make_url(write).set(password="s3cret-pw")
    output = upgrade(with_password.render_as_string(hide_password=False), read)
    assert "s3cret-pw" not in output
    write = with_password.render_as_string(hide_password=True)
    assert output.splitlines() == [
        f"Write database (event store) at {write}: migrated from empty to {HEAD}.",
        f"Read database (read models) at {read}: migrated from empty to {HEAD}.",
    ]
    assert "Running upgrade" not in output and "INFO" not in output

    again = upgrade(with_password.render_as_string(hide_password=False), read)
    assert f"Write database (event store) at {write}: up to date at {HEAD}." in again
    assert f"Read database (read models) at {read}: up to date at {HEAD}." in again


def test_read_models_in_the_write_database_are_said_to_be_there(tmp_path: Path):
    output = upgrade(f"sqlite:///{tmp_path / 'rendezvous.db'}")
    assert output.splitlines()[1] == (
        f"Read database (read models), in the write database: migrated from empty to {HEAD}."
    )
