"""The WSGI app that bench/http_pages.py serves with gunicorn: the real app, plus baselines.

    gunicorn 'bench._http_app:build()'      # from the repository root

`build()` is the real `create_app()` (settings from the environment, as in production)
with three routes added to that same app, so a baseline pays for the same Flask, session,
CSRF and WSGI work as the pages it is compared with:

  GET  /_bench/table          a 50-row HTML table rendered by Jinja from a constant list
  GET  /_bench/table-string   the same through `render_template_string`, which compiles the
                              template on every request (the issue's reference figures
                              match this one)
  GET  /_bench/table-public   the first page without signing in: what loading the signed-in
                              account costs every page
  POST /_bench/insert         one row inserted into `bench_http_inserts`, then a 303

The baselines need a signed-in user like every page, so they pay for loading the account
too. The account, `bench-admin`, gets the password in BENCH_STAFF_PASSWORD (made at random
by bench/http_pages.py for each run) from `prepare_staff()`, before the server starts.
"""

from __future__ import annotations

import os
import uuid

import sqlalchemy as sa
from flask import Flask, redirect, render_template_string, request
from werkzeug.wrappers import Response

from app import create_app
from app.extensions import db
from app.web.kit import access

TABLE_URL = "/_bench/table"
TABLE_STRING_URL = "/_bench/table-string"
TABLE_PUBLIC_URL = "/_bench/table-public"
INSERT_URL = "/_bench/insert"
STAFF = "bench-admin"

metadata = sa.MetaData()
inserts = sa.Table(
    "bench_http_inserts",
    metadata,
    sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
    sa.Column("command_id", sa.Uuid(), nullable=False),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
)

# About what an appointment list row carries, so the HTML is of a similar size.
ROWS = [
    (
        f"Thu 26 Nov 2026, {8 + n // 6:02d}:{n % 6 * 10:02d}",
        f"Patient {n:02d} Dupont-Lefèvre",
        f"Dr Doctor {n % 7} Martin",
        "Follow-up consultation & blood pressure check",
        ("pending", "confirmed", "checked_in", "completed", "cancelled")[n % 5],
    )
    for n in range(50)
]

TABLE_TEMPLATE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Baseline · Rendezvous</title></head>
<body>
<main>
<h1>Baseline: 50 rows</h1>
<table class="table">
  <thead><tr><th>When</th><th>Patient</th><th>Doctor</th><th>Reason</th><th>Status</th></tr></thead>
  <tbody>
  {% for when, patient, doctor, reason, status in rows %}
    <tr id="row-{{ loop.index }}" data-status="{{ status }}">
      <td>{{ when }}</td><td>{{ patient }}</td><td>{{ doctor }}</td>
      <td>{{ reason }}</td><td><span class="status status-{{ status }}">{{ status }}</span></td>
    </tr>
  {% endfor %}
  </tbody>
</table>
</main>
</body>
</html>
"""


def build() -> Flask:
    """The app as configured by the environment, with the baseline routes added."""
    app = create_app()
    # Compiled once, as the app's own templates are by Jinja's cache; render_template_string
    # would compile on every request and make the baseline slower than a real page.
    table = app.jinja_env.from_string(TABLE_TEMPLATE)

    def bench_table() -> str:
        """The baseline page: a constant 50-row table."""
        return table.render(rows=ROWS)

    def bench_table_string() -> str:
        """The baseline page as `render_template_string` makes it: compiled per request."""
        return render_template_string(TABLE_TEMPLATE, rows=ROWS)

    def bench_insert() -> Response:
        """The baseline write: one row, one transaction, then post/redirect/get."""
        with db.engine.begin() as conn:
            conn.execute(
                inserts.insert().values(
                    command_id=uuid.uuid4(), title=request.form.get("title", "")[:200]
                )
            )
        return redirect(TABLE_URL, code=303)

    app.add_url_rule(TABLE_URL, "bench_table", bench_table, methods=["GET"])
    app.add_url_rule(TABLE_STRING_URL, "bench_table_string", bench_table_string)
    app.add_url_rule(INSERT_URL, "bench_insert", bench_insert, methods=["POST"])
    app.add_url_rule(TABLE_PUBLIC_URL, "bench_table_public", bench_table)
    for endpoint in ("bench_table", "bench_table_string", "bench_insert"):
        access.RULES[endpoint] = access.EVERYONE
    access.RULES["bench_table_public"] = access.PUBLIC
    return app


def prepare_staff() -> None:
    """Give the account the load signs in with this run's password, once, before any
    gunicorn worker starts (bench/_http_server.serving runs this in a process of its own).

    Not in `build()`: each worker builds the app, and a worker that set the password anew
    (the account left by an interrupted run has the old one) would end the session the load
    had just signed in with."""
    accounts = create_app().extensions["rendezvous"].accounts
    password = os.environ["BENCH_STAFF_PASSWORD"]
    if accounts.find(STAFF) is None:
        accounts.create(STAFF, password, "admin", by="bench", full_name="Benchmark")
    elif accounts.authenticate(STAFF, password) is None:
        accounts.set_password(STAFF, password, by="bench")


def ensure_table(engine: sa.Engine) -> None:
    """Create the baseline's table if it is missing, and empty it."""
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("TRUNCATE bench_http_inserts RESTART IDENTITY"))
