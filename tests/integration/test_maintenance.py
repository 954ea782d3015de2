"""Rebuild and verify, and the `flask projections` commands operators use."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from app.commands import ConfirmAppointment
from app.domain.appointment import Status
from app.domain.events import AppointmentConfirmed
from app.eventstore import EventMetadata
from app.projections import tables as t
from app.queries import appointments as q

from ..clinic import monday_ahead, open_clinic
from .projecting import catch_up, wait_until


def book_and_confirm(clinic, services, count):
    ids = []
    for n in range(count):
        appointment = clinic.book(
            f"2027-01-11 {9 + n % 3:02}:{(n // 3) * 15:02}", 15, patient=n % 3
        )
        services.bus.handle(ConfirmAppointment(appointment_id=appointment))
        ids.append(appointment)
    return ids


def table_names(engine):
    return set(sa.inspect(engine).get_table_names())


def index_names(engine, table):
    return {index["name"] for index in sa.inspect(engine).get_indexes(table)}


def test_a_rebuild_swaps_new_tables_in_while_pages_keep_answering(services, clinic):
    ids = book_and_confirm(clinic, services, 6)
    catch_up(services.projector)
    live_indexes = index_names(services.read_engine, "rm_appointments")
    with services.read_engine.begin() as conn:  # damage the live table, as a bug would
        conn.execute(sa.update(t.appointments).values(title="garbled"))
    seen_during = []

    def progress(_events):
        # Mid-rebuild, a page reads the live table: still there, still answering.
        page = q.list_appointments(services.read_engine, q.AppointmentFilter(), tz=services.tz)
        seen_during.append({row.title for row in page.items})

    services.maintenance.rebuild("appointments", progress=progress)

    assert seen_during and seen_during[0] == {"garbled"}
    page = q.list_appointments(services.read_engine, q.AppointmentFilter(), tz=services.tz)
    assert [row.appointment_id for row in page.items] == sorted(
        ids, key=lambda i: (q.appointment_detail(services.read_engine, i).starts_at, i)
    )
    assert {row.title for row in page.items} == {"Check-up"}
    assert index_names(services.read_engine, "rm_appointments") == live_indexes
    assert not {name for name in table_names(services.read_engine) if "__" in name}
    assert services.maintenance.verify("appointments").ok
    assert services.projector.run("appointments").applied == 0  # the checkpoint moved too


def test_verify_names_the_rows_that_differ_from_a_replay(services, clinic):
    first, *_ = book_and_confirm(clinic, services, 3)
    catch_up(services.projector)
    assert services.maintenance.verify("appointments").ok
    with services.read_engine.begin() as conn:
        conn.execute(
            sa.update(t.appointments)
            .where(t.appointments.c.appointment_id == first)
            .values(status="cancelled")
        )

    report = services.maintenance.verify("appointments")

    assert not report.ok
    [difference] = report.differences
    assert difference.table == "rm_appointments"
    assert [row["status"] for row in difference.missing] == ["confirmed"]
    assert [row["status"] for row in difference.unexpected] == ["cancelled"]
    assert difference.missing[0]["appointment_id"] == first
    assert not {name for name in table_names(services.read_engine) if "__" in name}


# -- the command line, on the PostgreSQL app --


@pytest.fixture
def cli(pg_app, pg_engine):
    services = pg_app.extensions["rendezvous"]
    clinic = open_clinic(services.bus)
    return pg_app.test_cli_runner(), services, clinic


def test_status_shows_each_projection_and_its_lag(cli):
    runner, services, clinic = cli
    clinic.book(f"{monday_ahead()} 09:00")
    catch_up(services.projector)

    result = runner.invoke(args=["projections", "status"])

    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line.split() for line in result.output.splitlines()[1:]}
    assert set(lines) == {"patients", "doctors", "appointments", "timeline"}
    head = services.store.tail(1)[0].position
    assert lines["appointments"][1:5] == ["up", "to", "date", str(head)]


def test_verify_exits_non_zero_and_prints_the_difference(cli):
    runner, services, clinic = cli
    appointment = clinic.book(f"{monday_ahead()} 09:00")
    catch_up(services.projector)
    assert runner.invoke(args=["projections", "verify", "--all"]).exit_code == 0
    with services.read_engine.begin() as conn:
        conn.execute(sa.delete(t.day_counts))

    result = runner.invoke(args=["projections", "verify", "appointments"])

    assert result.exit_code == 1
    assert "appointments: DIFFERS" in result.output
    assert "rm_day_counts: missing" in result.output and "'pending'" in result.output
    rebuilt = runner.invoke(args=["projections", "rebuild", "appointments"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert runner.invoke(args=["projections", "verify", "appointments"]).exit_code == 0
    assert (
        q.day_counts(
            services.read_engine, q.appointment_detail(services.read_engine, appointment).local_day
        )[Status.PENDING]
        == 1
    )


def test_a_parked_event_is_shown_then_retried_then_skipped(cli):
    runner, services, clinic = cli
    services.store.append(
        uuid.uuid4(),
        0,
        [AppointmentConfirmed()],
        stream_type="appointment",
        metadata=EventMetadata("test", "poison", "poison"),
    )
    wait_until(
        lambda: services.projector.run("appointments").outcome == "parked",
        timeout=20,
        what="the poison event to be parked",
    )

    status = runner.invoke(args=["projections", "status"]).output
    assert "appointments  parked" in status
    assert "parked on AppointmentConfirmed" in status and "MissingRowError" in status
    retried = runner.invoke(args=["projections", "retry", "appointments"])
    assert "parked" in retried.output
    skipped = runner.invoke(args=["projections", "skip", "appointments"])
    assert skipped.exit_code == 0, skipped.output
    assert "skipped AppointmentConfirmed" in skipped.output
    clinic.book(f"{monday_ahead()} 09:00")
    catch_up(services.projector)
    assert "appointments  up to date" in runner.invoke(args=["projections", "status"]).output
    assert runner.invoke(args=["projections", "skip", "appointments"]).exit_code == 1


def test_naming_no_projection_or_an_unknown_one_is_a_usage_error(cli):
    runner, _, _ = cli
    assert runner.invoke(args=["projections", "rebuild"]).exit_code == 2
    unknown = runner.invoke(args=["projections", "verify", "bogus"])
    assert unknown.exit_code == 2 and "No projection named 'bogus'" in unknown.output


def test_rebuild_all_on_two_processes_gives_the_same_read_models(cli):
    """`rebuild --all` runs each projection's rebuild in a process of its own, two at a
    time here: every table comes back row for row, and every checkpoint at the head."""
    runner, services, clinic = cli
    book_and_confirm(clinic, services, 6)
    catch_up(services.projector)
    tables = [table for p in services.projector.projections.values() for table in p.tables]

    def contents() -> dict[str, list]:
        with services.read_engine.connect() as conn:
            return {
                table.name: sorted(map(repr, conn.execute(sa.select(table)).all()))
                for table in tables
            }

    before = contents()
    with services.read_engine.begin() as conn:
        conn.execute(sa.delete(t.day_counts))  # so the rebuild has something to mend

    result = runner.invoke(args=["projections", "rebuild", "--all", "--processes", "2"])

    assert result.exit_code == 0, result.output
    assert "Rebuilding 4 projections, 2 at a time" in result.output
    for name in services.projector.names:
        assert f"{name}: rebuilt from" in result.output
        assert services.maintenance.verify(name).ok, name
    assert contents() == before
    assert {r.outcome for r in services.projector.run_all()} == {"caught_up"}
