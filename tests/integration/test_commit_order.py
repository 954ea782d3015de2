"""read_committed never skips an event whose transaction commits out of position order."""

from __future__ import annotations

import random
import threading
import time
from uuid import uuid4

from app.domain.events import AppointmentConfirmed
from app.eventstore import START, EventMetadata, EventStore

META = EventMetadata(actor="test", correlation_id="c", causation_id="c")


def drain(store: EventStore, checkpoint, seen: list) -> tuple:
    while page := store.read_committed(after=checkpoint, limit=100):
        seen.extend(page)
        checkpoint = page[-1].checkpoint
    return checkpoint


def drain_until(store: EventStore, checkpoint, seen: list, count: int) -> tuple:
    """Poll until `count` events are seen; another worker's open transaction on the same
    server may hold rows back for a moment (bounded wait, never a fixed sleep)."""
    deadline = time.monotonic() + 10
    while True:
        checkpoint = drain(store, checkpoint, seen)
        if len(seen) >= count or time.monotonic() > deadline:
            return checkpoint


def test_a_reader_sees_both_events_once_when_the_higher_position_commits_first(pg_engine):
    store = EventStore(pg_engine)
    early, late = uuid4(), uuid4()
    seen: list = []
    with pg_engine.connect() as first, pg_engine.connect() as second:
        first_tx, second_tx = first.begin(), second.begin()
        from app.eventstore.store import StoreTransaction

        low = StoreTransaction(store, first).append(
            early, 0, [AppointmentConfirmed()], stream_type="t", metadata=META
        )
        high = StoreTransaction(store, second).append(
            late, 0, [AppointmentConfirmed()], stream_type="t", metadata=META
        )
        assert low.position < high.position
        second_tx.commit()  # the higher position becomes visible first

        checkpoint = drain(store, START, seen)
        # Showing `late` now would move the checkpoint past `early`, which would be lost.
        assert [r.stream_id for r in seen] == []

        first_tx.commit()
    checkpoint = drain_until(store, checkpoint, seen, 2)
    assert [r.stream_id for r in seen] == [early, late]
    assert drain(store, checkpoint, seen) == checkpoint  # nothing more, nothing twice
    assert len(seen) == 2


def test_many_writers_committing_in_random_order_are_each_read_exactly_once(pg_engine):
    store = EventStore(pg_engine)
    writers, per_writer = 6, 15
    errors: list[BaseException] = []

    def write(seed: int) -> None:
        rng = random.Random(seed)
        try:
            for _ in range(per_writer):
                with store.transaction() as tx:
                    tx.append(uuid4(), 0, [AppointmentConfirmed()], stream_type="t", metadata=META)
                    # Hold the transaction open a little, so commits interleave.
                    tx.conn.exec_driver_sql(f"SELECT pg_sleep({rng.uniform(0, 0.01):.4f})")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    seen: list = []
    checkpoint = START
    deadline = time.monotonic() + 60
    while any(t.is_alive() for t in threads) and time.monotonic() < deadline:
        checkpoint = drain(store, checkpoint, seen)
    for thread in threads:
        thread.join(timeout=30)
    drain_until(store, checkpoint, seen, writers * per_writer)
    assert not errors
    positions = [r.position for r in seen]
    assert len(positions) == writers * per_writer
    assert len(set(positions)) == len(positions)
    assert [r.checkpoint for r in seen] == sorted(r.checkpoint for r in seen)
