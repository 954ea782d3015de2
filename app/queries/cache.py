"""The read cache: cache-aside in Redis for the pages staff open most (an appointment's
detail, a doctor's agenda, Today's counters), switched on when REDIS_URL is set.

A page reads its entry; on a miss it reads the read model and stores what it read. The
projector makes entries stale by tag (`("appointment", id)`, `("agenda", doctor, day)`,
`("today", day, doctor)`; see app/projections/appointments.py) in two steps around each
commit, through a generation number per entry kept in Redis:

* `begin` (before the commit) moves the entry's generation to the next odd number. An entry
  is stored with the generation it was read under and served only while that generation is
  current, so every entry stored before is dead; and nothing is stored under an odd
  generation, so a page that reads the old rows while the commit is under way cannot put
  them back.
* `end` (after the commit) moves it to the next even number: entries may be stored again,
  and what a page reads now is the committed rows.

Storing is a script that checks, atomically, that the generation is still the one read
before the database was. So an entry is never older than the read model: by the time a
commit can be seen, its `begin` has killed every earlier entry. One projection owns each
tag (the appointments projection; the timeline projection its `("timeline", id)`), so two
batches never bracket the same entry at once.
A global epoch does the same for every entry at once (a rebuild's swap).

If `begin` cannot reach Redis, the batch is rolled back and retried (the projector treats it
as a lost connection): a commit the cache does not know of would leave it stale. Pages, on
the other hand, never wait for Redis: an error sends them to the database, logs a warning,
and keeps them off the cache for a few seconds so that a dead Redis costs no timeouts.
Generation keys (and the epoch) outlive the entries stored under them (a store renews their
life), so a generation that expires and starts again from nothing cannot revive an old
entry; and one left odd by a failed `end` comes back to life no later than that.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable, Iterable
from datetime import date, timedelta
from typing import TypeVar, cast

import redis

from app import metrics
from app.projections.projector import EVERYTHING, InvalidationError
from app.projections.view import Tag
from app.redis_clients import fail_fast

log = logging.getLogger("rendezvous.cache")

T = TypeVar("T")

PAUSE_SECONDS = 10.0  # pages skip the cache this long after it failed them
TIMEOUT_SECONDS = 0.25  # a cache slower than this is worse than the database

# Moves each generation in KEYS to the next number of the parity ARGV[1] (1: odd, "being
# changed"; 0: even, "may be stored"), to live ARGV[2] seconds.
_BUMP = """
for _, key in ipairs(KEYS) do
  local generation = tonumber(redis.call('GET', key) or '0') + 1
  if generation % 2 ~= tonumber(ARGV[1]) then generation = generation + 1 end
  redis.call('SET', key, generation, 'EX', ARGV[2])
