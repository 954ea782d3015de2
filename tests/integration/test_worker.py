"""Projections in real Celery worker processes, on real Redis and PostgreSQL."""

from __future__ import annotations

import os
import threading
from datetime import date, timedelta

import pytest
import redis
import sqlalchemy as sa

from app.commands import ConfirmAppointment, CreateAppointment, RegisterPatient
from app.commands.bus import run_batch
from app.config import celery_config
from app.domain.errors import ValidationError
from app.projections import checkpoints as cp
from app.queries import appointments as q
from app.queries import directory

from ..backends import dispose, make_app, redis_test_url
from ..clinic import local, open_clinic
from .projecting import everything_projected, wait_until
from .test_projections import append_poison, status_of
from .workers import RedisServer, Worker, free_port

TICK = 0.5  # seconds between catch-up ticks in these tests


def monday_slots(weeks: int = 1) -> list[str]:
    """Every 15-minute slot of the test doctor's hours, Mondays to Fridays from 11 Jan 2027."""
    slots = []
    for day in range(7 * weeks):
        current = date(2027, 1, 11) + timedelta(days=day)
        if current.weekday() < 5:
            for hour in (9, 10, 11, 14, 15, 16, 17):
                slots += [f"{current} {hour:02}:{minute:02}" for minute in (0, 15, 30, 45)]
    return slots


def web_app(pg_url, broker, broker_queue, clock):
    """The web side: commands committed here nudge the workers through `broker`."""
    app = make_app(pg_url, CELERY=celery_config(broker, broker_queue, TICK))
    app.extensions["rendezvous"].bus.clock = clock
    return app


@pytest.fixture
def web(brokered_app, clock):
    app = brokered_app(TICK)
    app.extensions["rendezvous"].bus.clock = clock
    return app.extensions["rendezvous"]


@pytest.fixture
def start_worker(tmp_path, pg_url, broker_queue):
    started = []

    def start(name="w1", *, broker=None, beat=False, **settings) -> Worker:
        env = {
            **os.environ,
            "DATABASE_URL_WRITE": pg_url,
            "CELERY_BROKER_URL": broker or redis_test_url(),
            "CELERY_QUEUE": broker_queue,
            "CLINIC_TIMEZONE": "Europe/Paris",
            "PROJECTION_TICK_SECONDS": str(TICK),
            "SECRET_KEY": "test",
            **{key.upper(): str(value) for key, value in settings.items()},
        }
        env.pop("DATABASE_URL_READ", None)
        worker = Worker(env, tmp_path / f"{name}.log", name, beat=beat)
        started.append(worker)
        return worker.start()

    yield start
    for worker in started:
        worker.stop()
        # Shown by pytest only when the test fails.
        print(f"--- {worker.name} log ---\n{worker.log.read_text()[-6000:]}")


def projected(services, timeout=60):
    wait_until(
        lambda: everything_projected(services.projector),
        timeout=timeout,
        what="the worker to project every event",
    )


def verify_all(services):
    for name in services.projector.names:
        report = services.maintenance.verify(name)
        assert report.ok, report


def test_a_worker_brings_the_read_models_level_with_a_burst_of_commands(web, start_worker):
    start_worker()
    clinic = open_clinic(web.bus)
    booked = [clinic.book(slot, 15, patient=n % 3) for n, slot in enumerate(monday_slots()[:30])]
    for appointment in booked[::2]:
        web.bus.handle(ConfirmAppointment(appointment_id=appointment))

    projected(web)

    page = q.list_appointments(web.read_engine, q.AppointmentFilter(), tz=web.tz, limit=100)
    assert {row.appointment_id for row in page.items} == set(booked)
    assert sum(row.status == "confirmed" for row in page.items) == 15
    verify_all(web)


def test_commits_while_a_nudge_waits_for_a_worker_queue_no_other_and_lose_nothing(
    web, start_worker, broker_queue
):
    queue = redis.Redis.from_url(redis_test_url())
    names = [f"Waiting Nudge {n}" for n in range(5)]
    for name in names:  # no worker yet: the first commit's nudge waits in the queue
        web.bus.handle(RegisterPatient(full_name=name, date_of_birth="1990-01-01"))
    assert queue.llen(broker_queue) == 1

    # No beat here: only that one nudge can bring the five in.
    start_worker()
    projected(web)
    # The worker has begun (and ended) that nudge: the next commit sends one of its own.
    web.bus.handle(RegisterPatient(full_name="After The Pass", date_of_birth="1990-01-01"))
    projected(web)
    found = directory.search_patients(web.read_engine, "Nudge", limit=10)
    assert sorted(row.full_name for row in found) == names
    assert directory.search_patients(web.read_engine, "After The Pass", limit=10)


def open_transactions(engine) -> int:
    """Transactions open right now in this database, other than this connection's."""
    with engine.connect() as conn:
        return conn.execute(
            sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND xact_start IS NOT NULL"
            )
        ).scalar_one()


