"""`flask seed-demo` and `flask events tail`."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from app import seed
from app.commands import CommandBus
from app.domain.appointment import Appointment, Status

from ..clinic import open_clinic
from ..conftest import Clock


def final_statuses(store) -> Counter:
    # Every stored event, by position: read_committed would hold back the newest ones while
    # any transaction on the server (another test worker's) is still open.
    streams: dict = {}
    for record in store.tail(100_000):
        if record.stream_type == "appointment":
            streams.setdefault(record.stream_id, []).append(record.event)
    return Counter(Appointment.from_history(k, v).status for k, v in streams.items())


def test_seed_demo_builds_two_weeks_across_every_status_once(app_services):
    # A Wednesday afternoon in the clinic, so today has visits done, under way and to come.
    now = datetime(2026, 11, 25, 15, 5, tzinfo=UTC)
    assert seed.seed_demo(app_services, echo=lambda _: None, now=now)
    store = app_services.store
    events = store.count()
    assert set(final_statuses(store)) == set(Status)
    recorded = [r.recorded_at for r in store.tail(100_000)]
    assert recorded == sorted(recorded) and recorded[-1] <= now  # a history, not a pile
    assert not seed.seed_demo(app_services, echo=lambda _: None, now=now)
    assert store.count() == events


def test_the_seed_command_reports_and_is_idempotent(pg_app, pg_engine):
    runner = pg_app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "Demo clinic loaded." in first.output
    again = runner.invoke(args=["seed-demo"])
    assert "already present; unchanged" in again.output


def test_scale_history_is_written_through_the_handlers_with_progress(pg_app, pg_engine):
    runner = pg_app.test_cli_runner()
    result = runner.invoke(args=["seed-demo", "--scale", "600"])
    assert result.exit_code == 0, result.output
    written = int(result.output.split("Scale history: ")[1].split()[0])
    assert written >= 600
    assert "Writing history" in result.output
    statuses = final_statuses(pg_app.extensions["rendezvous"].store)
    assert statuses[Status.COMPLETED] > 0 and statuses[Status.PENDING] > 0


def test_events_tail_prints_the_latest_events_oldest_first(pg_app, pg_engine):
    runner = pg_app.test_cli_runner()
    services = pg_app.extensions["rendezvous"]
    # A doctor, hours and patients: events of three stream types, enough to tell the order.
    open_clinic(services.bus, patients=4)
    store = services.store
    latest = store.tail(3)
    result = runner.invoke(args=["events", "tail", "-n", "3"])
    lines = result.output.strip().splitlines()
    assert len(lines) == 3
    for line, record in zip(lines, latest, strict=True):
        assert line.split()[0] == str(record.position)
        assert record.event_type in line and str(record.stream_id) in line


def test_an_interrupted_seed_is_finished_by_the_next_run(app_services):
    now = datetime(2026, 11, 25, 15, 5, tzinfo=UTC)
    plan = seed.demo_plan(app_services.tz, now)
    clock = Clock(now)
    bus = CommandBus(app_services.store, tz=app_services.tz, clock=clock)
    for at, command in plan[:40]:  # the first run stops here
        clock.now = at
        bus.handle(command)
    assert seed.seed_demo(app_services, echo=lambda _: None, now=now)
    planned = {command.command_id for _, command in plan}
    assert app_services.store.processed(planned) == planned
    assert set(final_statuses(app_services.store)) == set(Status)
    assert not seed.seed_demo(app_services, echo=lambda _: None, now=now)