end
return #KEYS
"""

# Stores ARGV[3] under KEYS[3] for ARGV[4] seconds if the epoch (KEYS[1]) and the entry's
# generation (KEYS[2]) are still ARGV[1] and ARGV[2], and keeps both alive longer than the
# entry (ARGV[5] seconds).
_STORE = """
if (redis.call('GET', KEYS[1]) or '0') ~= ARGV[1] then return 0 end
if (redis.call('GET', KEYS[2]) or '0') ~= ARGV[2] then return 0 end
redis.call('SET', KEYS[3], ARGV[3], 'EX', ARGV[4])
redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[5])
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[5])
return 1
"""


def connect(url: str) -> redis.Redis:
    """A client that fails fast: one try, short timeouts."""
    return fail_fast(url, timeout=TIMEOUT_SECONDS)


def _part(value: Hashable) -> str:
    if value is None:  # the clinic's, not one doctor's
        return "all"
    return value.isoformat() if isinstance(value, date) else str(value)


class ReadCache:
    """Entries by key, with the generations that make them stale (module docstring)."""

    def __init__(self, client: redis.Redis, *, prefix: str, ttl: int, shape: str = "") -> None:
        self.client, self.prefix, self.ttl = client, prefix, ttl
        # Entries are stored under the shape of the rows they hold (see app.queries.reads),
        # so that code with another shape, during a rolling deploy, never reads them.
        self.shape = shape
        self._epoch = f"{prefix}:cache:epoch"
        self._bump = client.register_script(_BUMP)
        self._store = client.register_script(_STORE)
        self._paused_until = 0.0
        self._lock = threading.Lock()

    # -- keys --

    def key(self, kind: str, *parts: Hashable) -> str:
        """An entry's name, e.g. key("agenda", doctor_id, day)."""
        return ":".join([kind, *(_part(part) for part in parts)])

    def keys_of(self, tag: Tag) -> list[str]:
        """The entries a projection's tag feeds."""
        kind, *parts = tag
        if kind == "agenda":
            doctor, day = parts[0], cast(date, parts[1])
            monday = day - timedelta(days=day.weekday())
            return [self.key("agenda", doctor, day), self.key("week", doctor, monday)]
        return [self.key(str(kind), *parts)]

    def _generation(self, key: str) -> str:
        return f"{self.prefix}:cache:gen:{key}"

    def _value(self, key: str) -> str:
        return f"{self.prefix}:cache:value:{self.shape}:{key}"

    # -- pages --

    def fetch(
        self,
        repository: str,
        key: str,
        load: Callable[[], T],
        encode: Callable[[T], bytes],
        decode: Callable[[bytes], T],
    ) -> T:
        """The entry `key` if it is current, else `load()` (stored for the next reader).
        Never raises for the cache's sake: without Redis, it is `load()`."""
        if time.monotonic() < self._paused_until:
            metrics.CACHE_MISSES.labels(repository).inc()
            return load()
        try:
            # A synchronous client: mget answers a list, never an awaitable.
            epoch, generation, stored = cast(
                list[bytes | None],
                self.client.mget(self._epoch, self._generation(key), self._value(key)),
            )
        except redis.RedisError as exc:
            self._failed("read", exc)
            metrics.CACHE_MISSES.labels(repository).inc()
            return load()
        stamp = b"%s|%s|" % (epoch or b"0", generation or b"0")
        if stored is not None and stored.startswith(stamp):
            try:
                found = decode(stored[len(stamp) :])
            except Exception:  # an entry this code cannot read is an entry it does not have
                log.warning(
                    "Read cache: unreadable entry %s; reading the database.", key, exc_info=True
                )
            else:
                metrics.CACHE_HITS.labels(repository).inc()
                return found
        metrics.CACHE_MISSES.labels(repository).inc()
        value = load()
        if value is not None and _even(epoch) and _even(generation):
            self._keep(key, epoch or b"0", generation or b"0", stamp + encode(value))
        return value

    def _keep(self, key: str, epoch: bytes, generation: bytes, entry: bytes) -> None:
        try:
            self._store(
                keys=[self._epoch, self._generation(key), self._value(key)],
                args=[epoch, generation, entry, self.ttl, self.ttl + 60],
            )
        except redis.RedisError as exc:
            self._failed("store", exc)

    def _failed(self, operation: str, exc: Exception) -> None:
        metrics.CACHE_ERRORS.labels(operation).inc()
        with self._lock:
            if time.monotonic() < self._paused_until:
                return  # warned already
            self._paused_until = time.monotonic() + PAUSE_SECONDS
        log.warning(
            "Read cache unavailable (%s failed: %r); pages read the database for the next %.0f s.",
            operation,
            exc,
            PAUSE_SECONDS,
        )

    # -- the projector (app.projections.projector.Invalidation) --

    def begin(self, tags: set[Tag]) -> None:
        """Before a commit: kill the tags' entries and stop them being stored."""
        try:
            self._move(tags, odd=True)
        except redis.RedisError as exc:
            metrics.CACHE_ERRORS.labels("invalidate").inc()
            raise InvalidationError(f"Could not invalidate the read cache: {exc!r}") from exc

    def end(self, tags: set[Tag]) -> None:
        """After the commit (or the rollback): let the tags' entries be stored again."""
        try:
            self._move(tags, odd=False, drop=True)
        except redis.RedisError as exc:
            # Safe: the generations stay odd, so the entries are not stored (until the
            # generations expire, after every entry stored under them).
            metrics.CACHE_ERRORS.labels("invalidate").inc()
            log.warning("Read cache: could not reopen %d entries: %r", len(tags), exc)

    def _move(self, tags: Iterable[Tag], *, odd: bool, drop: bool = False) -> None:
        keys = {key for tag in tags if tag != EVERYTHING for key in self.keys_of(tag)}
        parity = 1 if odd else 0
        with self.client.pipeline(transaction=False) as pipe:
            if keys:
                generations = [self._generation(key) for key in sorted(keys)]
                self._bump(keys=generations, args=[parity, self.ttl + 60], client=pipe)
                if drop:  # dead entries: free the memory now rather than at expiry
                    pipe.delete(*(self._value(key) for key in keys))
            if EVERYTHING in tags:
                self._bump(keys=[self._epoch], args=[parity, self.ttl + 60], client=pipe)
            pipe.execute()


def _even(number: bytes | None) -> bool:
    return number is None or int(number) % 2 == 0
