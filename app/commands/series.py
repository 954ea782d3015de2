"""Booking a series: the plan through the bus, then each visit as a booking of its own.

A series is not all-or-nothing: a visit whose time is taken, or falls in an absence or a
closure, is refused as a single booking would be, and the others are booked. Each visit
runs through the same bus, guard and idempotency as a single booking, under a command id
worked out from the series command's, so a form sent twice books every visit once and the
second answer is the first one again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from app.domain.errors import DomainError, ForbiddenError
from app.domain.series import step_id, visit_id
from app.domain.staff import Principal

from . import commands as c
from .bus import CommandBus, CommandResult
from .handlers import series_visits


@dataclass(frozen=True)
class VisitOutcome:
    """What happened to one planned visit: booked (`appointment_id`), refused (`refusal`),
    or left out by the desk (or on a day its time does not exist)."""

    occurrence: int
    starts_at: datetime | None
    appointment_id: UUID | None = None
    refusal: DomainError | None = None

    @property
    def booked(self) -> bool:
        return self.appointment_id is not None


@dataclass(frozen=True)
class SeriesOutcome:
    series: CommandResult
    visits: list[VisitOutcome]

    @property
    def booked(self) -> list[VisitOutcome]:
        return [visit for visit in self.visits if visit.booked]


def book_series(
    bus: CommandBus, command: c.BookSeries, principal: Principal | None
) -> SeriesOutcome:
    """Record the plan, then book its visits in order; refusals of the plan itself (bad
    input, an unknown patient) raise before anything is written."""
    planned = bus.handle(command, principal)
    kept, left = series_visits(command, bus.tz)
    outcomes = [VisitOutcome(visit.occurrence, visit.starts_at) for visit in left]
    for visit in kept:
        assert visit.starts_at is not None
        booking = c.CreateAppointment(
            command_id=step_id(command.command_id, f"visit:{visit.occurrence}"),
            correlation_id=str(command.command_id),
            appointment_id=visit_id(command.series_id, visit.occurrence),
            patient_id=command.patient_id,
            doctor_id=command.doctor_id,
            starts_at=visit.starts_at,
            duration_minutes=command.duration_minutes,
            title=command.title,
            confirmed=command.confirmed,
            visit_type_id=command.visit_type_id,
            series_id=command.series_id,
            occurrence=visit.occurrence,
        )
        try:
            result = bus.handle(booking, principal)
        except ForbiddenError:
            raise
        except DomainError as exc:
            outcomes.append(VisitOutcome(visit.occurrence, visit.starts_at, None, exc))
            continue
        outcomes.append(VisitOutcome(visit.occurrence, visit.starts_at, result.stream_id))
    outcomes.sort(key=lambda outcome: outcome.occurrence)
    return SeriesOutcome(planned, outcomes)
