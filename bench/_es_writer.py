"""The eventsourcing library's side of bench/append.py, imported only when it runs: the
library is in the bench extra, and tests import append.py without it."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

ES_APP_NAME = "BenchClinic"


class Appointment(Aggregate):
    """The eventsourcing library's counterpart of our appointment: one Created event."""

    @event("Created")
    def __init__(
        self, patient_id: UUID, doctor_id: UUID, starts_at: datetime, ends_at: datetime, title: str
    ) -> None:
        self.patient_id = patient_id
        self.doctor_id = doctor_id
        self.starts_at = starts_at
        self.ends_at = ends_at
        self.title = title


class BenchClinic(Application[UUID]):
    name = ES_APP_NAME
