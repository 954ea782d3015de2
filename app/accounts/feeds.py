"""Doctors' calendar subscription links: a random secret per doctor, kept only as its
SHA-256, checked in constant time. Issuing a link is a staff action recorded on its row
(who, when), not a domain event: a secret has no place in the immutable event log."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from .tables import calendar_feeds

# A token is 43 URL-safe characters; anything much longer is not one of ours, and is
# refused before hashing so an address cannot make the server hash megabytes.
MAX_TOKEN = 128
# Compared against when the doctor has no link, so that a miss takes as long either way.
_DECOY = hashlib.sha256(b"no link").hexdigest()


@dataclass(frozen=True)
class FeedLink:
    """That a doctor's link exists, since when and by whom (never the secret)."""

    doctor_id: UUID
    issued_at: datetime
    issued_by: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class CalendarFeeds:
    """The calendar_feeds table of the write database."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime]) -> None:
        self.engine, self.clock = engine, clock

    def link(self, doctor_id: UUID) -> FeedLink | None:
        c = calendar_feeds.c
        query = sa.select(c.doctor_id, c.issued_at, c.issued_by).where(c.doctor_id == doctor_id)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return FeedLink(*row) if row else None

    def issue(self, doctor_id: UUID, *, by: str) -> str:
        """A new secret for the doctor's feed, replacing any earlier one at once. Returned
        once: only its hash is stored."""
        token = secrets.token_urlsafe(32)
        values = {"token_hash": _digest(token), "issued_at": self.clock(), "issued_by": by}
        c = calendar_feeds.c
        with self.engine.begin() as conn:
            replaced = conn.execute(
                calendar_feeds.update().where(c.doctor_id == doctor_id).values(values)
            )
            if replaced.rowcount == 0:
                try:
                    with conn.begin_nested():
                        conn.execute(calendar_feeds.insert().values(doctor_id=doctor_id, **values))
                except sa.exc.IntegrityError:
                    # Another reset inserted first: this later one wins.
                    conn.execute(
                        calendar_feeds.update().where(c.doctor_id == doctor_id).values(values)
                    )
        return token

    def verify(self, doctor_id: UUID, token: str) -> bool:
        """Whether `token` is the doctor's current secret (constant-time comparison)."""
        query = sa.select(calendar_feeds.c.token_hash).where(
            calendar_feeds.c.doctor_id == doctor_id
        )
        with self.engine.connect() as conn:
            stored = conn.execute(query).scalar()
        given = _digest(token[:MAX_TOKEN])
        matches = hmac.compare_digest(given, stored or _DECOY)
        return matches and stored is not None and len(token) <= MAX_TOKEN
