"""Who a doctor's patient is: seen by them (checked in or completed) within the period, or
expected by them (pending or confirmed, today or later). Queries on SQLite and PostgreSQL;
the pages a doctor opens on PostgreSQL, through real sign-in."""

from __future__ import annotations

from uuid import UUID

import pytest

from app.commands import (
    CancelAppointment,
    CheckInAppointment,
    CompleteAppointment,
    ConfirmAppointment,
    MarkNoShow,
    RegisterDoctor,
    SetWorkingHours,
)
from app.config import ConfigurationError, Settings
from app.queries.appointments import is_patient_of

from ..clinic import WEEKDAYS, Clinic, open_clinic
from ..conftest import CLINIC_TZ
from .projecting import catch_up
from .webclient import Staff, page_text

MONTHS = 24
NOW = "2027-01-11 08:00"  # the clock fixture's Monday


class Visits:
    """Appointments made at the time they happened, on the test's clock."""

    def __init__(self, services, clinic: Clinic, clock) -> None:  # type: ignore[no-untyped-def]
        self.services, self.clinic, self.clock = services, clinic, clock

    def book(self, starts: str, patient: int) -> UUID:
        self.clock.set_local(f"{starts[:10]} 08:00")
        return self.clinic.book(starts, patient=patient)

    def seen(self, starts: str, patient: int) -> UUID:
        """A visit that took place: booked, confirmed, checked in and completed."""
        appointment = self.book(starts, patient)
        bus = self.services.bus
        bus.handle(ConfirmAppointment(appointment_id=appointment))
        self.clock.set_local(starts)
        bus.handle(CheckInAppointment(appointment_id=appointment))
        bus.handle(CompleteAppointment(appointment_id=appointment))
        return appointment

    def cancelled(self, starts: str, patient: int) -> UUID:
        appointment = self.book(starts, patient)
        self.services.bus.handle(CancelAppointment(appointment_id=appointment, reason="ill"))
        return appointment

    def missed(self, starts: str, patient: int) -> UUID:
        appointment = self.book(starts, patient)
        self.services.bus.handle(ConfirmAppointment(appointment_id=appointment))
        self.clock.set_local(starts)
        self.clock.advance(minutes=20)
        self.services.bus.handle(MarkNoShow(appointment_id=appointment))
        return appointment

    def confirmed(self, starts: str, patient: int) -> UUID:
        appointment = self.book(starts, patient)
        self.services.bus.handle(ConfirmAppointment(appointment_id=appointment))
        return appointment

    def patient_of_doctor(self, patient: int, doctor: UUID | None = None) -> bool:
        catch_up(self.services.projector)
        return is_patient_of(
            self.services.read_engine,
            self.clinic.patient_ids[patient],
            doctor or self.clinic.doctor_id,
            now=self.clock(),
            tz=CLINIC_TZ,
            months=MONTHS,
        )


@pytest.fixture
def visits(services, clock) -> Visits:  # type: ignore[no-untyped-def]
    clock.set_local("2024-01-01 08:00")
    made = Visits(services, open_clinic(services.bus, patients=8), clock)
    yield made
    clock.set_local(NOW)


def test_a_cancelled_booking_alone_makes_no_patient(visits):
    visits.cancelled("2027-01-20 10:00", patient=0)
    visits.clock.set_local(NOW)
    assert not visits.patient_of_doctor(0)


def test_a_no_show_alone_makes_no_patient(visits):
    visits.missed("2026-12-07 10:00", patient=0)
    visits.clock.set_local(NOW)
    assert not visits.patient_of_doctor(0)


def test_a_visit_within_the_period_makes_a_patient(visits):
    visits.seen("2026-10-05 10:00", patient=0)
    visits.clock.set_local(NOW)
    assert visits.patient_of_doctor(0)


def test_a_visit_before_the_period_no_longer_does(visits):
    visits.seen("2024-12-02 10:00", patient=0)  # 25 months before NOW
    visits.seen("2025-01-13 10:00", patient=1)  # 24 months less two days
    visits.clock.set_local(NOW)
    assert not visits.patient_of_doctor(0)
    assert visits.patient_of_doctor(1)


