"""The operations page's view of the projections, and the checkpoint operations it offers:
retry and skip do what `flask projections retry|skip` do."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from app.projections import RunReport
from app.projections import checkpoints as cp
from app.projections.projector import TRANSIENT, ProjectionStatus, Projector, statuses

from . import rebuilds, samples
from .rebuilds import Rebuild

# Throughput is measured over this much of the recent past.
THROUGHPUT_WINDOW = timedelta(minutes=5)
# Retry and skip run the projection on from its failed event here, for at most this many
# batches: the request stays short, and the workers (or the next command) do the rest.
RUN_BATCHES = 10


class NothingToSkipError(Exception):
    """The projection has no failed event: there is nothing to skip."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"{name} has no failed event to skip.")


class FailureMovedError(Exception):
    """The projection is failing on another event than the one the operator saw."""

    def __init__(self, name: str, row: cp.CheckpointRow, seen: int) -> None:
        self.name, self.row, self.seen = name, row, seen
        super().__init__(
            f"{name} is now failing on another event ({row.failed_event_type} at "
            f"position {row.failed_position}), not the one at position {seen}: look "
            "at its error before skipping it."
        )


@dataclass(frozen=True)
class Panel:
    """What the page shows of one projection."""

    status: ProjectionStatus
    throughput: float | None  # events per second through the log, lately
    rebuild: Rebuild | None  # the latest one asked for on this page

    @property
    def name(self) -> str:
        return self.status.name

    @property
    def row(self) -> cp.CheckpointRow | None:
        return self.status.row

    @property
    def failed(self) -> bool:
        return self.row is not None and self.row.failed_position is not None

    @property
    def error_line(self) -> str:
        return cp.last_line(self.row.last_error if self.row else None)


def panels(projector: Projector, now: datetime, only: str | None = None) -> list[Panel]:
    """Every projection (or `only` that one): its status, throughput and latest rebuild."""
    recent = samples.since(projector.engine, now - THROUGHPUT_WINDOW)
    latest = rebuilds.latest(projector.engine)
    found = []
    for status in statuses(projector, only):
        position = status.row.position if status.row else 0
        rate = samples.throughput(recent, status.name, now, position)
        found.append(Panel(status, rate, latest.get(status.name)))
    return found


def panel(projector: Projector, name: str, now: datetime) -> Panel:
    """One projection's panel (LookupError for an unknown name); the card polls it every
    second during a rebuild, so only its own backlog is counted."""
    projector.projection(name)
    return panels(projector, now, only=name)[0]


def retry(projector: Projector, name: str, *, max_batches: int | None = RUN_BATCHES) -> RunReport:
    """Let a parked projection try its failed event again (after a fix), and run it on
    (`max_batches` of it: the page's few, or all for the command line)."""
    projector.projection(name)
    with projector.transaction() as conn:
        cp.unpark(conn, name)
    return _run_on(projector, name, max_batches)


def skip(
    projector: Projector,
    name: str,
    position: int | None,
    *,
    max_batches: int | None = RUN_BATCHES,
) -> tuple[cp.CheckpointRow, RunReport]:
    """Pass over the projection's failed event for good (it is recorded), and run it on.
    `position`: the failed event the operator saw; another one now is refused."""
    projection = projector.projection(name)
    projector.ensure(name)
    with projector.transaction() as conn:
        row = cp.lock(conn, projection, wait=True)
        if row is None or row.failed_checkpoint is None:
            raise NothingToSkipError(name)
        if position is not None and row.failed_position != position:
            raise FailureMovedError(name, row, position)
        cp.skip(conn, row, projector.clock())
    return row, _run_on(projector, name, max_batches)


def _run_on(projector: Projector, name: str, max_batches: int | None) -> RunReport:
    """A few batches now, so the admin sees the effect; the operator's change is committed
    already, so a database or cache that does not answer just leaves the rest to the
    workers ("deferred") rather than fail the request."""
    try:
        return projector.run(name, max_batches=max_batches)
    except TRANSIENT:
        return RunReport(name, 0, "deferred")