def test_a_worker_killed_mid_batch_loses_nothing_and_applies_nothing_twice(
    web, start_worker, clock
):
    clinic = open_clinic(web.bus)
    steps = [
        (clock.now, CreateAppointment(
            patient_id=clinic.patient_ids[n % 3], doctor_id=clinic.doctor_id,
            starts_at=local(slot), duration_minutes=15, title="Check-up",
        ))
        for n, slot in enumerate(monday_slots(weeks=6))
    ]  # fmt: skip
    run_batch(web.store, web.tz, steps)  # a backlog of 840 bookings, written without nudges
    head = web.store.tail(1)[0].position
    worker = start_worker(projection_batch_size=10)
    web.bus.handle(RegisterPatient(full_name="Nudge Only", date_of_birth="1990-01-01"))

    def mid_batch() -> bool:
        with web.read_engine.connect() as conn:
            position = (
                cp.read_all(conn)["appointments"].position if cp.exists(conn, "appointments") else 0
            )
        return 0 < position < head and open_transactions(web.read_engine) > 0

    wait_until(mid_batch, timeout=60, what="the worker to be part-way through the backlog")
    worker.kill()

    assert not everything_projected(web.projector)
    start_worker("w2", projection_batch_size=10)
    web.bus.handle(RegisterPatient(full_name="Second Nudge", date_of_birth="1990-01-01"))
    projected(web, timeout=90)
    verify_all(web)
    with web.read_engine.connect() as conn:
        rows = conn.execute(sa.select(sa.func.count()).select_from(q.t.appointments))
        assert rows.scalar_one() == len(steps)


def test_two_workers_at_once_never_apply_an_event_twice(web, start_worker):
    first, second = start_worker("w1"), start_worker("w2")
    clinic = open_clinic(web.bus)
    slots = monday_slots()

    def book(offset: int) -> None:
        for n, slot in enumerate(slots[offset::2][:25]):
            appointment = clinic.book(slot, 15, patient=n % 3)
            web.bus.handle(ConfirmAppointment(appointment_id=appointment))

    threads = [threading.Thread(target=book, args=(offset,)) for offset in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    projected(web)
    verify_all(web)
    counts = q.day_counts(web.read_engine, date(2027, 1, 11))
    assert counts[q.Status.CONFIRMED] == sum(s.startswith("2027-01-11") for s in slots[:50])
    for worker in (first, second):
        assert "rendezvous.project" in worker.log.read_text()  # both took their share


def test_a_command_committed_while_redis_is_down_is_projected_after_it_returns(
    pg_url, pg_engine, broker_queue, clock, start_worker, tmp_path
):
    server = RedisServer(free_port(), tmp_path).start()
    app = web_app(pg_url, server.url, broker_queue, clock)
    services = app.extensions["rendezvous"]
    try:
        worker = start_worker(broker=server.url, beat=True)
        clinic = open_clinic(services.bus)
        projected(services)

        # An open transaction elsewhere holds new events back, so the worker is busy with
        # (and has not acknowledged) a projection task when the broker goes away.
        with pg_engine.connect() as other, other.begin():
            other.execute(sa.text("SELECT pg_current_xact_id()"))
            received = worker.log.read_text().count("] received")
            in_flight = clinic.book("2027-01-11 09:00")
            wait_until(
                lambda: worker.log.read_text().count("] received") > received,
                timeout=30,
                what="the worker to take one of the booking's projection tasks",
            )
            server.stop()
        lost = clinic.book("2027-01-11 10:00")  # committed; its nudge cannot be sent

        server.start()
        for appointment in (in_flight, lost):
            wait_until(
                lambda a=appointment: q.appointment_detail(services.read_engine, a),
                timeout=90,
                what="the worker to project the bookings once Redis is back",
            )
        assert worker.process.poll() is None  # it rode out the outage
    finally:
        server.stop()
        app.extensions["celery"].close()
        dispose(app)


def test_a_poison_event_is_parked_while_the_other_projections_keep_up(web, start_worker):
    start_worker()
    clinic = open_clinic(web.bus)
    poison = append_poison(web)
    later = web.bus.handle(RegisterPatient(full_name="After Poison", date_of_birth="1990-01-01"))
    clinic.book("2027-01-11 09:00")

    def parked_and_others_level() -> bool:
        appointments = status_of(web.projector, "appointments")
        others = [status_of(web.projector, name) for name in ("patients", "doctors")]
        return appointments.state == "parked" and all(s.events_behind == 0 for s in others)

    wait_until(parked_and_others_level, timeout=60, what="parking, with the others level")
    assert status_of(web.projector, "appointments").row.failed_position == poison
    from app.queries.directory import patient

    assert patient(web.read_engine, later.stream_id).full_name == "After Poison"


def test_nudges_go_out_only_after_a_commit(web, broker_queue, monkeypatch):
    client = redis.Redis.from_url(redis_test_url())
    app_celery = web.bus.after_commit.celery  # spy on what the app's nudge sends
    seen_counts = []
    real_send = app_celery.send_task

    def spy(*args, **kwargs):
        seen_counts.append(web.store.count())  # read on another connection: committed data
        return real_send(*args, **kwargs)

    monkeypatch.setattr(app_celery, "send_task", spy)
    mark = web.bus.after_commit.queued
    clinic = open_clinic(web.bus)
    queued = client.llen(broker_queue)
    # Five commands and no worker: the first one's nudge waits, and covers the other four.
    assert queued == 1

    # From here on, each command as if a worker had just begun the queued nudge.
    mark.clear()
    with pytest.raises(ValidationError):
        clinic.book("2027-01-11 07:00")  # before the doctor's hours: refused, rolled back
    assert client.llen(broker_queue) == queued

    booking = CreateAppointment(
        patient_id=clinic.patient_ids[0], doctor_id=clinic.doctor_id,
        starts_at=local("2027-01-11 09:00"), duration_minutes=15, title="Check-up",
    )  # fmt: skip
    web.bus.handle(booking)
    assert client.llen(broker_queue) == queued + 1
    mark.clear()
    web.bus.handle(booking)  # the same command again: replayed, nothing new to project
    assert client.llen(broker_queue) == queued + 1
    assert seen_counts[-1] == web.store.count()  # the event was visible when sent
    client.close()