def test_an_upcoming_or_todays_appointment_makes_a_patient(visits):
    visits.confirmed("2027-01-20 10:00", patient=0)
    visits.book("2027-01-11 09:00", patient=1)  # pending, later today
    visits.clock.set_local("2027-01-11 17:00")  # today, after its time, not yet marked
    assert visits.patient_of_doctor(0) and visits.patient_of_doctor(1)


def test_a_pending_appointment_from_a_past_day_does_not(visits):
    visits.book("2027-01-04 10:00", patient=0)  # never confirmed nor marked
    visits.clock.set_local(NOW)
    assert not visits.patient_of_doctor(0)


def test_a_patient_of_one_doctor_is_not_therefore_anothers(visits):
    bus = visits.services.bus
    other = bus.handle(RegisterDoctor(full_name="Dr Lee", specialty="Dermatology")).stream_id
    bus.handle(SetWorkingHours(doctor_id=other, hours=WEEKDAYS, slot_minutes=15))
    visits.seen("2026-10-05 10:00", patient=0)
    visits.clock.set_local(NOW)
    assert not visits.patient_of_doctor(0, doctor=other)


def test_the_period_is_a_setting_of_whole_months():
    assert Settings.from_env({}).flask_config("/tmp")["DOCTOR_PATIENT_MONTHS"] == 24
    six = Settings.from_env({"DOCTOR_PATIENT_MONTHS": "6"}).flask_config("/tmp")
    assert six["DOCTOR_PATIENT_MONTHS"] == 6
    for bad in ("two years", "0", "1.5"):
        with pytest.raises(ConfigurationError, match="DOCTOR_PATIENT_MONTHS"):
            Settings.from_env({"DOCTOR_PATIENT_MONTHS": bad})


# -- the pages --


@pytest.fixture
def pg_visits(clocked_app_services, clock):  # type: ignore[no-untyped-def]
    services = clocked_app_services
    clock.set_local("2024-01-01 08:00")
    return Visits(services, open_clinic(services.bus, patients=3), clock)


def _hidden(response) -> bool:  # type: ignore[no-untyped-def]
    # 403 or 404: another change answers records kept from a doctor as unknown (404).
    return response.status_code in (403, 404)


def test_a_doctor_opens_the_pages_of_their_patients_and_not_of_others(pg_app, pg_visits):
    bus = pg_visits.services.bus
    other = bus.handle(RegisterDoctor(full_name="Dr Lee", specialty="Dermatology")).stream_id
    bus.handle(SetWorkingHours(doctor_id=other, hours=WEEKDAYS, slot_minutes=15))
    elsewhere = Clinic(bus, other, pg_visits.clinic.patient_ids)
    pg_visits.seen("2026-10-05 10:00", patient=0)  # a recent visit
    pg_visits.cancelled("2027-01-20 10:00", patient=1)  # only a cancelled booking
    pg_visits.seen("2024-12-02 10:00", patient=2)  # a visit long ago
    pg_visits.clock.set_local(NOW)
    # Each patient also sees Dr Lee next week: the doctor reads it only for their patient.
    dr_lee = {n: elsewhere.book(f"2027-01-18 {n + 9:02}:00", patient=n) for n in range(3)}
    catch_up(pg_visits.services.projector)
    doctor = Staff(pg_app, "doctor", pg_visits.clinic.doctor_id)
    patients = pg_visits.clinic.patient_ids

    page = doctor.get(f"/patients/{patients[0]}")
    assert page.status_code == 200 and "Patient 0" in page_text(page)
    assert doctor.get(f"/appointments/{dr_lee[0]}").status_code == 200
    for n in (1, 2):
        assert _hidden(doctor.get(f"/patients/{patients[n]}")), n
        assert _hidden(doctor.get(f"/appointments/{dr_lee[n]}")), n
