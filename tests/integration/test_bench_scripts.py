"""The benchmark scripts run against the app's own modules; nothing else runs them between
benchmark sessions, so a module moved in the app would break them unnoticed. Every name a
script imports from `app`, at the top or inside a function, must exist."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest
import sqlalchemy as sa

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _app_imports() -> list[tuple[str, str, str]]:
    found = []
    for script in sorted(BENCH.glob("*.py")):
        for node in ast.walk(ast.parse(script.read_text(), str(script))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "app":
                found += [(script.name, node.module or "", alias.name) for alias in node.names]
            elif isinstance(node, ast.Import):
                found += [
                    (script.name, alias.name, "")
                    for alias in node.names
                    if alias.name.split(".")[0] == "app"
                ]
    return found


IMPORTS = _app_imports()


def test_the_scripts_import_from_the_app() -> None:
    # A parse that found nothing would make the test below pass vacuously.
    assert len({script for script, _, _ in IMPORTS}) >= 5


@pytest.mark.parametrize(("script", "module", "name"), IMPORTS)
def test_every_name_a_benchmark_imports_from_the_app_exists(
    script: str, module: str, name: str
) -> None:
    loaded = importlib.import_module(module)
    if name and not hasattr(loaded, name):
        # `from app.web import kit` names a submodule, not an attribute, until imported.
        importlib.import_module(f"{module}.{name}")


def _wiring(app) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """What decides the cost of a command in an app: the bus, what runs after each commit,
    the store, the projections and how they are batched, the read cache, the pools."""
    services = app.extensions["rendezvous"]
    nudge = services.bus.after_commit
    return {
        "bus": type(services.bus),
        "after_commit": type(nudge),
        "projections_in_request": getattr(nudge, "celery", None) is None,
        "queued_mark": getattr(nudge, "queued", None) is not None,
        "store": type(services.store),
        "projections": services.projector.names,
        "batch_size": services.projector.batch_size,
        "invalidation": type(services.projector.invalidation),
        "write_pool": type(services.store.engine.pool),
        "read_engine_is_write_engine": services.read_engine is services.store.engine,
        "clock": services.bus.clock,
    }


@pytest.mark.parametrize("broker", [False, True], ids=["no broker", "broker"])
def test_the_append_benchmark_books_through_the_app_an_operator_runs(  # type: ignore[no-untyped-def]
    pg_url, monkeypatch, broker
):
    """bench/append.py's figures are the product's only if its app is wired as the one a
    deployment runs from the same settings (DATABASE_URL_WRITE, and REDIS_URL for the
    broker mode): the same after-commit step, projections, store and cache."""
    import sys
    from datetime import date

    from app import create_app

    from ..backends import redis_test_url

    monkeypatch.syspath_prepend(str(BENCH))
    sys.modules.pop("append", None)
    import append  # type: ignore[import-not-found]

    redis_url = redis_test_url() if broker else None
    environment = append.app_environment(pg_url, redis_url)
    for name in ("DATABASE_URL_READ", "REDIS_URL", "CELERY_BROKER_URL", "CELERY_QUEUE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)  # restored after the test, whatever build_app sets
    product = create_app()
    spec = append.WriterSpec(
        "broker" if broker else "rendezvous", 0, pg_url, 1, 0, date.today(), redis_url
    )
    bench = append.bench_app(spec)

    assert _wiring(bench) == _wiring(product)
    # The settings the bench gives are a deployment's own, nothing tuned for the run.
    expected = {"DATABASE_URL_WRITE", "CLINIC_TIMEZONE", "SECRET_KEY"}
    if broker:
        expected |= {"REDIS_URL", "CELERY_QUEUE"}
    assert set(environment) == expected
    assert _wiring(bench)["projections_in_request"] is not broker


def test_the_plain_projector_builds_the_read_models_the_app_builds(app_services, pg_url):  # type: ignore[no-untyped-def]
    """bench/project.py compares the product's rebuild with a plain psycopg loop, and its
    ratio means something only while both build the same rows. Every event the plain loop
    reads, once (consents, preferences, the patient's own answers, a move, the desk's
    actions): the same tables, row for row."""
    import sys
    import uuid
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from app.commands import commands as c

    from ..clinic import WEEKDAYS, monday_ahead, open_clinic

    sys.path.insert(0, str(BENCH))
    try:
        import _pg
        from _plain_projector import TABLES, PlainProjector
        from project import checksums
    finally:
        sys.path.remove(str(BENCH))

    bus = app_services.bus
    clinic = open_clinic(bus, patients=3)
    first = clinic.patient_ids[0]
    bus.handle(c.SetPatientReminders(patient_id=first, consents=["sms"]))
    bus.handle(c.SetPatientReminders(patient_id=first, consents=[], preferred_channel="sms"))
    bus.handle(c.SetPatientReminders(patient_id=clinic.patient_ids[2], consents=["sms"]))
    bus.handle(c.SetPatientReminders(patient_id=clinic.patient_ids[1], language="fr"))
    monday = monday_ahead()
    confirmed = clinic.book(f"{monday} 09:00")
    cancelled = clinic.book(f"{monday} 10:00", patient=1)
    moved = clinic.book(f"{monday} 11:00", patient=2)
    by_desk = clinic.book(f"{monday} 14:00", patient=1)
    bus.handle(c.ConfirmAsPatient(appointment_id=confirmed))
    bus.handle(c.CancelAsPatient(appointment_id=cancelled, reason="Un empêchement"))
    bus.handle(c.ConfirmAsPatient(appointment_id=moved))
    starts = bus.store.load(moved)[0].event.starts_at + timedelta(days=1)
    bus.handle(c.RescheduleAppointment(appointment_id=moved, starts_at=starts, duration_minutes=30))
    bus.handle(c.ConfirmAppointment(appointment_id=by_desk))
    other = bus.handle(c.RegisterDoctor(full_name="Dr Lin Wu", specialty="Paediatrics")).stream_id
    bus.handle(c.SetWorkingHours(doctor_id=other, hours=WEEKDAYS, slot_minutes=15))
    later = bus.store.load(by_desk)[0].event.starts_at + timedelta(hours=1)
    bus.handle(
        c.RescheduleAppointment(
            appointment_id=by_desk, starts_at=later, duration_minutes=30, doctor_id=other
        )
    )

    plain_url = _pg.sqlalchemy_url(pg_url, database=f"rendezvous_bench_test_{uuid.uuid4().hex[:8]}")
    _pg.recreate_database(plain_url, extensions=["pg_trgm"])
    try:
        from app.projections.tables import metadata

        engine = sa.create_engine(plain_url)
        metadata.create_all(engine, tables=[metadata.tables[name] for name in TABLES])
        engine.dispose()
        PlainProjector(ZoneInfo("Europe/Paris"), app_services.region).run(
            _pg.conninfo(pg_url), _pg.conninfo(plain_url), 1000, lambda n: None
        )
        product, plain = checksums(pg_url), checksums(plain_url)
    finally:
        _pg.drop_database(plain_url)
    assert product["rm_appointments"][0] == 4 and product["rm_patients"][0] == 3
    assert product["rm_doctors"][0] == 2
    assert plain == product
