"""The outbound relay and its example consumer, on real PostgreSQL and Redis.

Every test names its own stream (the xdist workers share Redis database 14) and deletes
every key under that name afterwards. Waits poll with a deadline: another worker's open
transaction can hold the store's readers back for a moment.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import orjson
import pytest
import redis
import sqlalchemy as sa
from prometheus_client import REGISTRY

from app.domain.events import (
    AppointmentCancelled,
    AppointmentConfirmed,
    AppointmentCreated,
    AppointmentRescheduled,
    PatientRegistered,
)
from app.eventstore import START, EventMetadata, EventStore, RecordedEvent
from app.outbound.entries import format_checkpoint, parse_checkpoint
from app.outbound.relay import Relay, RelayError, redis_client
from app.outbound.reminders import APPLIED, DUPLICATE, IGNORED, WAITING, ReminderConsumer

from ..backends import redis_test_url
from .projecting import wait_until
from .workers import ROOT, RedisServer, free_port, stop_group

META = EventMetadata(actor="test", correlation_id="c", causation_id="c")
AT = datetime(2027, 1, 18, 9, 0, tzinfo=UTC)
FIFTEEN = timedelta(minutes=15)


@pytest.fixture
def stream() -> Iterator[str]:
    """A stream name of this test's own; its checkpoint and consumers' keys start with it."""
    name = f"relay-test-{uuid4().hex[:12]}"
    yield name
    client = redis_client(redis_test_url())
    keys = list(client.scan_iter(match=f"{name}*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def connect() -> Iterator[Callable[..., redis.Redis]]:
    """Redis clients, on the test database unless told otherwise, closed after the test."""
    opened: list[redis.Redis] = []

    def open_(url: str | None = None) -> redis.Redis:
        opened.append(redis_client(url or redis_test_url()))
        return opened[-1]

    yield open_
    for connection in opened:
        connection.close()


@pytest.fixture
def redis_conn(connect):  # type: ignore[no-untyped-def]
    """A Redis client on the test database, closed after the test."""
    return connect()


def relay_for(store, client, stream: str, **options) -> Relay:  # type: ignore[no-untyped-def]
    return Relay(store, client, stream, poll_seconds=0.02, say=lambda _: None, **options)


def append_confirmations(store: EventStore, transactions: int, per_transaction: int = 1) -> None:
    for _ in range(transactions):
        events = [AppointmentConfirmed()] * per_transaction
        store.append(uuid4(), 0, events, stream_type="t", metadata=META)


def book(store: EventStore, appointment: UUID) -> None:
    created = AppointmentCreated(uuid4(), uuid4(), AT, AT + timedelta(minutes=15), "Check-up")
    store.append(appointment, 0, [created], stream_type="appointment", metadata=META)


def confirm(store: EventStore, appointment: UUID) -> None:
    store.append(appointment, 1, [AppointmentConfirmed()], stream_type="appointment", metadata=META)


def committed(store: EventStore, count: int) -> list[RecordedEvent]:
    """Every event in the store's never-skip order, once `count` of them are visible."""

    def read() -> list[RecordedEvent] | None:
        records: list[RecordedEvent] = []
        after = START
        while page := store.read_committed(after=after, limit=1000):
            records += page
            after = page[-1].checkpoint
        return records if len(records) >= count else None

    return wait_until(read, timeout=20, what=f"{count} committed events")


def published(client, stream: str) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    return [fields for _id, fields in client.xrange(stream)]


def order(entries: list[dict[str, str]]) -> list[tuple[int, int]]:
    return [(int(fields["tx_id"]), int(fields["position"])) for fields in entries]


def publish_all(relay: Relay, count: int) -> None:
    def done() -> bool:
        relay.publish_batch()
        return relay.client.xlen(relay.stream) >= count

    wait_until(done, timeout=20, what=f"{count} entries in the stream")


@contextmanager
def running(*relays: Relay) -> Iterator[None]:
    """Relays looping in threads, as `flask events relay` does, until the block ends."""
    stop = threading.Event()
    threads = [threading.Thread(target=relay.run, args=(stop,)) for relay in relays]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
            assert not thread.is_alive(), "the relay did not stop"


# -- The relay --


