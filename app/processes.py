"""What runs in a rebuild process of `flask projections rebuild --all` (app.ops.parallel):
it builds the app as the command's own process did, then rebuilds the projections it is
given, one at a time.

Here, at the composition root beside app.tasks, not in app.ops: building the app imports
every layer, which the operations code below the web must not (a contract in
pyproject.toml). The command finds these functions through the app (create_app registers
them), never by import.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Mapping
from typing import Any

from app.ops.parallel import Rebuilt
from app.projections import Maintenance

# This process's maintenance and progress queue, set once by `start`.
_MAINTENANCE: Maintenance | None = None
_PROGRESS: Any = None


def start(
    config: Mapping[str, Any] | None, cache_rows: int, chunk: int | None, updates: Any
) -> None:
    """Build the app (from the environment, with `config` on top) and keep its maintenance."""
    from app import create_app
    from app.extensions import services

    global _MAINTENANCE, _PROGRESS
    app = create_app(dict(config) if config is not None else None)
    _MAINTENANCE = services(app).maintenance
    _MAINTENANCE.cache_rows = cache_rows
    if chunk is not None:
        _MAINTENANCE.chunk = chunk
    _PROGRESS = updates


def rebuild(name: str) -> Rebuilt:
    """Rebuild one projection here; its events, seconds and this process's peak memory."""
    assert _MAINTENANCE is not None, "start() runs first, as the pool's initializer"
    started = time.perf_counter()
    replay = _MAINTENANCE.rebuild(name, progress=_PROGRESS.put)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return Rebuilt(name, replay.events, time.perf_counter() - started, peak)
