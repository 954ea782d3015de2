"""The read side's writer: projections turn committed events into read-model tables."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .maintenance import Maintenance, MaintenanceError, VerifyReport
    from .projection import Projection
    from .projector import Projector, RunReport

    PROJECTIONS: tuple[Projection, ...]


def __getattr__(name: str) -> Any:
    # Loaded on first use, so that a pure helper of this package (keys.search_key) imports
    # without SQLAlchemy or a driver (tests/unit).
    if name == "PROJECTIONS":
        from .appointments import appointments
        from .directory import doctors, patients
        from .timeline import timeline

        # In the order a catch-up runs them.
        found: Any = (patients, doctors, appointments, timeline)
    elif name in ("Maintenance", "MaintenanceError", "VerifyReport"):
        from . import maintenance

        found = getattr(maintenance, name)
    elif name == "Projection":
        from .projection import Projection as found
    elif name in ("Projector", "RunReport"):
        from . import projector

        found = getattr(projector, name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = found  # once found, a plain attribute
    return found


__all__ = [
    "PROJECTIONS",
    "Maintenance",
    "MaintenanceError",
    "Projection",
    "Projector",
    "RunReport",
    "VerifyReport",
]
