"""The timeline read model: an appointment's history as its detail page shows it, built by
the timeline projection, rebuilt and verified like the other read models, and folded from
the store only while it is behind the appointment row it is shown with."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from app.commands import (
    CancelAppointment,
    ChangePatientDetails,
    ConfirmAppointment,
    RescheduleAppointment,
)
from app.projections import tables as t
from app.queries import appointments as q
from app.queries import history
from app.queries import timeline as tl

from ..clinic import local
from .projecting import catch_up, wait_until


def a_busy_appointment(services, clinic, clock):
    """Booked, confirmed, moved (with a reason), then cancelled, by three people."""
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
    services.bus.handle(
        CancelAppointment(appointment_id=appointment, reason="Feels better", actor="dr-1")
    )
    return appointment


def shown(services, appointment):
    row = q.appointment_detail(services.read_engine, appointment)
    return tl.timeline_beside(row, services.reads, services.store, tz=services.tz)


def no_store_reads(monkeypatch, services):
    def refuse(*args, **kwargs):
        raise AssertionError("the timeline was read from the event store")

    monkeypatch.setattr(services.store, "load", refuse)
    monkeypatch.setattr(services.store, "load_many", refuse)


def test_the_read_model_says_what_folding_the_stream_says(services, clinic, clock):
    appointment = a_busy_appointment(services, clinic, clock)
    other = clinic.book("2027-01-11 10:00", patient=1)
    catch_up(services.projector)

    entries = tl.appointment_timeline(services.read_engine, appointment)

    folded = history.appointment_history(services.store, appointment, tz=services.tz)
    assert [tl.named(entry, str) for entry in entries] == folded
    assert [(e.version, e.summary, e.actor) for e in entries] == [
        (1, "AppointmentCreated", "system"),
        (2, "AppointmentConfirmed", "reception-1"),
        (3, "AppointmentRescheduled", "reception-2"),
        (4, "AppointmentCancelled", "dr-1"),
    ]
    # Data, not words: field keys, status codes, UTC times; the pages word them.
    cancelled = {c.field: (c.before, c.after) for c in entries[3].changes}
    assert cancelled == {"status": ("pending", "cancelled"), "reason": (None, "Feels better")}
    moved = {c.field: c.after for c in entries[2].changes}
    assert datetime.fromisoformat(moved["starts_at"]).utcoffset() == timedelta(0)
    assert entries[2].recorded_at == folded[2].recorded_at == clock.now
    assert [e.version for e in tl.appointment_timeline(services.read_engine, other)] == [1]
    assert tl.appointment_timeline(services.read_engine, clinic.doctor_id) == []


def test_the_page_reads_it_without_the_store_and_names_people_as_they_are_now(
    services, clinic, clock, monkeypatch
):
    appointment = clinic.book("2027-01-11 09:00")
    services.bus.handle(
        ChangePatientDetails(
            patient_id=clinic.patient_ids[0],
            full_name="Patient Renamed",
            date_of_birth="1980-01-01",
        )
    )
    catch_up(services.projector)
    no_store_reads(monkeypatch, services)

    [created] = shown(services, appointment)

    booked = {c.field: c.after for c in created.changes}
    assert booked["patient"] == "Patient Renamed"
    assert booked["doctor"] == "Dr Ada Martin"
    assert datetime.fromisoformat(booked["starts_at"]) == local("2027-01-11 09:00")


def test_a_timeline_behind_its_appointment_row_is_folded_from_the_store(services, clinic):
    appointment = clinic.book("2027-01-11 09:00")
    catch_up(services.projector)
    services.bus.handle(ConfirmAppointment(appointment_id=appointment, actor="reception-1"))

    # The row moves on; the timeline has not yet. (A transaction open elsewhere on the
    # server may hold the new event back from a first run: run until it is seen.)
    def row_moved_on() -> bool:
        services.projector.run("appointments")
        return q.appointment_detail(services.read_engine, appointment).version == 2

    assert wait_until(row_moved_on, timeout=20, what="the appointment row at version 2")
    assert [e.version for e in tl.appointment_timeline(services.read_engine, appointment)] == [1]

    # The row says version 2: its entry is on the page all the same, from the store.
    assert [(e.version, e.summary) for e in shown(services, appointment)] == [
        (1, "AppointmentCreated"),
        (2, "AppointmentConfirmed"),
    ]
    services.projector.run("timeline")
    assert [e.version for e in tl.appointment_timeline(services.read_engine, appointment)] == [1, 2]


def test_a_rebuild_reproduces_it_and_verify_checks_it(services, clinic, clock):
    appointment = a_busy_appointment(services, clinic, clock)
    catch_up(services.projector)
    before = tl.appointment_timeline(services.read_engine, appointment)
    assert services.maintenance.verify("timeline").ok
    with services.read_engine.begin() as conn:  # damage an entry, as a bug would
        conn.execute(
            sa.update(t.timeline)
            .where(t.timeline.c.appointment_id == appointment, t.timeline.c.version == 2)
            .values(actor="someone else")
        )

    report = services.maintenance.verify("timeline")

    assert not report.ok
    [difference] = report.differences
    assert difference.table == "rm_appointment_timeline"
    assert [row["actor"] for row in difference.missing] == ["reception-1"]
    assert [row["actor"] for row in difference.unexpected] == ["someone else"]
    services.maintenance.rebuild("timeline")
    assert tl.appointment_timeline(services.read_engine, appointment) == before
    assert services.maintenance.verify("timeline").ok
    assert services.projector.run("timeline").applied == 0  # the checkpoint moved too
