"""Waiting for projections, with a bound: the store's read order holds events back while any
transaction on the server is open (another test worker's), so a single run may stop short."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from app.projections.projector import Projector, statuses

T = TypeVar("T")


def wait_until(condition: Callable[[], T], *, timeout: float, what: str) -> T:
    """Poll `condition` until it returns something true, or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


def everything_projected(projector: Projector) -> bool:
    return all(status.events_behind == 0 for status in statuses(projector))


def catch_up(projector: Projector, timeout: float = 20) -> None:
    """Run every projection here until none is behind the store."""

    def done() -> bool:
        projector.run_all()
        return everything_projected(projector)

    wait_until(done, timeout=timeout, what="the projections to catch up")
