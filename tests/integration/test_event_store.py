"""The event store contract, run against SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from uuid import uuid4

import pytest
import sqlalchemy as sa

from app.domain.events import AppointmentCancelled, AppointmentConfirmed, AppointmentCreated
from app.eventstore import START, ConcurrencyError, EventMetadata

META = EventMetadata(actor="alice", correlation_id="req-1", causation_id="cmd-1")


def created() -> AppointmentCreated:
    return AppointmentCreated(
        uuid4(),
        uuid4(),
        datetime(2027, 1, 12, 9, tzinfo=UTC),
        datetime(2027, 1, 12, 9, 30, tzinfo=UTC),
        "Check-up",
    )


def append(store, stream, expected, events):
    return store.append(stream, expected, events, stream_type="appointment", metadata=META)


def test_appended_events_load_in_version_order_with_their_metadata(store):
    stream = uuid4()
    first = append(store, stream, 0, [created()])
    second = append(store, stream, 1, [AppointmentConfirmed(), AppointmentCancelled("ill")])
    assert (first.version, second.version) == (1, 3)
    assert second.position > first.position
    loaded = store.load(stream)
    assert [r.version for r in loaded] == [1, 2, 3]
    assert [r.event_type for r in loaded] == [
        "AppointmentCreated",
        "AppointmentConfirmed",
        "AppointmentCancelled",
    ]
    assert loaded[2].event == AppointmentCancelled("ill")
    assert loaded[0].metadata == {
        "actor": "alice",
        "correlation_id": "req-1",
        "causation_id": "cmd-1",
    }
    assert loaded[0].recorded_at.tzinfo is not None


def test_an_unknown_stream_loads_empty(store):
    assert store.load(uuid4()) == []


def test_a_version_clash_raises_and_writes_none_of_the_batch(store):
    stream = uuid4()
    append(store, stream, 0, [created()])
    with pytest.raises(ConcurrencyError) as clash:
        append(store, stream, 0, [created(), AppointmentConfirmed()])
    assert (clash.value.expected_version, clash.value.actual_version) == (0, 1)
    assert str(stream) in str(clash.value)
    assert [r.version for r in store.load(stream)] == [1]


def test_an_expected_version_ahead_of_the_stream_is_a_clash_not_a_gap(store):
    stream = uuid4()
    append(store, stream, 0, [created()])
    with pytest.raises(ConcurrencyError):
        append(store, stream, 5, [AppointmentConfirmed()])
    assert store.stream_version(stream) == 1


def test_read_committed_pages_through_every_event_once_in_order(store):
    streams = [uuid4() for _ in range(5)]
    for stream in streams:
        append(store, stream, 0, [created(), AppointmentConfirmed()])
    seen, checkpoint = [], START
    # Rows of a transaction still open anywhere on the server (another test worker's, say)
    # are held back until it ends, so keep polling, within a bound, as a projector would.
    deadline = time.monotonic() + 10
    while len(seen) < 10 and time.monotonic() < deadline:
        while page := store.read_committed(after=checkpoint, limit=3):
            seen.extend(page)
            checkpoint = page[-1].checkpoint
    assert store.read_committed(after=checkpoint) == []
    assert len(seen) == 10
    assert [r.position for r in seen] == sorted(r.position for r in seen)
    assert len({r.position for r in seen}) == 10


def test_an_old_schema_version_row_is_upcast_on_read(store, engine):
    """A version-1 AppointmentCreated (duration, no end) written straight into the table."""
    stream = uuid4()
    old_payload = {
        "patient_id": str(uuid4()),
        "doctor_id": str(uuid4()),
        "starts_at": "2027-01-12T09:00:00+00:00",
        "duration_minutes": 20,
        "title": "Old booking",
    }
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO events (tx_id, stream_id, stream_type, version, event_type, "
                "schema_version, data, metadata, recorded_at) VALUES (0, :stream, 'appointment', "
                "1, 'AppointmentCreated', 1, :data, :meta, :at)"
            ).bindparams(sa.bindparam("stream", type_=sa.Uuid())),
            {
                "stream": stream,
                "data": json.dumps(old_payload),
                "meta": json.dumps({}),
                "at": datetime(2026, 1, 1, tzinfo=UTC),
            },
        )
    [record] = store.load(stream)
    assert record.event.ends_at == datetime(2027, 1, 12, 9, 20, tzinfo=UTC)
    assert record.event.title == "Old booking"
