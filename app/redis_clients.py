"""Redis clients that fail fast. Their callers decide what a Redis that is away means (a page
reads the database, a probe says "unreachable", the relay backs off and tries again), so
the client itself neither waits long nor retries on its own."""

from __future__ import annotations

from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry


def fail_fast(
    url: str,
    *,
    timeout: float,
    connect_timeout: float | None = None,
    retries: int = 0,
    **options: Any,
) -> redis.Redis:
    """A client giving up after `timeout` seconds (`connect_timeout` to connect, by default
    the same), with `retries` immediate retries; `options` go to redis-py."""
    return redis.Redis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=connect_timeout or timeout,
        retry=Retry(NoBackoff(), retries),
        **options,
    )
