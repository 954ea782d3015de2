"""Rebuilding several projections at once, each in a process of its own, so that a full
rebuild (`flask projections rebuild --all`) uses every core rather than one.

A projection's rebuild is independent of the others' (its own shadow tables, its own lock,
its own swap), so the only thing to share is the machine. Each process builds the app as
the command's own process does (the same settings: `config`, or the environment), replays
one projection at a time, largest first, and reports progress through a queue.
"""

from __future__ import annotations

import multiprocessing
import queue
import resource
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from app.projections import Maintenance

# The app of this rebuild process, made once by `_start`.
_MAINTENANCE: Maintenance | None = None
_PROGRESS: Any = None


@dataclass(frozen=True)
class Rebuilt:
    """One projection's rebuild: events replayed, seconds, and the largest resident set its
    process reached (KiB), for the operator and bench/project.py's memory figure."""

    name: str
    events: int
    seconds: float
    peak_kib: int


def rebuild_in_processes(
    names: Sequence[str],
    *,
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
        initializer=_start,
        initargs=(
            dict(config) if config is not None else None,
            max(1000, cache_rows // min(processes, len(order))),
            chunk,
            updates,
        ),
    ) as pool:
        pending: set[Future[Rebuilt]] = {pool.submit(_rebuild, name) for name in order}
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


def _start(config: dict[str, Any] | None, cache_rows: int, chunk: int | None, updates: Any) -> None:
    from app import create_app
    from app.extensions import services

    global _MAINTENANCE, _PROGRESS
    app = create_app(config)
    _MAINTENANCE = services(app).maintenance
    _MAINTENANCE.cache_rows = cache_rows
    if chunk is not None:
        _MAINTENANCE.chunk = chunk
    _PROGRESS = updates


def _rebuild(name: str) -> Rebuilt:
    assert _MAINTENANCE is not None
    started = time.perf_counter()
    replay = _MAINTENANCE.rebuild(name, progress=_PROGRESS.put)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return Rebuilt(name, replay.events, time.perf_counter() - started, peak)