def test_events_from_concurrent_writers_are_published_once_each_in_the_stores_order(
    pg_store, redis_conn, stream
):
    errors: list[BaseException] = []

    def write(seed: int) -> None:
        rng = random.Random(seed)
        try:
            for _ in range(12):
                with pg_store.transaction() as tx:
                    events = [AppointmentConfirmed()] * rng.randint(1, 3)
                    tx.append(uuid4(), 0, events, stream_type="t", metadata=META)
                    # Held open a little, so commits land out of position order.
                    tx.conn.exec_driver_sql(f"SELECT pg_sleep({rng.uniform(0, 0.01):.4f})")
        except BaseException as exc:
            errors.append(exc)

    relay = relay_for(pg_store, redis_conn, stream, batch_size=7)
    with running(relay):
        writers = [threading.Thread(target=write, args=(n,)) for n in range(4)]
        for writer in writers:
            writer.start()
        for writer in writers:
            writer.join(timeout=30)
        assert not errors
        expected = committed(pg_store, pg_store.count())
        wait_until(
            lambda: redis_conn.xlen(stream) >= len(expected),
            timeout=20,
            what="every event published",
        )
    assert order(published(redis_conn, stream)) == [record.checkpoint for record in expected]
    counted = REGISTRY.get_sample_value(
        "rendezvous_relay_events_published_total", {"stream": stream}
    )
    assert counted == len(expected)


def test_an_entry_carries_the_event_its_place_and_its_payload_as_json(pg_store, redis_conn, stream):
    appointment, patient, doctor = uuid4(), uuid4(), uuid4()
    created = AppointmentCreated(patient, doctor, AT, AT + timedelta(minutes=30), "Check-up")
    recorded_at = datetime(2027, 1, 11, 7, 0, tzinfo=UTC)
    pg_store.append(
        appointment, 0, [created], stream_type="appointment", metadata=META, recorded_at=recorded_at
    )
    [record] = committed(pg_store, 1)
    publish_all(relay_for(pg_store, redis_conn, stream), 1)

    [fields] = published(redis_conn, stream)
    assert fields == {
        "position": str(record.position),
        "tx_id": str(record.tx_id),
        "stream_id": str(appointment),
        "stream_type": "appointment",
        "version": "1",
        "event_type": "AppointmentCreated",
        "schema_version": "4",
        "data": fields["data"],
        "metadata": fields["metadata"],
        "recorded_at": "2027-01-11T07:00:00+00:00",
    }
    assert orjson.loads(fields["data"]) == {
        "patient_id": str(patient),
        "doctor_id": str(doctor),
        "starts_at": "2027-01-18T09:00:00+00:00",
        "ends_at": "2027-01-18T09:30:00+00:00",
        "title": "Check-up",
        "visit_type_id": None,
        "series_id": None,
        "occurrence": None,
    }
    assert orjson.loads(fields["metadata"]) == META.as_dict()


def test_a_maximum_length_trims_the_oldest_entries_roughly(pg_store, redis_conn, stream):
    append_confirmations(pg_store, 30, per_transaction=10)
    expected = committed(pg_store, 300)
    relay = relay_for(pg_store, redis_conn, stream, batch_size=50, maxlen=10)
    wait_until(
        lambda: relay.publish_batch() == 0 and relay.checkpoint() == expected[-1].checkpoint,
        timeout=20,
        what="every event published",
    )
    # `MAXLEN ~` drops whole nodes of (by default) 100 entries: far fewer kept, never
    # fewer than asked, the newest last.
    kept = published(redis_conn, stream)
    assert 10 <= len(kept) < 300
    assert order(kept) == [record.checkpoint for record in expected[-len(kept) :]]


def test_a_relay_refuses_a_stream_key_that_holds_something_else(pg_store, redis_conn, stream):
    append_confirmations(pg_store, 3)
    committed(pg_store, 3)
    redis_conn.set(stream, "not a stream")
    relay = relay_for(pg_store, redis_conn, stream)
    with pytest.raises(RelayError, match="holds a string, not a stream"):
        relay.publish_batch()
    assert relay.checkpoint() == START  # nothing passed over


def test_status_shows_the_checkpoint_the_backlog_and_the_stream_length(
    pg_store, redis_conn, stream
):
    # The command that prints it, in every state: tests/integration/test_relay_status.py.
    append_confirmations(pg_store, 10)
    records = committed(pg_store, 10)
    relay = relay_for(pg_store, redis_conn, stream, batch_size=4)
    assert relay.publish_batch() == 4

    status = relay.status()
    assert (status.checkpoint, status.events_behind, status.stream_length) == (
        records[3].checkpoint, 6, 4,
    )  # fmt: skip
    assert status.oldest_behind_at == records[4].recorded_at


class RivalFirst:
    """A store whose first read lets a rival relay publish the same batch before returning
    it: the race of two relays started at once, made to happen every time."""

    def __init__(self, store: EventStore, rival: Relay) -> None:
        self.store, self.rival, self.codec = store, rival, store.codec

    def read_committed(self, after, limit):  # type: ignore[no-untyped-def]
        records = self.store.read_committed(after=after, limit=limit)
        if self.rival is not None:
            rival, self.rival = self.rival, None
            assert rival.publish_batch() == len(records)
        return records


