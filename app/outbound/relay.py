"""The relay: every committed event, in the store's order, onto a Redis stream.

A batch and the relay's checkpoint travel together. The batch's XADDs and the new
checkpoint (key `<stream>:checkpoint`, value "tx_id:position") are one MULTI/EXEC under
WATCH on the checkpoint key, so Redis applies both or neither: a relay killed at any moment
resumes where the stream ends, and a second relay that read the same checkpoint loses the
race (its EXEC is refused, it reads again) instead of publishing the batch twice. If Redis
loses its data, the checkpoint goes with the stream and the relay publishes from the start
again. So a kill never duplicates an entry but a loss of Redis data does: delivery is at
least once, and consumers deduplicate by position.
See docs/relay.md.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import redis

from app.config import ConfigurationError
from app.eventstore import DATABASE_DOWN, START, Checkpoint, EventStore
from app.metrics import RELAY_PUBLISHED
from app.redis_clients import fail_fast

from .entries import entry, format_checkpoint, parse_checkpoint

log = logging.getLogger(__name__)

# What waiting can cure: a server restarting, a network cut, a replica being promoted.
TRANSIENT: tuple[type[Exception], ...] = (redis.RedisError, *DATABASE_DOWN)


class RelayError(RuntimeError):
    """The relay cannot publish: its stream's key holds something else, or a batch failed."""


@dataclass(frozen=True)
class RelayStatus:
    """Where the relay stands, as `flask events relay-status` prints it."""

    stream: str
    checkpoint: Checkpoint
    events_behind: int
    oldest_behind_at: datetime | None  # when the oldest event not yet published was recorded
    stream_length: int


