"""Read repositories: what each screen asks of the read models, and history from the store."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.commands import (
    CancelAppointment,
    ConfirmAppointment,
    RegisterPatient,
    RescheduleAppointment,
)
from app.domain.appointment import Status
from app.queries import agenda, directory, history
from app.queries import appointments as q

from ..clinic import local
from .projecting import catch_up

MONDAY = date(2027, 1, 11)


def ids(rows):
    return [row.appointment_id for row in rows]


def test_the_list_narrows_by_status_doctor_patient_days_and_name(services, clinic, clock):
    elodie = services.bus.handle(
        RegisterPatient(full_name="Élodie Durand", date_of_birth="1970-05-06", phone="0611223344")
    ).stream_id
    clinic.patient_ids.append(elodie)
    monday = clinic.book("2027-01-11 09:00")
    confirmed = clinic.book("2027-01-11 10:00", patient=1)
    hers = clinic.book("2027-01-12 09:00", patient=3)
    later = clinic.book("2027-01-18 09:00", patient=0)
    services.bus.handle(ConfirmAppointment(appointment_id=confirmed))
    catch_up(services.projector)
    engine, tz = services.read_engine, services.tz

    def listed(**where):
        return ids(q.list_appointments(engine, q.AppointmentFilter(**where), tz=tz).items)

    assert listed() == [monday, confirmed, hers, later]
    assert listed(statuses=[Status.CONFIRMED]) == [confirmed]
    assert listed(statuses=[Status.PENDING], patient_id=clinic.patient_ids[0]) == [monday, later]
    assert listed(doctor_id=clinic.doctor_id, day_from=MONDAY, day_to=MONDAY) == [monday, confirmed]
    assert listed(day_from=date(2027, 1, 12)) == [hers, later]
    assert listed(text="ELODIE dur") == listed(text="élodie") == [hers]
    assert listed(text="100%") == []  # wildcards are taken literally
    assert listed(doctor_id=clinic.patient_ids[0]) == []


def test_keyset_pages_walk_the_list_once_in_order(services, clinic):
    booked = [
        clinic.book(f"2027-01-11 {hour:02}:00", 15, patient=hour % 3) for hour in range(9, 12)
    ]
    booked += [clinic.book(f"2027-01-11 {hour:02}:00", 15) for hour in range(14, 18)]
    catch_up(services.projector)

    seen, cursor = [], None
    while True:
        page = q.list_appointments(
            services.read_engine, q.AppointmentFilter(), tz=services.tz, after=cursor, limit=3
        )
        seen.append(ids(page.items))
        if page.next_cursor is None:
            break
        cursor = page.next_cursor

    assert [len(p) for p in seen] == [3, 3, 1]
    assert [a for page in seen for a in page] == booked
    with pytest.raises(q.BadCursorError):
        q.list_appointments(services.read_engine, q.AppointmentFilter(), tz=services.tz, after="x!")


def test_detail_counters_and_a_patients_upcoming_and_past_visits(services, clinic, clock):
    first = clinic.book("2027-01-11 09:00")
    second = clinic.book("2027-01-12 09:00")
    services.bus.handle(CancelAppointment(appointment_id=second, reason="Travelling"))
    catch_up(services.projector)

    row = q.appointment_detail(services.read_engine, second)
    assert (row.status, row.cancel_reason, row.doctor_specialty) == (
        Status.CANCELLED,
        "Travelling",
        "General practice",
    )
    assert q.appointment_detail(services.read_engine, clinic.doctor_id) is None
    visits = q.appointments_for_patient(
        services.read_engine, clinic.patient_ids[0], now=local("2027-01-11 12:00")
    )
    assert (ids(visits.upcoming), ids(visits.past)) == ([second], [first])
    counts = q.day_counts(services.read_engine, MONDAY)
    assert counts[Status.PENDING] == 1 and sum(counts.values()) == 1


def test_agenda_for_a_day_and_a_week(services, clinic):
    monday = clinic.book("2027-01-11 14:00")
    early = clinic.book("2027-01-11 09:00", patient=1)
    friday = clinic.book("2027-01-15 17:30", patient=2)
    catch_up(services.projector)
    engine, tz, doctor = services.read_engine, services.tz, clinic.doctor_id

    assert ids(agenda.agenda_for_day(engine, doctor, MONDAY, tz=tz)) == [early, monday]
    week = agenda.agenda_for_week(engine, doctor, MONDAY, tz=tz)
    assert list(week) == [MONDAY + timedelta(days=n) for n in range(7)]
    assert ids(week[date(2027, 1, 15)]) == [friday] and week[date(2027, 1, 16)] == []


def test_free_slots_are_working_hours_minus_what_holds_time(services, clinic, clock):
    taken = clinic.book("2027-01-11 09:00", 30)
    freed = clinic.book("2027-01-11 10:00", 15, patient=1)
    services.bus.handle(CancelAppointment(appointment_id=freed, reason="Cancelled"))
    catch_up(services.projector)
    engine, tz, doctor = services.read_engine, services.tz, clinic.doctor_id

    slots = agenda.free_slots_for_day(engine, doctor, MONDAY, tz=tz, now=clock.now)

    starts = [slot.starts_at.astimezone(tz).strftime("%H:%M") for slot in slots]
    assert starts[:4] == ["09:30", "09:45", "10:00", "10:15"]  # 09:00-09:30 is taken
    assert len(starts) == 12 + 16 - 2 and starts[-1] == "17:45"  # two 15-minute slots booked
    assert all(slot.ends_at - slot.starts_at == timedelta(minutes=15) for slot in slots)
    later = agenda.free_slots_for_day(engine, doctor, MONDAY, tz=tz, now=local("2027-01-11 15:00"))
    assert later[0].starts_at == local("2027-01-11 15:15")  # the past is not offered
    assert agenda.free_slots_for_day(engine, doctor, date(2027, 1, 16), tz=tz, now=clock.now) == []
    assert q.appointment_detail(engine, taken) is not None


def test_the_directories_find_people_by_part_of_a_name_or_phone(services, clinic):
    found = services.bus.handle(
        RegisterPatient(full_name="Zoë Lefèvre", date_of_birth="1990-01-01", phone="06 98 76 54 32")
    ).stream_id
    catch_up(services.projector)
    engine = services.read_engine

    assert [p.patient_id for p in directory.search_patients(engine, "lefev")] == [found]
    assert [p.patient_id for p in directory.search_patients(engine, "98 76")] == [found]
    assert len(directory.search_patients(engine, "")) == 4
    assert len(directory.search_patients(engine, "patient", limit=2)) == 2
    assert directory.patient(engine, found).phone == "06 98 76 54 32"
    [doctor] = directory.list_doctors(engine)
    assert (doctor.full_name, doctor.slot_minutes, sorted(doctor.hours)) == (
        "Dr Ada Martin",
        15,
        ["fri", "mon", "thu", "tue", "wed"],
    )


def test_an_appointments_timeline_and_how_it_was_at_each_version(services, clinic, clock):
    appointment = clinic.book("2027-01-11 09:00")
    services.bus.handle(ConfirmAppointment(appointment_id=appointment, actor="reception-1"))
    clock.advance(minutes=5)
    services.bus.handle(
        RescheduleAppointment(
            appointment_id=appointment,
            starts_at=local("2027-01-12 10:00"),
            duration_minutes=30,
            reason="Doctor away",
            confirmed=False,  # the patient is to confirm the new time
            actor="reception-2",
        )
    )

    timeline = history.appointment_history(services.store, appointment, tz=services.tz)

    assert [(e.version, e.summary, e.actor) for e in timeline] == [
        (1, "AppointmentCreated", "system"),
        (2, "AppointmentConfirmed", "reception-1"),
        (3, "AppointmentRescheduled", "reception-2"),
    ]
    # The history keeps data (codes, UTC times); the pages word it in the reader's language.
    moved = {c.field: (c.before, c.after) for c in timeline[2].changes}
    assert moved["status"] == ("confirmed", "pending")
    assert moved["starts_at"] == ("2027-01-11T08:00:00+00:00", "2027-01-12T09:00:00+00:00")
    assert moved["reason"] == (None, "Doctor away")
    assert timeline[2].recorded_at == clock.now
    then = history.appointment_at_version(services.store, appointment, 2)
    assert (then.appointment.status, then.appointment.starts_at) == (
        Status.CONFIRMED,
        local("2027-01-11 09:00"),
    )
    assert then.latest_version == 3
    assert history.appointment_at_version(services.store, appointment, 4) is None
    assert history.appointment_history(services.store, clinic.doctor_id, tz=services.tz) == []


def test_a_doctors_day_as_it_stood_at_an_earlier_moment(services, clinic, clock):
    kept = clinic.book("2027-01-12 09:00")
    moved = clinic.book("2027-01-12 10:00", patient=1)
    looked_at = clock.advance(hours=1)
    clock.advance(minutes=30)
    services.bus.handle(
        RescheduleAppointment(
            appointment_id=moved,
            starts_at=local("2027-01-13 10:00"),
            duration_minutes=30,
            actor="reception-2",
        )
    )
    added = clinic.book("2027-01-12 11:00", patient=2, actor="reception-3")
    catch_up(services.projector)
    tuesday = date(2027, 1, 12)

    then = history.agenda_as_of(
        services.store, services.read_engine, clinic.doctor_id, tuesday, looked_at, tz=services.tz
    )
    now = history.agenda_as_of(
        services.store, services.read_engine, clinic.doctor_id, tuesday, clock.now, tz=services.tz
    )

    assert [a.id for a in then.appointments] == [kept, moved]
    assert [(c.appointment_id, c.actor, c.summary) for c in then.changes_since] == [
        (moved, "reception-2", "AppointmentRescheduled"),
        (added, "reception-3", "AppointmentCreated"),
    ]
    assert [a.id for a in now.appointments] == [kept, added] and now.changes_since == []
