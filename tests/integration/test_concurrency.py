"""Races on real PostgreSQL: staff clicking at the same instant."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from uuid import uuid4

import pytest
import sqlalchemy as sa

from app.commands import CommandBus, ConfirmAppointment, CreateAppointment, RescheduleAppointment
from app.domain.errors import ConflictError, SlotTakenError
from app.domain.events import AppointmentConfirmed
from app.eventstore import ConcurrencyError, EventMetadata, EventStore, StoreTransaction

from ..clinic import local, open_clinic

RACERS = 8
META = EventMetadata(actor="test", correlation_id="c", causation_id="c")


def race(calls):
    """Run the calls at the same instant on separate threads; return (result or error) each."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait(timeout=10)
        try:
            return call()
        except Exception as exc:
            return exc

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def created_events(engine, doctor_id) -> int:
    with engine.connect() as conn:
        return conn.execute(
            sa.text(
                "SELECT count(*) FROM events WHERE event_type = 'AppointmentCreated' "
                "AND data->>'doctor_id' = :doctor"
            ),
            {"doctor": str(doctor_id)},
        ).scalar_one()


def test_eight_receptionists_booking_overlapping_times_get_exactly_one_appointment(
    services, engine
):
    """On PostgreSQL the exclusion constraint decides; on SQLite, one writer at a time."""
    clinic = open_clinic(services.bus, patients=RACERS)
    start = local("2027-01-12 10:00")
    commands = [
        CreateAppointment(
            patient_id=clinic.patient_ids[n],
            doctor_id=clinic.doctor_id,
            starts_at=start + timedelta(minutes=5 * (n % 3)),
            duration_minutes=30,
            title=f"Racer {n}",
        )
        for n in range(RACERS)
    ]
    outcomes = race([lambda cmd=cmd: services.bus.handle(cmd) for cmd in commands])
    winners = [o for o in outcomes if not isinstance(o, Exception)]
    losers = [o for o in outcomes if isinstance(o, Exception)]
    assert len(winners) == 1, outcomes
    assert all(isinstance(e, SlotTakenError) for e in losers), losers
    # A loser that sees the winner's time says what it runs into; one that clashes at
    # commit gets the store's refusal.
    assert all(
        "That time is no longer free" in e.message or "would run into" in e.message for e in losers
    ), losers
    assert created_events(engine, clinic.doctor_id) == 1


def test_one_booking_sent_twice_at_once_books_once_and_answers_both_alike(pg_services, pg_engine):
    clinic = open_clinic(pg_services.bus)
    cmd = CreateAppointment(
        patient_id=clinic.patient_ids[0],
        doctor_id=clinic.doctor_id,
        starts_at=local("2027-01-12 10:00"),
        duration_minutes=30,
        title="Double click",
    )
    first, second = race([lambda: pg_services.bus.handle(cmd)] * 2)
    assert not isinstance(first, Exception) and not isinstance(second, Exception), (first, second)
    assert (first.stream_id, first.version, first.position) == (
        second.stream_id,
        second.version,
        second.position,
    )
    assert sorted([first.replayed, second.replayed]) == [False, True]
    assert created_events(pg_engine, clinic.doctor_id) == 1


class InterferingStore(EventStore):
    """A real store on which a colleague's command commits right after the first load."""

    def __init__(self, engine, colleague) -> None:
        super().__init__(engine)
        self.colleague = colleague

    @contextmanager
    def transaction(self):
        with super().transaction() as tx:
            yield InterferingTransaction(tx.store, tx.conn, colleague=self.colleague)


@dataclass
class InterferingTransaction(StoreTransaction):
    colleague: object = None

    def load(self, stream_id):
        history = super().load(stream_id)
        colleague, self.colleague = self.colleague, None
        if colleague is not None:
            colleague()
        return history


def test_a_clash_without_a_user_version_is_retried_once_on_fresh_state(pg_services):
    clinic = open_clinic(pg_services.bus)
    appointment = clinic.book("2027-01-12 10:00")
    calls = []

    def colleague_reschedules():
        calls.append(1)
        if len(calls) == 1:
            pg_services.bus.handle(
                RescheduleAppointment(
                    appointment_id=appointment,
                    starts_at=local("2027-01-12 11:00"),
                    duration_minutes=30,
                    actor="colleague",
                )
            )

    store = InterferingStore(pg_services.store.engine, colleague_reschedules)
    bus = CommandBus(store, tz=pg_services.tz, clock=pg_services.bus.clock)
    result = bus.handle(ConfirmAppointment(appointment_id=appointment, actor="alice"))
    assert len(calls) == 2  # decided twice: the first append clashed
    history = pg_services.store.load(appointment)
    assert [(r.event_type, r.metadata["actor"]) for r in history[1:]] == [
        ("AppointmentRescheduled", "colleague"),
        ("AppointmentConfirmed", "alice"),
    ]
    assert result.version == 3


def test_a_clash_with_the_users_version_is_a_conflict_not_a_retry(pg_services):
    clinic = open_clinic(pg_services.bus)
    appointment = clinic.book("2027-01-12 10:00")

    def colleague_confirms():
        pg_services.bus.handle(ConfirmAppointment(appointment_id=appointment, actor="bob"))

    bus = CommandBus(
        InterferingStore(pg_services.store.engine, colleague_confirms),
        tz=pg_services.tz,
        clock=pg_services.bus.clock,
    )
    with pytest.raises(ConflictError, match="appointment confirmed by bob"):
        bus.handle(
            RescheduleAppointment(
                appointment_id=appointment,
                expected_version=1,
                starts_at=local("2027-01-12 11:00"),
                duration_minutes=30,
            )
        )
    assert pg_services.store.stream_version(appointment) == 2


def test_a_twin_carrying_the_users_version_gets_the_first_result_not_a_conflict(pg_services):
    """The same confirmation, sent twice, commits once between the twin's load and save."""
    clinic = open_clinic(pg_services.bus)
    appointment = clinic.book("2027-01-12 10:00")
    confirm = ConfirmAppointment(appointment_id=appointment, expected_version=1)
    first = []

    def twin_commits_first():
        first.append(pg_services.bus.handle(confirm))

    bus = CommandBus(
        InterferingStore(pg_services.store.engine, twin_commits_first),
        tz=pg_services.tz,
        clock=pg_services.bus.clock,
    )
    second = bus.handle(confirm)
    assert second.replayed and not first[0].replayed
    assert (second.version, second.position) == (first[0].version, first[0].position)
    assert pg_services.store.stream_version(appointment) == 2


def test_a_clash_found_by_the_insert_writes_none_of_the_batch(pg_engine):
    """Both transactions saw version 0; the unique key refuses the second's whole batch."""
    store = EventStore(pg_engine)
    stream = uuid4()
    with pg_engine.connect() as conn, conn.begin():
        late = StoreTransaction(store, conn)
        assert late.load(stream) == []
        store.append(stream, 0, [AppointmentConfirmed()], stream_type="t", metadata=META)
        with pytest.raises(ConcurrencyError):
            late.append(
                stream,
                0,
                [AppointmentConfirmed(), AppointmentConfirmed()],
                stream_type="t",
                metadata=META,
            )
    assert [r.version for r in store.load(stream)] == [1]
