"""Fixtures for unit tests: the command side in memory, and a small clinic on it."""

from __future__ import annotations

import pytest

from ..clinic import Clinic, open_clinic
from ..conftest import CLINIC_TZ, Clock
from .memory import MemoryServices, memory_services


@pytest.fixture
def services(clock: Clock) -> MemoryServices:
    """The real bus and handlers on an in-memory store, on the test clock: the unit
    counterpart of tests/integration's `services`."""
    return memory_services(clock, CLINIC_TZ)


@pytest.fixture
def clinic(services: MemoryServices) -> Clinic:
    """A doctor with weekday hours and three patients, registered through the bus."""
    return open_clinic(services.bus)
