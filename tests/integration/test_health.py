"""/healthz and /readyz as a load balancer sees them: no sign-in, a status code to act on,
and a JSON body that says which check failed without naming hosts or users."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.config import celery_config
from app.domain.events import AppointmentConfirmed
from app.eventstore import EventMetadata

from ..backends import dispose, make_app
from ..clinic import open_clinic
from .projecting import catch_up, wait_until
from .test_projections import append_poison, status_of

MAX_LAG = 30.0
META = EventMetadata(actor="tests", correlation_id="c", causation_id="c")


@pytest.fixture
def app(pg_url, pg_engine, private_redis):  # type: ignore[no-untyped-def]
    """The app with both kinds of Redis (the cache's and the broker, on separate databases
    of the private server), so that /readyz checks both."""
    broker = private_redis.url.rsplit("/", 1)[0] + "/1"
    app = make_app(
        pg_url,
        REDIS_URL=private_redis.url,
        CACHE_PREFIX=f"test-health-{uuid.uuid4().hex[:8]}",
        CELERY=celery_config(broker, f"rendezvous-test-health-{uuid.uuid4().hex[:8]}", 5.0),
        READY_MAX_LAG_SECONDS=MAX_LAG,
        METRICS_CACHE_SECONDS=0,
    )
    yield app
    app.extensions["celery"].close()
    dispose(app)


def ready(app):  # type: ignore[no-untyped-def]
    response = app.test_client().get("/readyz")
    assert response.content_type == "application/json"
    return response.status_code, response.get_json()


class TestHealthz:
    def test_says_ok_without_asking_any_database(self, app):
        found = app.extensions["rendezvous"]
        engines = {found.store.engine, found.read_engine}
        statements = []

        def executing(conn, cursor, statement, *_):  # type: ignore[no-untyped-def]
            statements.append(statement)

        for engine in engines:
            sa.event.listen(engine, "before_cursor_execute", executing)
        try:
            response = app.test_client().get("/healthz")
        finally:
            for engine in engines:
                sa.event.remove(engine, "before_cursor_execute", executing)
        assert (response.status_code, response.get_data(as_text=True)) == (200, "ok\n")
        assert statements == []

    def test_says_ok_while_the_database_is_unreachable_and_readyz_says_why_not(self):
        # Nothing listens on port 1: the connection is refused at once.
        app = make_app("postgresql+psycopg://nobody:secret@127.0.0.1:1/nowhere")
        try:
            assert app.test_client().get("/healthz").status_code == 200
            status, body = ready(app)
        finally:
            dispose(app)
        assert status == 503
        assert body["checks"]["write_database"] == {"ok": False, "reason": "unreachable"}
        assert body["checks"]["projections"] == {"ok": False, "reason": "unknown"}
        text = str(body)
        assert "nobody" not in text and "secret" not in text and "nowhere" not in text

    def test_readyz_names_the_read_database_when_only_it_is_unreachable(self, pg_url, pg_engine):
        app = make_app(pg_url, READ_DATABASE_URI="postgresql+psycopg://nobody@127.0.0.1:1/reads")
        try:
            status, body = ready(app)
        finally:
            dispose(app)
        assert status == 503
        assert body["checks"]["write_database"] == {"ok": True}
        assert body["checks"]["read_database"] == {"ok": False, "reason": "unreachable"}


class TestReadyz:
    @pytest.fixture(autouse=True)
    def small_clinic(self, app_services):  # type: ignore[no-untyped-def]
        """A small clinic, projected: with a broker, nothing projects in this process unless
        asked."""
        open_clinic(app_services.bus, patients=1)
        catch_up(app_services.projector)

    def test_is_ready_when_everything_answers_and_is_recent(self, app, app_services):
        status, body = ready(app)
        assert status == 200, body
        assert body["status"] == "ready"
        checks = body["checks"]
        assert set(checks) == {"write_database", "read_database", "redis", "broker", "projections"}
        assert all(check["ok"] for check in checks.values())
        lag = checks["projections"]["lag"]
        assert set(lag) == set(app_services.projector.names)
        for figures in lag.values():
            assert figures == {"state": "up to date", "events_behind": 0, "seconds_behind": 0.0}

    def test_is_not_ready_while_a_projection_is_parked(self, app, app_services):
        append_poison(app_services)
        projector = app_services.projector
        wait_until(
            lambda: projector.run_all() and status_of(projector, "appointments").state == "parked",
            timeout=20,
            what="the appointments projection to park the poison event",
        )
        status, body = ready(app)
        assert status == 503
        assert body["status"] == "not ready"
        projections = body["checks"]["projections"]
        assert projections["ok"] is False
        assert projections["reason"] == "parked: appointments"
        assert projections["lag"]["appointments"]["state"] == "parked"
        assert all(body["checks"][name]["ok"] for name in ("write_database", "redis", "broker"))

    def test_is_not_ready_once_a_projection_is_further_behind_than_allowed(self, app, app_services):
        def append(seconds_ago: float) -> None:
            app_services.store.append(
                uuid.uuid4(), 0, [AppointmentConfirmed()], stream_type="t", metadata=META,
                recorded_at=datetime.now(UTC) - timedelta(seconds=seconds_ago),
            )  # fmt: skip

        # Written without the bus, so nothing projects them: the projections fall behind.
        append(MAX_LAG - 10)
        status, body = ready(app)
        assert status == 200, body
        assert body["checks"]["projections"]["lag"]["patients"]["events_behind"] == 1

        # The oldest unapplied event decides: the lag is now MAX_LAG + 10 seconds.
        append(MAX_LAG + 10)
        status, body = ready(app)
        assert status == 503
        projections = body["checks"]["projections"]
        assert projections["reason"].startswith(f"more than {MAX_LAG:g} s behind: ")
        assert all(name in projections["reason"] for name in app_services.projector.names)
        assert projections["lag"]["patients"]["seconds_behind"] >= MAX_LAG + 10

    def test_is_not_ready_while_redis_is_down_and_says_so_within_seconds(
        self, app, app_services, private_redis
    ):
        assert ready(app)[0] == 200
        private_redis.stop()
        started = time.monotonic()
        status, body = ready(app)
        assert time.monotonic() - started < 3
        assert status == 503
        for name in ("redis", "broker"):
            assert body["checks"][name] == {"ok": False, "reason": "unreachable"}
        assert body["checks"]["write_database"]["ok"] and body["checks"]["projections"]["ok"]
        assert str(private_redis.port) not in str(body)
