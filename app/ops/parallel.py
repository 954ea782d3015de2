"""Rebuilding several projections at once, each in a process of its own, so that a full
rebuild (`flask projections rebuild --all`) uses every core rather than one.

A projection's rebuild is independent of the others' (its own shadow tables, its own lock,
its own swap), so the only thing to share is the machine. Each process builds the app as
the command's own process does and replays one projection at a time, largest first,
reporting progress through a queue; what runs in it (`Workers`) is app.processes, which the
command is given through the app rather than importing it (see there).
"""

from __future__ import annotations

import multiprocessing
import queue
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from app.projections import Projector

# The key under which create_app registers app.processes (a Workers) in app.extensions.
REBUILD_PROCESSES = "rendezvous.rebuild_processes"


@dataclass(frozen=True)
class Rebuilt:
    """One projection's rebuild: events replayed, seconds, and the largest resident set its
    process reached (KiB), for the operator and bench/project.py's memory figure."""

    name: str
    events: int
    seconds: float
    peak_kib: int


@dataclass(frozen=True)
class Workers:
    """What a rebuild process runs: `start(config, cache_rows, chunk, updates)` once, then
    `rebuild(name)` per projection. Module-level functions, so that 'spawn' can send them."""

    start: Callable[..., None]
    rebuild: Callable[[str], Rebuilt]


def rebuild_costs(projector: Projector, names: Sequence[str]) -> dict[str, int]:
    """How dear each projection's rebuild is, to start the dearest first: the event types
    it handles (the timeline and appointments handle most of the log)."""
    return {name: len(projector.projection(name).event_types) for name in names}


def rebuild_in_processes(
    names: Sequence[str],
    *,
    workers: Workers,
    processes: int,
    cost: Mapping[str, int],
    cache_rows: int,
    chunk: int | None = None,
    config: Mapping[str, Any] | None = None,
    progress: Callable[[int], Any] = lambda n: None,
    done: Callable[[Rebuilt], Any] = lambda r: None,
) -> list[Rebuilt]:
    """Rebuild `names` on `processes` processes, the costliest (by `cost`) first. Every
    rebuild is carried to its end; the first failure is raised once all have stopped.

    `cache_rows` is shared among the processes (each keeps its part per table), so that the
    rebuild's memory stays what one process would take."""
    context = multiprocessing.get_context("spawn")  # nothing of this process is shared
    updates = context.Queue()
    order = sorted(names, key=lambda name: -cost.get(name, 0))
    results, failure = [], None
    with ProcessPoolExecutor(
        max_workers=min(processes, len(order)),
        mp_context=context,
        initializer=workers.start,
        initargs=(
            dict(config) if config is not None else None,
            max(1000, cache_rows // min(processes, len(order))),
            chunk,
            updates,
        ),
    ) as pool:
        pending: set[Future[Rebuilt]] = {pool.submit(workers.rebuild, name) for name in order}
        while pending:
            finished, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            _drain(updates, progress)
            for future in finished:
                error = future.exception()
                if error is not None:
                    failure = failure or error
                    continue
                results.append(future.result())
                done(results[-1])
    _drain(updates, progress)
    if failure is not None:
        raise failure
    return results


def _drain(updates: Any, progress: Callable[[int], Any]) -> None:
    while True:
        try:
            progress(updates.get_nowait())
        except queue.Empty:
            return
