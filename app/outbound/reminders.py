"""An example consumer of the outbound stream: appointment reminders.

Documentation by example for other systems, so it needs nothing of the app: Redis, the
stream's fields and the standard library. It reads with a consumer group, so several
copies share the work, and entries a dead copy left unacknowledged are claimed by another
(XAUTOCLAIM) once they have been idle long enough.

What a group of consumers has to cope with:
* At-least-once delivery. The relay publishes an event again if Redis lost its data, and
  the group hands an entry out again when its consumer died before XACK. The facts kept
  per appointment record the last version applied, written in the same Redis transaction
  as the change, so an event seen twice is a no-op: deduplication by position, since a
  position names exactly one (stream_id, version).
* No order across consumers. The group hands consecutive entries to different consumers,
  so an appointment's confirmation can reach one consumer before another has applied its
  creation. An event is applied only after the version before it; otherwise it stays
  pending and is claimed again after the idle time.
The facts live in Redis, not in memory: every consumer of the group needs them, and a
restarted consumer does not see past entries again.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any, cast

import redis

log = logging.getLogger("rendezvous.reminders")

APPLIED, IGNORED, DUPLICATE, WAITING = "applied", "ignored", "duplicate", "waiting"
# An event still waiting after this many deliveries waits for one that will never come
# (trimmed from the stream before this group read it): let it go, loudly.
MAX_DELIVERIES = 20

Entry = tuple[str, dict[str, str]]  # (stream entry id, fields)


class ReminderConsumer:
    """One consumer, in a consumer group, of the event stream: appointment reminders."""

    def __init__(
        self,
        client: redis.Redis,
        stream: str,
        group: str,
        name: str,
        *,
        batch: int = 50,
        block_ms: int = 1000,
        claim_idle_ms: int = 30_000,
        say: Callable[[str], None] = log.info,
    ) -> None:
        self.client, self.stream, self.group, self.name = client, stream, group, name
        self.batch, self.block_ms, self.claim_idle_ms = batch, block_ms, claim_idle_ms
        self.say = say
        self.facts_prefix = f"{stream}:{group}:appointment:"
        self._claim_cursor = "0-0"

    def join(self) -> None:
        """Create the group, reading from the stream's first entry, unless it exists."""
        try:
            self.client.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def poll(self) -> list[tuple[int, str]]:
        """One round: entries left pending too long (by a dead consumer, or waiting here),
        then new ones. Returns (position, outcome) for each."""
        claimed = self.claim_stale()
        # Do not wait for new entries while there is claimed work in hand.
        entries = claimed + self.read_new(block=not claimed)
        return [(int(fields["position"]), self.handle(id_, fields)) for id_, fields in entries]

    def read_new(self, block: bool = True) -> list[Entry]:
        """Entries never delivered to the group, now pending with this consumer; waits up
        to `block_ms` for some when `block`."""
        # redis types replies for its sync and async clients at once (Any | Awaitable);
        # this one is sync and decodes: [[stream, entries]], or nothing.
        reply = cast(
            "list[tuple[str, list[Entry]]] | None",
            self.client.xreadgroup(
                self.group,
                self.name,
                {self.stream: ">"},
                count=self.batch,
                block=self.block_ms if block else None,
            ),
        )
        return reply[0][1] if reply else []

    def claim_stale(self) -> list[Entry]:
        """Entries pending with any consumer for longer than the idle time, now ours."""
        # A sync client's reply (see read_new): [next cursor, entries, ids deleted (Redis 7)].
        reply = cast(
            "list[Any]",
            self.client.xautoclaim(
                self.stream,
                self.group,
                self.name,
                min_idle_time=self.claim_idle_ms,
                start_id=self._claim_cursor,
                count=self.batch,
            ),
        )
        self._claim_cursor, claimed, *deleted = reply
        if deleted and deleted[0]:
            # Trimmed (EVENT_STREAM_MAXLEN) while pending: Redis has already dropped them.
            log.warning("%d pending entries were trimmed before being handled", len(deleted[0]))
        return claimed

    def handle(self, entry_id: str, fields: dict[str, str]) -> str:
        """Apply one entry and acknowledge it, unless it must wait for an earlier event."""
        outcome = self.apply(fields)
        if outcome == WAITING and self._deliveries(entry_id) >= MAX_DELIVERIES:
            log.warning(
                "Skipping %s at position %s: version %s of %s never came before it",
                fields["event_type"],
                fields["position"],
                int(fields["version"]) - 1,
                fields["stream_id"],
            )
            outcome = IGNORED
        if outcome != WAITING:
            self.client.xack(self.stream, self.group, entry_id)
        return outcome

    def apply(self, fields: dict[str, str]) -> str:
        """Fold an appointment event into its facts, with the version, in one transaction."""
        if fields["stream_type"] != "appointment":
            return IGNORED
        key, version = self.facts_prefix + fields["stream_id"], int(fields["version"])
        with self.client.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    facts = cast(dict[str, str], pipe.hgetall(key))
                    applied = int(facts.get("version", 0))
                    if applied >= version:
                        return DUPLICATE
                    if applied < version - 1:
                        return WAITING
                    changes, line = react(fields, facts)
                    pipe.multi()
                    pipe.hset(key, mapping={**changes, "version": version})
                    pipe.execute()
                    break
                except redis.WatchError:
                    continue  # another consumer changed these facts meanwhile: look again
        if line:
            self.say(line)
        return APPLIED

    def run(self, stop: threading.Event) -> None:
        """Consume until `stop` is set; while Redis is away, warn and back off."""
        self.say(f"Consumer {self.name!r} of group {self.group!r} reading {self.stream!r}.")
        joined, failures = False, 0
        while not stop.is_set():
            try:
                if not joined:
                    self.join()
                    joined = True
                self.poll()
                failures = 0
            except redis.RedisError as exc:
                if "NOGROUP" in str(exc):
                    joined = False  # the stream is gone (Redis lost its data?): join again
                    continue
                failures += 1
                delay = min(30.0, 0.5 * 2 ** min(failures, 6))
                log.warning("Reminders: %s; retrying in %.1f s", exc, delay)
                stop.wait(delay)
        self.say(f"Consumer {self.name!r} stopped.")

    def _deliveries(self, entry_id: str) -> int:
        # A sync client's reply (see read_new): a dict per pending entry.
        pending = cast(
            "list[dict[str, Any]]",
            self.client.xpending_range(
                self.stream, self.group, min=entry_id, max=entry_id, count=1
            ),
        )
        return int(pending[0]["times_delivered"]) if pending else 0


