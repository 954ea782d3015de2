"""The "Running the full stack" commands of docs/operations.md, run as pasted into one shell,
on scratch databases: the first admin signs in with the printed password and gets pages that
load htmx.

That block is the only copy of the commands: this test reads it, swaps in scratch
values (databases, Redis database, metrics directory, port) and runs it, all but the demo
data (a minute or more of commands; tests/integration/test_cli.py covers it) and the
worker, beat and relay, which the page does not need.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from ..backends import PG_SERVER, _libpq, redis_test_url
from .test_metrics import Browser
from .workers import ROOT, free_port, stop_group, wait_serving

RUNBOOK = ROOT / "docs" / "operations.md"
SECTION = "## Running the full stack"
PASSWORD = re.compile(r"Sign in at /login as (\S+) with password (\S+)")
HTMX_SCRIPT = re.compile(r'<script src="(/static/vendor/htmx\.min\.js[^"]*)"')
EXPORT = re.compile(r"^export (\w+)=(\S+)")


def runbook_block() -> tuple[list[str], list[str]]:
    """The section's first sh block: its set-up lines, and the long-running ones after the
    blank line."""
    text = RUNBOOK.read_text()
    section = text[text.index(SECTION) :]
    start = section.index("```sh\n") + len("```sh\n")
    block = section[start : section.index("\n```", start)]
    setup, _, running = block.partition("\n\n")
    return setup.splitlines(), running.splitlines()


def database_names(lines: list[str]) -> dict[str, str]:
    """The runbook's database names (from its DATABASE_URL_* exports) and scratch ones."""
    names = {}
    for line in lines:
        if (found := EXPORT.match(line)) and found.group(1).startswith("DATABASE_URL_"):
            name = make_url(found.group(2)).database
            names[name] = f"rendezvous_docs_{uuid.uuid4().hex[:8]}_{len(names)}"
    return names


def scratch(line: str, names: dict[str, str], metrics: Path, port: int) -> str | None:
    """The line with this test's values instead of the runbook's; None to leave it out."""
    server = make_url(PG_SERVER)
    if "seed-demo" in line:
        return None
    if found := EXPORT.match(line):
        variable, value = found.groups()
        if variable.startswith("DATABASE_URL_"):
            database = names[make_url(value).database]
            value = server.set(database=database).render_as_string(hide_password=False)
        elif variable == "REDIS_URL":
            value = redis_test_url()
        elif variable == "PROMETHEUS_MULTIPROC_DIR":
            value = str(metrics)
        else:
            return line  # a secret made on the spot, as pasted
        return f"export {variable}={shlex.quote(value)}"
    if line.startswith("createdb "):
        *_, name = line.split("#")[0].split()
        options = f"-h {server.host} -p {server.port or 5432} -U {server.username}"
        return f"createdb {options} {names[name]}"
    if "gunicorn" in line:
        line = re.sub(r"--bind \S+", f"--bind 127.0.0.1:{port}", line)
        return "exec " + re.sub(r"--workers \d+", "--workers 2", line)
    return line


@pytest.fixture
def scratch_databases() -> Iterator[dict[str, str]]:
    """Runbook database name -> scratch name; the scratch databases are dropped after."""
    names = database_names(runbook_block()[0])
    yield names
    with psycopg.connect(_libpq(PG_SERVER), autocommit=True) as admin:
        for name in names.values():
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_the_documented_commands_serve_pages_with_htmx_to_the_first_admin(
    scratch_databases, tmp_path
):
    port, metrics = free_port(), tmp_path / "metrics"
    setup, running = runbook_block()
    # static/vendor is git-ignored and already here (make test builds it): only this says
    # that a fresh clone's pages get htmx too.
    assert any(re.match(r"make\b.*\bstatic\b", line) for line in setup), setup
    web = [line for line in running if "gunicorn" in line]
    assert len(web) == 1, running
    lines = [scratch(line, scratch_databases, metrics, port) for line in [*setup, *web]]
    script = "\n".join(["set -euo pipefail", *(line for line in lines if line is not None)])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL_", "PROM"))}
    tag = f"docs-{uuid.uuid4().hex[:8]}"  # this test's own keys and queue on shared Redis
    env |= {"CACHE_PREFIX": tag, "CELERY_QUEUE": tag, "EVENT_STREAM": tag}
    log = tmp_path / "shell.log"
    with log.open("w") as output:
        shell = subprocess.Popen(
            ["bash", "-c", script], cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        wait_serving(base, shell, log, timeout=120)
        username, password = PASSWORD.search(log.read_text()).groups()  # type: ignore[union-attr]
        browser = Browser(base)
        browser.open("/login")
        form = {"csrf_token": browser.token, "username": username, "password": password}
        assert browser.open("/login", form)[0] == 303, log.read_text()
        status, page = browser.open("/")
        assert status == 200, page
        script_url = HTMX_SCRIPT.search(page)
        assert script_url, "the page loads no htmx"
        status, htmx = browser.open(script_url.group(1))
        assert status == 200 and "htmx" in htmx and len(htmx) > 10_000
        assert "metric files from earlier processes" not in log.read_text()
    finally:
        stop_group(shell, timeout=20)


@pytest.mark.parametrize("how", ["arguments", "environment"])
def test_make_run_serves_on_the_host_and_port_given(how: str):
    settings = {"HOST": "0.0.0.0", "PORT": "8123"}
    arguments = [f"{name}={value}" for name, value in settings.items()]
    env = {**_outside_make(), **(settings if how == "environment" else {})}
    assert _serve_line(arguments if how == "arguments" else [], env).endswith(
        " run --host 0.0.0.0 --port 8123"
    )


def test_make_run_serves_on_localhost_port_5000_by_default():
    env = {k: v for k, v in _outside_make().items() if k not in ("HOST", "PORT")}
    assert _serve_line([], env).endswith(" run --host 127.0.0.1 --port 5000")


def _outside_make() -> dict[str, str]:
    """The environment without what an enclosing make (`make test`) hands its children,
    which would make the dry run print its directory changes and share its job server."""
    nested = ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES")
    return {k: v for k, v in os.environ.items() if k not in nested}


def _serve_line(arguments: list[str], env: dict[str, str]) -> str:
    """The command `make run` would serve the app with (a dry run: nothing is started)."""
    done = subprocess.run(
        ["make", "--dry-run", "--no-print-directory", "run", *arguments],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    served = [line for line in done.stdout.splitlines() if " run --host " in line]
    assert len(served) == 1, done.stdout
    return served[0]
