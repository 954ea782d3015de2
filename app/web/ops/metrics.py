"""/metrics for Prometheus: what every process recorded (app.metrics), and figures read
from the databases when scraped (the event store's size, each projection's lag).

Open to an admin's session or to `Authorization: Bearer <METRICS_TOKEN>`. Anyone else gets
401 with a WWW-Authenticate header, not the sign-in page: a scraper follows no redirect to
a form, and a 200 sign-in page would look like a scrape that found no metrics.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Iterator
from typing import cast

from flask import Blueprint, Flask, Response, current_app, request
from flask.blueprints import BlueprintSetupState
from flask_login import current_user
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric

from app.extensions import SCRAPED, probes, scraped
from app.metrics import registry
from app.web.kit import access

log = logging.getLogger("rendezvous.metrics")

bp = Blueprint("metrics", __name__)

REALM = 'Bearer realm="rendezvous"'


class DatabaseFigures:
    """Gauges read when scraped, through figures each process keeps a few seconds. A
    database that does not answer leaves them out, and the recorded metrics still come."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def collect(self) -> Iterator[Metric]:
        figures = probes(self.app).figures
        try:
            size = figures.size()
        except Exception:
            log.warning("metrics: the event store's size is unknown", exc_info=True)
        else:
            yield GaugeMetricFamily(
                "rendezvous_event_store_events", "Events in the event store.", size.events
            )
            yield GaugeMetricFamily(
                "rendezvous_event_store_bytes",
                "Disk taken by the events table and its indexes (SQLite: the database file).",
                size.bytes,
            )
        try:
            lag = figures.lag()
        except Exception:
            log.warning("metrics: the projections' lag is unknown", exc_info=True)
            return
        behind = GaugeMetricFamily(
            "rendezvous_projection_events_behind",
            "Committed events a projection has not applied yet.",
            labels=["projection"],
        )
        seconds = GaugeMetricFamily(
            "rendezvous_projection_seconds_behind",
            "Age of the oldest event a projection has not applied yet (0 when up to date).",
            labels=["projection"],
        )
        parked = GaugeMetricFamily(
            "rendezvous_projection_parked",
            "1 when a projection is parked at an event that keeps failing, else 0.",
            labels=["projection"],
        )
        for status in lag:
            behind.add_metric([status.name], status.events_behind)
            seconds.add_metric([status.name], status.seconds_behind)
            parked.add_metric([status.name], 1 if status.state == "parked" else 0)
        yield from (behind, seconds, parked)


@bp.record_once
def _set_up(state: BlueprintSetupState) -> None:
    # Registered once, asked nothing until scraped (no auto_describe: no query at start).
    scraped = CollectorRegistry(auto_describe=False)
    # Flask types the setup state's app as its sans-I/O base; a Flask blueprint's is Flask.
    scraped.register(DatabaseFigures(cast(Flask, state.app)))
    state.app.extensions[SCRAPED] = scraped


@bp.get("/metrics")
def scrape() -> Response:
    """Prometheus' scrape, in its text format."""
    refusal = _refusal()
    if refusal is not None:
        return refusal
    # Both registries are checked at scrape time: no metric name appears in both.
    body = generate_latest(registry()) + generate_latest(scraped())
    return Response(body, content_type=CONTENT_TYPE_LATEST)


def _refusal() -> Response | None:
    """None for a right bearer token or an admin's session; otherwise the 401 or 403."""
    header = request.headers.get("Authorization")
    scheme, _, given = (header or "").partition(" ")
    # Another scheme (a proxy's Basic credentials) says nothing about this app's users.
    if scheme.lower() == "bearer":
        token = current_app.config.get("METRICS_TOKEN")
        if token and _same(given.strip(), token):
            return None
        log.warning("refused /metrics: wrong or unexpected token from %s", request.remote_addr)
        return _unauthorized(f'{REALM}, error="invalid_token"')
    if not current_user.is_authenticated:
        return _unauthorized(REALM)
    if current_user.role not in access.ADMIN:
        access.refuse("the metrics")
    return None


def _same(given: str, token: str) -> bool:
    # Constant time, so that response times do not tell how much of a guess was right.
    return hmac.compare_digest(given.encode(), token.encode())


def _unauthorized(challenge: str) -> Response:
    response = Response(
        "Send Authorization: Bearer <METRICS_TOKEN>, or sign in as an admin.\n",
        401,
        mimetype="text/plain",
    )
    response.headers["WWW-Authenticate"] = challenge
    return response