def react(fields: dict[str, str], facts: dict[str, str]) -> tuple[dict[str, str], str | None]:
    """What an appointment event changes in its facts, and what to say about its reminder.
    `reminder` holds the time a reminder is due for, empty when there is none."""
    appointment, data = fields["stream_id"], json.loads(fields["data"])
    reminder = facts.get("reminder", "")
    match fields["event_type"]:
        case "AppointmentCreated":
            return {"patient_id": data["patient_id"], "starts_at": data["starts_at"]}, None
        case "AppointmentConfirmed":
            line = (
                f"appointment reminder to send: patient {facts['patient_id']}, "
                f"appointment {appointment} at {facts['starts_at']}"
            )
            return {"reminder": facts["starts_at"]}, line
        case "AppointmentRescheduled":
            # A move the patient is to confirm waits for that confirmation, and so does
            # its reminder; a move agreed with the patient takes its reminder along.
            if reminder and not data.get("awaits_confirmation", True):
                line = (
                    f"appointment reminder moved: appointment {appointment} from {reminder} "
                    f"to {data['starts_at']}"
                )
                return {"starts_at": data["starts_at"], "reminder": data["starts_at"]}, line
            line = reminder and (
                f"appointment reminder moved: appointment {appointment} from {reminder} to "
                f"{data['starts_at']}, to send once it is confirmed again"
            )
            return {"starts_at": data["starts_at"], "reminder": ""}, line or None
        case "AppointmentCancelled":
            line = reminder and (
                f"appointment reminder withdrawn: appointment {appointment} was cancelled "
                f"({data['reason']})"
            )
            return {"reminder": ""}, line or None
        case "AppointmentCancellationUndone":
            # A cancellation taken back: a confirmed appointment is expected again, and so
            # is its reminder (the other undos happen on the visit's day: nothing to send).
            if data["status"] != "confirmed":
                return {"reminder": ""}, None
            line = (
                f"appointment reminder to send again: patient {facts['patient_id']}, "
                f"appointment {appointment} at {facts['starts_at']}"
            )
            return {"reminder": facts["starts_at"]}, line
        case _:  # checked in, completed, no-show: nothing left to remind of
            return {"reminder": ""}, None
