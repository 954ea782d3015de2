"""Rebuilds asked for on the operations page: one row each, from the request to the end,
with the progress that any web process shows while a worker (or, without a broker, a thread
of a web process) carries it out."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.domain.clinic_time import to_utc
from app.projections.checkpoints import last_line
from app.projections.projector import write_transaction
from app.projections.tables import REBUILD_ACTIVE_STATES, rebuilds

log = logging.getLogger("rendezvous.ops")

ACTIVE = REBUILD_ACTIVE_STATES
# Whoever carries out a rebuild writes its row at least this often...
HEARTBEAT_SECONDS = 5.0
# ...and its progress at most this often (the page polls every second).
PROGRESS_SECONDS = 0.25
# A queued or running row this long without a sign of life was abandoned (the worker or web
# process died, or the task was lost): it no longer holds back a new request.
STALE_AFTER = timedelta(seconds=60)


class RebuildRefusedError(Exception):
    """A rebuild was not queued: one of the same projection is queued or running already."""

    def __init__(self, name: str, active: Rebuild | None) -> None:
        self.name, self.active = name, active
        who = f", asked for by {active.requested_by}" if active else ""
        state = active.state if active else "queued"
        super().__init__(f"A rebuild of {name} is {state} already{who}; wait for it to finish.")


@dataclass(frozen=True)
class Rebuild:
    """One rebuild request, as read."""

    id: int
    projection: str
    requested_by: str
    requested_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    updated_at: datetime
    total: int
    done: int
    state: str  # queued | running | done | failed
    error: str | None

    @classmethod
    def from_row(cls, row: Any) -> Rebuild:
        values = dict(row._mapping)
        for name in ("requested_at", "started_at", "finished_at", "updated_at"):
            if values[name] is not None:
                values[name] = to_utc(values[name])
        return cls(**values)

    @property
    def active(self) -> bool:
        return self.state in ACTIVE

    @property
    def percent(self) -> int:
        if self.state == "done":
            return 100
        return min(self.done * 100 // self.total, 99) if self.total else 0

    @property
    def error_line(self) -> str:
        return last_line(self.error)

    def stale(self, now: datetime) -> bool:
        return self.active and now - self.updated_at > STALE_AFTER


def _update(engine: Engine, rebuild_id: int, states: tuple[str, ...], **values: Any) -> bool:
    query = rebuilds.update().where(rebuilds.c.id == rebuild_id, rebuilds.c.state.in_(states))
    with write_transaction(engine) as conn:
        return conn.execute(query.values(**values)).rowcount == 1


def request(engine: Engine, name: str, by: str, now: datetime) -> Rebuild:
    """Queue a rebuild of `name`, unless one is queued or running (RebuildRefusedError). The
    partial unique index decides between two requests at once; an abandoned row gives way."""
    abandoned = rebuilds.update().where(
        rebuilds.c.projection == name,
        rebuilds.c.state.in_(ACTIVE),
        rebuilds.c.updated_at < now - STALE_AFTER,
    )
    row = {"projection": name, "requested_by": by, "requested_at": now, "updated_at": now}
    try:
        with write_transaction(engine) as conn:
            conn.execute(
                abandoned.values(
                    state="failed",
                    finished_at=now,
                    error=f"Abandoned: no sign of progress for {STALE_AFTER.seconds} s (the "
                    "process carrying it out stopped, or the task was lost).",
                )
            )
            inserted = conn.execute(
                rebuilds.insert().values(**row, total=0, done=0, state="queued")
            )
            key = inserted.inserted_primary_key
            assert key is not None  # a one-row INSERT always reports its key
            rebuild_id = key[0]
    except sa.exc.IntegrityError:
        raise RebuildRefusedError(name, active(engine, name)) from None
    found = get(engine, rebuild_id)
    assert found is not None
    return found


def claim(engine: Engine, rebuild_id: int, total: int, now: datetime) -> Rebuild | None:
    """Mark a queued rebuild running; None if it is not queued (a duplicate delivery, or
    given up as abandoned meanwhile)."""
    values = {"state": "running", "started_at": now, "updated_at": now, "total": total}
    return get(engine, rebuild_id) if _update(engine, rebuild_id, ("queued",), **values) else None


def progress(engine: Engine, rebuild_id: int, done: int, now: datetime) -> None:
    _update(engine, rebuild_id, ("running",), done=done, updated_at=now)


def finish(engine: Engine, rebuild_id: int, done: int, now: datetime) -> None:
    _update(engine, rebuild_id, ACTIVE, state="done", done=done, finished_at=now, updated_at=now)


def fail(engine: Engine, rebuild_id: int, error: str, now: datetime) -> None:
    _update(
        engine, rebuild_id, ACTIVE, state="failed", error=error, finished_at=now, updated_at=now
    )


def get(engine: Engine, rebuild_id: int) -> Rebuild | None:
    with engine.connect() as conn:
        row = conn.execute(sa.select(rebuilds).where(rebuilds.c.id == rebuild_id)).first()
    return Rebuild.from_row(row) if row is not None else None


def active(engine: Engine, name: str) -> Rebuild | None:
    query = sa.select(rebuilds).where(rebuilds.c.projection == name, rebuilds.c.state.in_(ACTIVE))
    with engine.connect() as conn:
        row = conn.execute(query).first()
    return Rebuild.from_row(row) if row is not None else None


def latest(engine: Engine) -> dict[str, Rebuild]:
    """Each projection's most recent rebuild request."""
    newest = sa.select(sa.func.max(rebuilds.c.id)).group_by(rebuilds.c.projection)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(rebuilds).where(rebuilds.c.id.in_(newest)))
        return {row.projection: Rebuild.from_row(row) for row in rows}


class ProgressReporter:
    """Writes a running rebuild's progress to its row from a thread of its own, at most
    every PROGRESS_SECONDS and at least every HEARTBEAT_SECONDS, so the replay never waits
    for the write (on SQLite it would wait for the replay's own write lock)."""

    def __init__(self, engine: Engine, rebuild_id: int, clock: Callable[[], datetime]) -> None:
        self.engine, self.rebuild_id, self.clock = engine, rebuild_id, clock
        self.done = 0
        self._stopped = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"rebuild-{rebuild_id}-progress", daemon=True
        )

    def add(self, events: int) -> None:
        """Maintenance's progress callback: `events` more replayed."""
        self.done += events

    def __enter__(self) -> ProgressReporter:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stopped.set()
        self._thread.join()

    def _run(self) -> None:
        written, last = -1, time.monotonic()
        while not self._stopped.wait(PROGRESS_SECONDS):
            done = self.done
            if done == written and time.monotonic() - last < HEARTBEAT_SECONDS:
                continue
            try:
                progress(self.engine, self.rebuild_id, done, self.clock())
            except Exception:  # a lost write only delays the page; the rebuild goes on
                log.warning(
                    "Could not record rebuild #%d's progress", self.rebuild_id, exc_info=True
                )
                last = time.monotonic()  # try again at the next heartbeat, not 4 times a second
                continue
            written, last = done, time.monotonic()
