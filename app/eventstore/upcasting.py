"""Upcasters turn a stored payload of an old schema version into the current shape on read."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from .errors import UnknownEventError

Payload = dict[str, Any]
Upcaster = Callable[[Payload], Payload]


class UpcasterRegistry:
    """Chains of one-step upcasters, keyed by (event type, version they upgrade from)."""

    def __init__(self) -> None:
        self._steps: dict[tuple[str, int], Upcaster] = {}

    def register(self, event_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        """Decorate a function that lifts `event_type` from `from_version` to the next."""

        def decorate(fn: Upcaster) -> Upcaster:
            self._steps[(event_type, from_version)] = fn
            return fn

        return decorate

    def upcast(self, event_type: str, version: int, data: Payload, target: int) -> Payload:
        """Apply each step from `version` up to `target`."""
        while version < target:
            step = self._steps.get((event_type, version))
            if step is None:
                raise UnknownEventError(
                    f"no upcaster for {event_type} from schema version {version} to {target}"
                )
            data = step(dict(data))
            version += 1
        if version > target:
            raise UnknownEventError(
                f"{event_type} has schema version {version}, newer than this code ({target})"
            )
        return data


upcasters = UpcasterRegistry()


@upcasters.register("AppointmentCreated", 1)
def _appointment_created_duration_to_end(data: Payload) -> Payload:
    """Version 1 stored `duration_minutes`; version 2 stores the end time."""
    starts_at = datetime.fromisoformat(data["starts_at"])
    data["ends_at"] = (starts_at + timedelta(minutes=int(data.pop("duration_minutes")))).isoformat()
    return data


@upcasters.register("AppointmentRescheduled", 1)
def _appointment_rescheduled_doctor_and_confirmation(data: Payload) -> Payload:
    """Version 1 kept the doctor and sent the appointment back to pending, always."""
    data.update(doctor_id=None, previous_doctor_id=None, awaits_confirmation=True)
    return data


@upcasters.register("AppointmentCreated", 2)
def _appointment_created_visit_type(data: Payload) -> Payload:
    """Version 2 had no visit type: bookings before visit types existed had none."""
    data["visit_type_id"] = None
    return data


@upcasters.register("AppointmentCreated", 3)
def _appointment_created_series(data: Payload) -> Payload:
    """Version 3 had no series: every booking before series existed was a single one."""
    data.update(series_id=None, occurrence=None)
    return data