class Relay:
    """Publishes the store's committed events, in never-skip order, to one Redis stream.
    `client` must decode responses (see `redis_client`)."""

    def __init__(
        self,
        store: EventStore,
        client: redis.Redis,
        stream: str,
        *,
        maxlen: int = 0,
        batch_size: int = 500,
        poll_seconds: float = 0.5,
        max_backoff: float = 30.0,
        say: Callable[[str], None] = log.info,
    ) -> None:
        self.store, self.client, self.stream = store, client, stream
        self.checkpoint_key = f"{stream}:checkpoint"
        # MAXLEN ~ trims whole radix-tree nodes only: much cheaper than an exact trim.
        self._trim: dict[str, Any] = {"maxlen": maxlen, "approximate": True} if maxlen else {}
        self.batch_size, self.poll_seconds, self.max_backoff = batch_size, poll_seconds, max_backoff
        self.say = say
        self.races_lost = 0

    def checkpoint(self) -> Checkpoint:
        """The last event published (START if none)."""
        # redis types replies for its sync and async clients at once (Any | Awaitable): this
        # one is sync and decodes them (see `redis_client`), so the reply is text or None.
        return parse_checkpoint(cast(str | None, self.client.get(self.checkpoint_key)))

    def publish_batch(self) -> int | None:
        """Publish the next batch after the checkpoint, with the new checkpoint, in one
        transaction: how many events (0: none waiting), or None if the checkpoint moved
        under us (another relay won the race, or the connection dropped) and we must read
        it again."""
        with self.client.pipeline() as pipe:
            pipe.watch(self.checkpoint_key)
            # Under WATCH the pipeline runs a command at once and returns its (text) reply.
            after = parse_checkpoint(cast(str | None, pipe.get(self.checkpoint_key)))
            self._check_stream_key(pipe)
            records = self.store.read_committed(after=after, limit=self.batch_size)
            if not records:
                return 0
            pipe.multi()
            for record in records:
                # redis types `fields` as an invariant Dict, though it only reads it.
                fields = entry(record, self.store.codec)
                pipe.xadd(self.stream, fields, **self._trim)  # type: ignore[arg-type]
            last = records[-1].checkpoint
            pipe.set(self.checkpoint_key, format_checkpoint(last))
            try:
                results = pipe.execute(raise_on_error=False)
            except redis.WatchError:
                # Also raised when the connection drops while watching, so an EXEC whose
                # reply was lost is never sent again: reading the checkpoint tells.
                self.races_lost += 1
                return None
        self._check_results(results, after)
        RELAY_PUBLISHED.labels(stream=self.stream).inc(len(records))
        self.say(
            f"Published {len(records)} events after {format_checkpoint(after)}, "
            f"up to {format_checkpoint(last)}."
        )
        return len(records)

    def run(self, stop: threading.Event) -> None:
        """Publish until `stop` is set: batch after batch while events wait, a poll every
        `poll_seconds` when idle, a bounded back-off while Redis or PostgreSQL is away."""
        self.say(f"Relaying events to {self.where()} in batches of {self.batch_size}.")
        self._say_where_it_starts()
        failures = 0
        while not stop.is_set():
            try:
                published = self.publish_batch()
            except TRANSIENT as exc:
                failures += 1
                delay = min(self.max_backoff, self.poll_seconds * 2 ** min(failures - 1, 16))
                log.warning(
                    "Relay to %s: %s; retrying in %.1f s (the checkpoint is in Redis, "
                    "nothing is lost)",
                    self.where(),
                    _first_line(exc),
                    delay,
                )
                stop.wait(delay)
                continue
            if failures:
                self.say("Connected again; relaying.")
                failures = 0
            # A short batch means we are level with what the store lets readers see.
            if published is not None and published < self.batch_size:
                stop.wait(self.poll_seconds)
        self.say("Relay stopped.")

    def status(self) -> RelayStatus:
        """The checkpoint, how many events are not yet published, and the stream's length.
        Raises redis.RedisError or sqlalchemy's errors when a service is unreachable."""
        checkpoint = self.checkpoint()
        behind, oldest = self.store.backlog(checkpoint)
        length = cast(int, self.client.xlen(self.stream))  # a sync client's reply
        return RelayStatus(self.stream, checkpoint, behind, oldest, length)

    def where(self) -> str:
        """The stream and its server, for people (no password)."""
        kwargs = self.client.connection_pool.connection_kwargs
        server = f"{kwargs.get('host', '?')}:{kwargs.get('port', '?')}/{kwargs.get('db', 0)}"
        return f"Redis stream {self.stream!r} on {server}"

    def _say_where_it_starts(self) -> None:
        try:
            checkpoint = self.checkpoint()
        except redis.RedisError:
            return  # the loop will say it, and wait
        if checkpoint == START:
            self.say("No checkpoint in Redis: publishing from the first event.")
        else:
            self.say(f"Resuming after checkpoint {format_checkpoint(checkpoint)}.")

    def _check_stream_key(self, pipe: redis.client.Pipeline) -> None:
        # MULTI/EXEC does not roll back: an XADD failing on a key of another type would let
        # the SET of the checkpoint pass, and the batch would be lost. Refuse up front.
        kind = pipe.type(self.stream)
        if kind not in ("stream", "none"):
            raise RelayError(
                f"Redis key {self.stream!r} holds a {kind}, not a stream: "
                "give EVENT_STREAM another name."
            )

    def _check_results(self, results: list[Any], after: Checkpoint) -> None:
        failed = [result for result in results if isinstance(result, Exception)]
        if failed:
            # The checkpoint moved past events that did not all land: put it back (at worst
            # a batch goes out twice), and stop rather than guess.
            self.client.set(self.checkpoint_key, format_checkpoint(after))
            raise RelayError(
                f"Publishing a batch to {self.where()} failed ({failed[0]}); the checkpoint "
                f"is back at {format_checkpoint(after)}."
            )


def redis_client(url: str) -> redis.Redis:
    """A client for the relay and consumers: text replies, short timeouts, and a single
    quick retry, since their loops do the backing off."""
    return fail_fast(
        url,
        timeout=10,
        connect_timeout=2,
        retries=1,
        decode_responses=True,
        health_check_interval=30,
    )


def relay_from_config(
    store: EventStore,
    config: Mapping[str, Any],
    *,
    stream: str | None = None,
    batch_size: int | None = None,
    say: Callable[[str], None] = log.info,
) -> Relay:
    """The relay the settings describe (REDIS_URL, EVENT_STREAM, EVENT_STREAM_MAXLEN,
    RELAY_BATCH_SIZE, RELAY_POLL_SECONDS), with the stream and batch size overridable."""
    url = config.get("REDIS_URL")
    if not url:
        raise ConfigurationError("REDIS_URL is not set: the relay publishes to a Redis stream.")
    return Relay(
        store,
        redis_client(url),
        stream or config["EVENT_STREAM"],
        maxlen=config["EVENT_STREAM_MAXLEN"],
        batch_size=batch_size or config["RELAY_BATCH_SIZE"],
        poll_seconds=config["RELAY_POLL_SECONDS"],
        say=say,
    )


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
