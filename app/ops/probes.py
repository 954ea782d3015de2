"""What /readyz asks, and what it and /metrics keep from one request to the next: whether
each database and each Redis answers, and the system figures (app.ops.figures)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

import redis
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.redis_clients import fail_fast

from .figures import SystemFigures

log = logging.getLogger(__name__)


@dataclass
class Probes:
    """What the checks and /metrics reuse from one request to the next, per app."""

    figures: SystemFigures
    redis: dict[str, redis.Redis]  # check name -> a client with short timeouts


def database_problem(engine: Engine) -> str | None:
    """None if the database answers a trivial query, else a short reason. The driver's
    message goes to the log only: it can name hosts and users."""
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1").scalar_one()
    except sa.exc.SQLAlchemyError as exc:
        log.warning("readiness: database %s did not answer: %s", engine.url.database, exc)
        return "unreachable"
    return None


def redis_problem(client: redis.Redis) -> str | None:
    """None if Redis answers PING, else a short reason (the error goes to the log)."""
    try:
        client.ping()
    except redis.RedisError as exc:
        log.warning("readiness: Redis did not answer: %s", exc)
        return "timeout" if isinstance(exc, redis.TimeoutError) else "unreachable"
    return None


def redis_probes(urls: Mapping[str, str | None]) -> dict[str, redis.Redis]:
    """One check per Redis the app uses (`urls`: check name -> URL), once per server URL:
    a URL named twice (the cache's Redis is the broker) is checked under its first name.
    URLs of other kinds (a broker that is not Redis) are not checked."""
    found: dict[str, redis.Redis] = {}
    seen: set[str] = set()
    for name, url in urls.items():
        if url and url not in seen and url.startswith(("redis://", "rediss://", "unix://")):
            seen.add(url)
            # Short timeouts, no retries: a Redis that is away costs a second at most.
            found[name] = fail_fast(url, timeout=1.0)
    return found
