"""The front desk of the appointment pages' tests: an admin signed in on an app whose bus
and projector run on the test clock, and a small clinic to book in."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from flask import Flask
from werkzeug.test import TestResponse

from ..clinic import Clinic, open_clinic
from ..conftest import Clock
from .webclient import Staff

TODAY = "2027-01-11"  # the clock fixture's Monday, 08:00 in the clinic


@dataclass
class Desk:
    staff: Staff
    services: object
    clinic: Clinic

    def events(self) -> int:
        return self.services.store.count()

    def book(self, starts: str = f"{TODAY}T09:00", **fields: str) -> TestResponse:
        """Send the booking form for the clinic's first patient with its doctor."""
        data = {
            "patient_id": str(self.clinic.patient_ids[0]),
            "doctor_id": str(self.clinic.doctor_id),
            "starts_at": starts,
            "duration_minutes": "15",
            "title": "Check-up",
            "command_id": str(uuid.uuid4()),
            **fields,
        }
        return self.staff.post("/appointments", data)


def open_desk(app: Flask, clock: Clock) -> Desk:
    """A desk on `app`, whose bus and projector this puts on `clock` for good: the
    `desk` fixture puts the session's app back on its own clock afterwards."""
    services = app.extensions["rendezvous"]
    services.bus.clock = services.projector.clock = clock
    return Desk(Staff(app), services, open_clinic(services.bus))
