"""Where the read models live: their own database when DATABASE_URL_READ is set, and the
embedded default, where the web process projects right after each commit."""

from __future__ import annotations

import sqlalchemy as sa

from app.commands import ConfirmAppointment
from app.queries import appointments as q

from ..backends import dispose, make_app
from ..clinic import open_clinic
from .projecting import catch_up
from .webclient import Staff, page_text


def tables(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_read_models_can_live_in_a_database_of_their_own(write_and_read_databases, clock):
    import flask_migrate

    write_url, read_url = write_and_read_databases
    app = make_app(write_url, READ_DATABASE_URI=read_url)
    try:
        with app.app_context():
            flask_migrate.upgrade()
        assert {"events", "reservations", "alembic_version"} <= tables(write_url)
        assert not {t for t in tables(write_url) if t.startswith(("rm_", "projection"))}
        assert {"rm_appointments", "projection_checkpoints", "alembic_version_read"} <= tables(
            read_url
        )
        assert "events" not in tables(read_url)

        services = app.extensions["rendezvous"]
        services.bus.clock = clock
        clinic = open_clinic(services.bus)
        appointment = clinic.book("2027-01-11 09:00")
        catch_up(services.projector)

        assert str(services.read_engine.url) != str(services.store.engine.url)
        row = q.appointment_detail(services.read_engine, appointment)
        assert (row.patient_name, row.doctor_name) == ("Patient 0", "Dr Ada Martin")
        assert services.maintenance.verify("appointments").ok
    finally:
        dispose(app)


def test_the_detail_page_reads_the_timeline_from_the_read_database(
    write_and_read_databases, clock, monkeypatch
):
    import flask_migrate

    write_url, read_url = write_and_read_databases
    app = make_app(write_url, READ_DATABASE_URI=read_url)
    try:
        with app.app_context():
            flask_migrate.upgrade()
        assert "rm_appointment_timeline" in tables(read_url)
        assert "rm_appointment_timeline" not in tables(write_url)
        services = app.extensions["rendezvous"]
        services.bus.clock = clock
        clinic = open_clinic(services.bus)
        appointment = clinic.book("2027-01-11 09:00")
        services.bus.handle(ConfirmAppointment(appointment_id=appointment, actor="reception-1"))
        catch_up(services.projector)
        staff = Staff(app)

        def refuse(*args, **kwargs):
            raise AssertionError("the detail page read the event store")

        monkeypatch.setattr(services.store, "load", refuse)
        monkeypatch.setattr(services.store, "load_many", refuse)
        response = staff.get(f"/appointments/{appointment}")

        assert response.status_code == 200
        page = page_text(response)
        assert "Appointment created" in page and "Appointment confirmed" in page
        assert 'data-history-version="2"' in page
        assert services.maintenance.verify("timeline").ok
    finally:
        dispose(app)


def test_without_a_broker_each_commit_is_projected_before_the_command_returns(sqlite_app, clock):
    services = sqlite_app.extensions["rendezvous"]
    assert sqlite_app.config["CELERY"]["broker_url"] is None  # make_app's default
    services.bus.clock = clock
    clinic = open_clinic(services.bus)

    appointment = clinic.book("2027-01-11 09:00")

    assert q.appointment_detail(services.read_engine, appointment).status == "pending"