def test_a_relay_that_loses_the_race_for_a_batch_publishes_nothing_and_reads_again(
    pg_store, redis_conn, connect, stream
):
    append_confirmations(pg_store, 10)
    expected = committed(pg_store, 10)
    rival = relay_for(pg_store, connect(), stream, batch_size=4)
    relay = relay_for(RivalFirst(pg_store, rival), redis_conn, stream, batch_size=4)

    assert relay.publish_batch() is None  # the rival's EXEC moved the checkpoint: ours refused
    assert relay.races_lost == 1
    assert redis_conn.xlen(stream) == 4
    publish_all(relay, 10)
    assert order(published(redis_conn, stream)) == [record.checkpoint for record in expected]


def test_two_relays_running_at_once_publish_each_event_once(pg_store, redis_conn, connect, stream):
    relays = [relay_for(pg_store, connect(), stream, batch_size=3) for _ in range(2)]
    with running(*relays):
        append_confirmations(pg_store, 60)
        expected = committed(pg_store, 60)
        wait_until(lambda: redis_conn.xlen(stream) >= 60, timeout=20, what="every event published")
    assert order(published(redis_conn, stream)) == [record.checkpoint for record in expected]


@dataclass
class Launched:
    """A `flask` command in its own process group, its output in a file."""

    args: list[str]
    env: dict[str, str]
    log: Path
    process: subprocess.Popen | None = field(default=None, repr=False)

    def start(self, ready: str) -> Launched:
        with self.log.open("w") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "app", *self.args], cwd=ROOT,
                env=self.env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        wait_until(
            lambda: ready in self.output or self.process.poll() is not None,  # type: ignore[union-attr]
            timeout=30,
            what=f"`flask {' '.join(self.args)}` to start",
        )
        assert self.process.poll() is None, self.output
        return self

    @property
    def output(self) -> str:
        return self.log.read_text()

    def kill(self) -> None:
        """SIGKILL: no clean-up, no last words."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> int:
        """SIGTERM, as an operator's supervisor stops it; the exit code."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGTERM)
        return self.process.wait(timeout=10)


@pytest.fixture
def launch(pg_url, stream, tmp_path) -> Iterator[Callable[..., Launched]]:  # type: ignore[no-untyped-def]
    launched: list[Launched] = []
    env = {
        **os.environ,
        "DATABASE_URL_WRITE": pg_url,
        "REDIS_URL": redis_test_url(),
        "EVENT_STREAM": stream,
        "CACHE_PREFIX": stream,
        "CELERY_QUEUE": stream,
        "SECRET_KEY": "test",
        "CLINIC_TIMEZONE": "Europe/Paris",
        "RELAY_POLL_SECONDS": "0.05",
        "PYTHONUNBUFFERED": "1",
    }
    for name in ("DATABASE_URL_READ", "CELERY_BROKER_URL", "PROMETHEUS_MULTIPROC_DIR"):
        env.pop(name, None)

    def start(*args: str, ready: str, **settings: str) -> Launched:
        number = len(launched) + 1
        command = Launched(list(args), {**env, **settings}, tmp_path / f"{number}.log")
        launched.append(command)
        return command.start(ready)

    yield start
    for command in launched:
        stop_group(command.process, timeout=10)
        print(f"--- flask {' '.join(command.args)} ---\n{command.output[-4000:]}")


