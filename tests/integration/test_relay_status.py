"""`flask events relay-status` in each state the relay can be in, on real PostgreSQL and Redis:
never started, behind, caught up (its usual state), and Redis unreachable."""

from __future__ import annotations

from click.testing import Result

from app.eventstore import START, EventStore
from app.outbound.entries import format_checkpoint
from app.outbound.relay import Relay, redis_client

from ..backends import dispose, make_app, redis_test_url
from . import test_relay
from .test_relay import append_confirmations, committed
from .workers import free_port

# A stream name of the test's own, its keys deleted afterwards: the relay tests' fixture.
stream = test_relay.stream


def publish(store: EventStore, stream: str, batch_size: int) -> None:
    """One batch of the relay, on the test's Redis database."""
    client = redis_client(redis_test_url())
    try:
        Relay(store, client, stream, batch_size=batch_size, say=lambda _: None).publish_batch()
    finally:
        client.close()


def relay_status(pg_url: str, stream: str, redis_url: str | None = None) -> Result:
    """The command's result, run as an operator would, on the test's Redis database."""
    app = make_app(pg_url, REDIS_URL=redis_url or redis_test_url(), EVENT_STREAM=stream)
    try:
        return app.test_cli_runner().invoke(args=["events", "relay-status"])
    finally:
        dispose(app)


def test_a_relay_never_started_shows_every_event_behind_and_an_empty_stream(
    pg_url, pg_store, stream
):
    append_confirmations(pg_store, 3)
    records = committed(pg_store, 3)
    result = relay_status(pg_url, stream)
    assert result.exit_code == 0, result.output
    assert f"checkpoint  {format_checkpoint(START)} (never started" in result.output
    oldest = f"{records[0].recorded_at:%Y-%m-%d %H:%M:%S}"
    assert f"behind      3 (oldest recorded {oldest} UTC)" in result.output
    assert "length      0" in result.output


def test_a_relay_behind_shows_its_backlog_and_when_the_oldest_was_recorded(
    pg_url, pg_store, stream
):
    append_confirmations(pg_store, 5)
    records = committed(pg_store, 5)
    publish(pg_store, stream, batch_size=2)
    result = relay_status(pg_url, stream)
    assert result.exit_code == 0, result.output
    assert f"checkpoint  {format_checkpoint(records[1].checkpoint)}\n" in result.output
    oldest = f"{records[2].recorded_at:%Y-%m-%d %H:%M:%S}"
    assert f"behind      3 (oldest recorded {oldest} UTC)" in result.output
    assert "length      2" in result.output


def test_a_caught_up_relay_shows_nothing_behind(pg_url, pg_store, stream):
    append_confirmations(pg_store, 3)
    records = committed(pg_store, 3)
    publish(pg_store, stream, batch_size=10)
    result = relay_status(pg_url, stream)
    assert result.exit_code == 0, result.output
    assert f"checkpoint  {format_checkpoint(records[-1].checkpoint)}\n" in result.output
    assert "behind      0 (caught up)" in result.output
    assert "length      3" in result.output


def test_an_unreachable_redis_gives_a_clear_message_and_a_failing_exit(pg_url, pg_store, stream):
    closed = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens on a port just freed
    result = relay_status(pg_url, stream, redis_url=closed)
    assert result.exit_code == 1, result.output
    assert f"Error: Cannot read the relay's status from Redis stream {stream!r} on 127.0.0.1:" in (
        result.output
    )
    assert "Traceback" not in result.output and result.exception is not None
    assert isinstance(result.exception, SystemExit)
