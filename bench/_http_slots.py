"""What the load sends: detail paths of real appointments, and booking forms for free slots."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import _pg
import psycopg

TZ = ZoneInfo("Europe/Paris")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def sample_paths(url: str, count: int = 5000) -> list[str]:
    """Detail paths of appointments drawn at random from the read model."""
    with psycopg.connect(_pg.conninfo(url), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT appointment_id FROM rm_appointments ORDER BY random() LIMIT %s", (count,)
        ).fetchall()
    return [f"/appointments/{row[0]}" for row in rows]


class Slots:
    """Free bookable slots, a fresh one per call of `take`, interleaved across doctors.

    Each doctor's slots start the day after their latest reservation (and at least two days
    from now), so they are free now and stay free: a later run starts after this one's.
    """

    def __init__(self, url: str) -> None:
        with psycopg.connect(_pg.conninfo(url), autocommit=True) as conn:
            doctors = conn.execute(
                "SELECT d.doctor_id, d.slot_minutes, d.hours, max(r.ends_at) FROM rm_doctors d "
                "LEFT JOIN reservations r ON r.doctor_id = d.doctor_id "
                "WHERE d.hours IS NOT NULL GROUP BY d.doctor_id ORDER BY d.doctor_id"
            ).fetchall()
            self.patients = [
                str(row[0])
                for row in conn.execute(
                    "SELECT patient_id FROM rm_patients ORDER BY random() LIMIT 2000"
                )
            ]
        if not doctors or not self.patients:
            sys.exit("No doctors with working hours, or no patients: seed the database first.")
        earliest = datetime.now(TZ).date() + timedelta(days=2)
        self._doctors = [
            _doctor_slots(str(doctor_id), minutes, hours, _start_day(latest, earliest))
            for doctor_id, minutes, hours, latest in doctors
        ]
        self._by_doctor = {
            str(row[0]): slots for row, slots in zip(doctors, self._doctors, strict=True)
        }
        self._count = 0

    def take(self) -> dict[str, str]:
        """The form of one booking into a free slot."""
        doctor = self._doctors[self._count % len(self._doctors)]
        doctor_id, starts_at, minutes = next(doctor)
        patient = self.patients[self._count % len(self.patients)]
        self._count += 1
        return {
            "patient_id": patient,
            "doctor_id": doctor_id,
            "starts_at": starts_at.strftime("%Y-%m-%dT%H:%M"),
            "duration_minutes": str(minutes),
            "title": "Benchmark booking",
            "command_id": str(uuid.uuid4()),
        }

    def take_for(self, doctor_id: str) -> dict[str, str]:
        """The next free slot of one doctor, as a form's fields (for a move)."""
        _, starts_at, minutes = next(self._by_doctor[doctor_id])
        return {"starts_at": starts_at.strftime("%Y-%m-%dT%H:%M"), "duration_minutes": str(minutes)}


def _start_day(latest: datetime | None, earliest: date) -> date:
    if latest is None:
        return earliest
    return max(earliest, latest.astimezone(TZ).date() + timedelta(days=1))


def _doctor_slots(
    doctor_id: str, minutes: int, hours: dict, day: date
) -> Iterator[tuple[str, datetime, int]]:
    """Every slot of the doctor's week, day after day, as clinic-local wall-clock times."""
    length = timedelta(minutes=minutes)
    while True:
        for start, end in hours.get(WEEKDAYS[day.weekday()], []):
            moment = datetime.combine(day, _clock(start))
            close = datetime.combine(day, _clock(end))
            while moment + length <= close:
                yield doctor_id, moment, minutes
                moment += length
        day += timedelta(days=1)


def _clock(text: str) -> clock_time:
    return datetime.strptime(text, "%H:%M").time()


def form_bodies(slots: Slots, count: int, token: str | None) -> list[str]:
    """`count` booking forms, URL-encoded, each for its own free slot."""
    extra = {"csrf_token": token} if token else {}
    return [urlencode({**slots.take(), **extra}) for _ in range(count)]