def test_a_relay_killed_mid_way_resumes_from_its_checkpoint_and_loses_nothing(
    pg_engine, pg_store, redis_conn, stream, launch
):
    relay_args = ("events", "relay")
    append_confirmations(pg_store, 100, per_transaction=10)
    first = launch(*relay_args, ready="Relaying events", RELAY_BATCH_SIZE="5")
    with pg_engine.connect() as holder:
        # A transaction that has an id: events committed after it have higher ones, and no
        # reader passes it while it is open. So the relay is killed before it is done.
        holder.exec_driver_sql("SELECT pg_current_xact_id()")
        append_confirmations(pg_store, 20, per_transaction=5)  # while the relay runs
        wait_until(lambda: redis_conn.xlen(stream) >= 100, timeout=20, what="a few batches out")
        first.kill()
        holder.rollback()
    at_kill = published(redis_conn, stream)
    checkpoint = parse_checkpoint(redis_conn.get(f"{stream}:checkpoint"))
    assert 100 <= len(at_kill) <= 1000  # the 100 events after the open transaction are not out
    # Killed at any moment, the checkpoint names the last entry: a batch and the checkpoint
    # land together in one MULTI/EXEC, or neither does.
    assert checkpoint == order(at_kill)[-1]

    append_confirmations(pg_store, 20, per_transaction=5)
    second = launch(*relay_args, ready="Relaying events", RELAY_BATCH_SIZE="5")
    wait_until(lambda: redis_conn.xlen(stream) >= 1200, timeout=30, what="every event published")
    assert second.stop() == 0
    assert "Relay stopped." in second.output

    expected = [record.checkpoint for record in committed(pg_store, 1200)]
    # Every event, in the store's order, and none twice: not even at the kill.
    assert order(published(redis_conn, stream)) == expected
    # Resumed from the checkpoint, not from the start.
    assert f"Resuming after checkpoint {format_checkpoint(checkpoint)}." in second.output
    first_batch = next(line for line in second.output.splitlines() if line.startswith("Published"))
    assert f" after {format_checkpoint(checkpoint)}," in first_batch


def test_a_relay_waits_out_a_redis_outage_and_republishes_what_redis_lost(
    pg_store, connect, tmp_path, caplog
):
    server = RedisServer(free_port(), tmp_path).start()
    try:
        private = connect(server.url)
        relay = relay_for(pg_store, private, "events", batch_size=4, max_backoff=0.2)
        append_confirmations(pg_store, 6)
        with running(relay):
            wait_until(lambda: private.xlen("events") >= 6, timeout=20, what="6 entries")
            server.stop()
            append_confirmations(pg_store, 3)
            wait_until(lambda: "retrying in" in caplog.text, timeout=10, what="a warning")
            server.start()  # empty: the stream and the checkpoint went together
            wait_until(lambda: private.xlen("events") >= 9, timeout=20, what="a republication")
        expected = [record.checkpoint for record in committed(pg_store, 9)]
        assert order(published(private, "events")) == expected
    finally:
        server.stop()


class Unreachable:
    """A store whose server refuses the first `failures` reads."""

    def __init__(self, store: EventStore, failures: int) -> None:
        self.store, self.failures, self.codec = store, failures, store.codec

    def read_committed(self, after, limit):  # type: ignore[no-untyped-def]
        if self.failures:
            self.failures -= 1
            raise sa.exc.OperationalError("SELECT", {}, ConnectionRefusedError("refused"))
        return self.store.read_committed(after=after, limit=limit)


def test_a_relay_waits_out_postgresql_being_unreachable(pg_store, redis_conn, stream, caplog):
    append_confirmations(pg_store, 5)
    expected = [record.checkpoint for record in committed(pg_store, 5)]
    relay = relay_for(Unreachable(pg_store, failures=3), redis_conn, stream, max_backoff=0.1)
    with running(relay):
        wait_until(lambda: redis_conn.xlen(stream) >= 5, timeout=20, what="every event published")
    assert caplog.text.count("retrying in") == 3
    assert order(published(redis_conn, stream)) == expected


# -- The example consumer --


def consumer(client, stream: str, name: str, said: list[str], **options) -> ReminderConsumer:  # type: ignore[no-untyped-def]
    reader = ReminderConsumer(
        client, stream, "reminders", name, block_ms=10, say=said.append, **options
    )
    reader.join()
    return reader


def group_done(client, stream: str) -> bool:  # type: ignore[no-untyped-def]
    [group] = client.xinfo_groups(stream)
    return group["lag"] == 0 and group["pending"] == 0


def reminders(said: list[str], kind: str) -> list[str]:
    return [line for line in said if line.startswith(f"appointment reminder {kind}")]


