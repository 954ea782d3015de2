"""The read side's writer: projections turn committed events into read-model tables."""

from .appointments import appointments
from .directory import doctors, patients
from .maintenance import Maintenance, MaintenanceError, VerifyReport
from .projection import Projection
from .projector import Projector, RunReport

# In the order a catch-up runs them.
PROJECTIONS: tuple[Projection, ...] = (patients, doctors, appointments)

__all__ = [
    "PROJECTIONS",
    "Maintenance",
    "MaintenanceError",
    "Projection",
    "Projector",
    "RunReport",
    "VerifyReport",
]