def test_two_consumers_share_the_stream_and_handle_each_entry_once(pg_store, redis_conn, stream):
    appointments = [uuid4() for _ in range(6)]
    for appointment in appointments:
        book(pg_store, appointment)
    for appointment in appointments:
        confirm(pg_store, appointment)
    later = AT + timedelta(days=1)
    for appointment, awaits in ((appointments[0], True), (appointments[2], False)):
        moved = AppointmentRescheduled(
            later, later + timedelta(minutes=15), AT, AT + FIFTEEN, "",
            doctor_id=None, previous_doctor_id=None, awaits_confirmation=awaits,
        )  # fmt: skip
        pg_store.append(appointment, 2, [moved], stream_type="appointment", metadata=META)
    cancelled = AppointmentCancelled("Patient called")
    pg_store.append(appointments[1], 2, [cancelled], stream_type="appointment", metadata=META)
    patient = PatientRegistered("Ada Lovelace", date(1990, 12, 10), "+33 6 00 00 00 00", "a@b.fr")
    pg_store.append(uuid4(), 0, [patient], stream_type="patient", metadata=META)
    # Every one of the 16 events: waiting for fewer let a loaded run stop before the
    # patient's (held back while another test's transaction was open), the one ignored.
    publish_all(relay_for(pg_store, redis_conn, stream), 16)

    said: list[str] = []
    readers = [consumer(redis_conn, stream, name, said, batch=4) for name in ("one", "two")]
    handled: dict[str, list[tuple[int, str]]] = {"one": [], "two": []}

    def round_() -> bool:
        for reader in readers:
            handled[reader.name] += reader.poll()
        return group_done(redis_conn, stream)

    wait_until(round_, timeout=20, what="the group to handle the stream")
    outcomes = handled["one"] + handled["two"]
    assert handled["one"] and handled["two"]
    assert sorted(position for position, _ in outcomes) == sorted(
        int(fields["position"]) for fields in published(redis_conn, stream)
    )
    assert {outcome for _, outcome in outcomes} == {APPLIED, IGNORED}
    assert len(reminders(said, "to send")) == 6
    # A move the patient is to confirm waits for it; a move agreed with them takes the
    # reminder to the new time.
    assert sorted(reminders(said, "moved")) == sorted(
        [
            f"appointment reminder moved: appointment {appointments[0]} from {AT.isoformat()} "
            f"to {later.isoformat()}, to send once it is confirmed again",
            f"appointment reminder moved: appointment {appointments[2]} from {AT.isoformat()} "
            f"to {later.isoformat()}",
        ]
    )
    assert reminders(said, "withdrawn") == [
        f"appointment reminder withdrawn: appointment {appointments[1]} was cancelled "
        "(Patient called)"
    ]


def test_entries_a_killed_consumer_left_pending_are_claimed_by_another(
    pg_store, redis_conn, stream
):
    appointments = [uuid4() for _ in range(6)]
    for appointment in appointments:
        book(pg_store, appointment)
    for appointment in appointments:
        confirm(pg_store, appointment)
    publish_all(relay_for(pg_store, redis_conn, stream), 12)

    said: list[str] = []
    dead = consumer(redis_conn, stream, "dead", said, batch=4)
    taken = [int(fields["position"]) for _id, fields in dead.read_new()]  # and then it died
    assert redis_conn.xpending(stream, "reminders")["pending"] == 4

    alive = consumer(redis_conn, stream, "alive", said, claim_idle_ms=1000)
    outcomes: list[tuple[int, str]] = []

    def round_() -> bool:
        outcomes.extend(alive.poll())
        return group_done(redis_conn, stream)

    wait_until(round_, timeout=20, what="the live consumer to finish the dead one's work")
    done = [position for position, outcome in outcomes if outcome == APPLIED]
    assert sorted(done) == sorted(
        int(fields["position"]) for fields in published(redis_conn, stream)
    )
    assert set(taken) <= set(done)
    # The confirmations of the dead consumer's bookings came first and had to wait for them.
    assert WAITING in {outcome for _, outcome in outcomes}
    assert len(reminders(said, "to send")) == 6


def test_a_consumer_applies_an_event_published_twice_only_once(pg_store, redis_conn, stream):
    appointment = uuid4()
    book(pg_store, appointment)
    confirm(pg_store, appointment)
    relay = relay_for(pg_store, redis_conn, stream)
    publish_all(relay, 2)
    said: list[str] = []
    reader = consumer(redis_conn, stream, "one", said)
    assert [outcome for _, outcome in reader.poll()] == [APPLIED, APPLIED]

    redis_conn.delete(relay.checkpoint_key)  # as if Redis had lost it: the relay starts over
    publish_all(relay, 4)
    assert [outcome for _, outcome in reader.poll()] == [DUPLICATE, DUPLICATE]
    assert len(reminders(said, "to send")) == 1


def test_the_reminders_command_prints_the_reminders_and_stops_on_sigterm(
    pg_store, redis_conn, stream, launch
):
    reader = launch("events", "reminders", "--group", "desk", "--consumer", "cli", ready="reading")
    appointment = uuid4()
    book(pg_store, appointment)
    confirm(pg_store, appointment)
    publish_all(relay_for(pg_store, redis_conn, stream), 2)
    wait_until(
        lambda: "appointment reminder to send" in reader.output, timeout=20, what="a reminder"
    )
    assert reader.stop() == 0
    assert f"appointment {appointment} at 2027-01-18T09:00:00+00:00" in reader.output
    assert "Consumer 'cli' stopped." in reader.output
