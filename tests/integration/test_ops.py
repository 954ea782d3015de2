"""The operations page: projections' state and lag, Retry and Skip of a failed event, Rebuild
with live progress (on a real Celery worker, and in a thread without a broker), and charts
drawn from real samples."""

from __future__ import annotations

import logging
import os
import re
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.commands import RegisterPatient
from app.ops import rebuilds, samples
from app.projections import checkpoints as cp
from app.projections import tables as t
from app.projections.directory import patients
from app.web.ops import charts as ops_charts

from ..backends import redis_test_url
from ..clinic import monday_ahead, open_clinic
from .projecting import catch_up, wait_until
from .test_projections import append_poison
from .webclient import Staff, page_text
from .workers import Worker

CARD_POLLS = 'hx-trigger="every 1s"'
NBSP, NNBSP = "\u00a0", "\u202f"


def card(staff: Staff, name: str) -> str:
    """A projection's card, as the page's polling asks for it."""
    return page_text(staff.htmx_get(f"/ops/projections/{name}", f"projection-{name}"))


def card_in(page: str, name: str) -> str:
    start = page.index(f'id="projection-{name}"')
    return page[start : page.index("</section>", start)]


def names(engine) -> set[str]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return set(conn.execute(sa.select(t.patients.c.full_name)).scalars())


def break_patients(monkeypatch: pytest.MonkeyPatch, message: str) -> object:
    """Make the patients projection fail on every registration; returns the real handler."""
    real = patients.handlers["PatientRegistered"]

    def broken(view, record):  # type: ignore[no-untyped-def]
        raise RuntimeError(message)

    monkeypatch.setitem(patients.handlers, "PatientRegistered", (broken, None))
    return real


def test_only_admins_see_the_page_and_its_menu_link(pg_app, pg_engine, admin):
    doctor = open_clinic(pg_app.extensions["rendezvous"].bus).doctor_id
    assert 'href="/ops"' in page_text(admin.get("/"))
    for role in ("reception", "doctor"):
        staff = Staff(pg_app, role, doctor if role == "doctor" else None)
        assert 'href="/ops"' not in page_text(staff.get("/"))
        assert staff.client.get("/ops").status_code == 403
        assert staff.post("/ops/projections/patients/rebuild", {}).status_code == 403
    assert rebuilds.latest(pg_engine) == {}


def test_the_page_shows_each_projections_checkpoint_and_lag(pg_app, admin):
    services = pg_app.extensions["rendezvous"]
    open_clinic(services.bus)
    append_poison(services)  # written past the bus: nobody projects it
    with services.read_engine.connect() as conn:
        rows = cp.read_all(conn)

    page = page_text(admin.get("/ops"))

    for name in ("patients", "doctors", "appointments"):
        shown = card_in(page, name)
        assert f'<span class="mono" data-checkpoint>{rows[name].position}</span>' in shown
        assert "<span data-behind>1</span> event," in shown
        assert 'data-state="behind"' in shown
    assert "style=" not in page  # the CSP forbids inline style


def test_a_parked_event_shows_its_error_and_retry_applies_it_after_a_fix(
    pg_app, admin, monkeypatch, caplog
):
    services = pg_app.extensions["rendezvous"]
    real = break_patients(monkeypatch, "address book offline")
    services.bus.handle(RegisterPatient(full_name="Ana Parked", date_of_birth="1990-01-01"))

    shown = card(admin, "patients")
    assert 'data-state="parked"' in shown
    assert "Parked on</strong> PatientRegistered" in shown
    assert "RuntimeError: address book offline" in shown  # the last line, then all of it:
    assert "<summary>Full traceback</summary>" in shown and "Traceback (most recent" in shown

    monkeypatch.setitem(patients.handlers, "PatientRegistered", real)  # the fix is deployed
    caplog.set_level(logging.INFO, logger="rendezvous.ops")
    response = admin.post("/ops/projections/patients/retry", {})

    assert response.status_code == 303
    assert "Retried Patients: 1 event applied, up to date" in page_text(admin.get("/ops"))
    assert 'data-state="up to date"' in card(admin, "patients")
    assert "Ana Parked" in names(services.read_engine)
    assert any("retry of patients by test-admin" in r.getMessage() for r in caplog.records)


def test_an_admin_who_reads_french_operates_the_projections_in_french(pg_app, monkeypatch):
    services = pg_app.extensions["rendezvous"]
    french = Staff(pg_app, locale="fr")
    real = break_patients(monkeypatch, "annuaire injoignable")
    services.bus.handle(RegisterPatient(full_name="Ana Bloquée", date_of_birth="1990-01-01"))

    page = page_text(french.get("/ops"))
    assert '<html lang="fr">' in page and "<h1>Exploitation</h1>" in page
    shown = card_in(page, "patients")
    assert re.search(
        r"Bloquée sur</strong> PatientRegistered en position .+, après \d+ tentatives?", shown
    )
    assert "Point de reprise" in shown and ">Réessayer<" in shown and "Trace complète" in shown
    assert "Pas encore de mesure." in page or "Dernières valeurs" in page

    monkeypatch.setitem(patients.handlers, "PatientRegistered", real)
    assert french.post("/ops/projections/patients/retry", {}).status_code == 303
    after = page_text(french.get("/ops"))
    assert f"Nouvel essai pour Patients{NBSP}: 1 événement appliqué, à jour." in after
    assert "À jour" in card_in(after, "patients")
    refused = french.post("/ops/projections/patients/skip", {})
    assert refused.status_code == 409
    assert "Patients n’a aucun événement en échec à ignorer." in page_text(refused)


def test_the_operations_figures_use_the_reader_s_separators(pg_app):
    for language, expected in (
        ("en", ["1,235", "2.5", "0", "n/a"]),
        ("fr", [f"1{NNBSP}235", "2,5", "0", f"n.{NBSP}d."]),
    ):
        with pg_app.test_request_context(f"/?lang={language}"):
            assert [ops_charts.number(v) for v in (1234.6, 2.5, 0.0004, None)] == expected


def test_skip_passes_over_the_failed_event_records_it_and_refuses_when_nothing_is_left(
    pg_app, admin, monkeypatch, caplog
):
    services = pg_app.extensions["rendezvous"]
    break_patients(monkeypatch, "unreadable name")
    registration = RegisterPatient(full_name="Bo Skipped", date_of_birth="1990-01-01")
    result = services.bus.handle(registration)
    shown = card(admin, "patients")
    assert f'data-failed-position="{result.position}"' in shown
    caplog.set_level(logging.INFO, logger="rendezvous.ops")

    for malformed in ("²", "seven"):
        response = admin.post("/ops/projections/patients/skip", {"position": malformed})
        assert response.status_code == 400
    moved = admin.post("/ops/projections/patients/skip", {"position": str(result.position + 1)})
    assert moved.status_code == 409
    assert "now failing on another event" in card_in(page_text(moved), "patients")

    skipped = admin.post("/ops/projections/patients/skip", {"position": str(result.position)})
    assert skipped.status_code == 303
    assert 'data-state="up to date"' in card(admin, "patients")
    with services.read_engine.connect() as conn:
        assert [p for _, p in cp.skipped(conn, "patients")] == [result.position]
    assert "Bo Skipped" not in names(services.read_engine)

    again = admin.post("/ops/projections/patients/skip", {})
    assert again.status_code == 409
    assert "Patients has no failed event to skip." in card_in(page_text(again), "patients")
    messages = [r.getMessage() for r in caplog.records if r.name == "rendezvous.ops"]
    assert any(
        "on patients, by test-admin" in m and "skipped PatientRegistered" in m for m in messages
    )
    assert any("skip on patients refused for test-admin" in m for m in messages)


def test_two_rebuild_requests_at_once_queue_one(pg_engine, clock):
    outcomes: list[object] = []
    barrier = threading.Barrier(2)

    def ask(who: str) -> None:
        barrier.wait()
        try:
            outcomes.append(rebuilds.request(pg_engine, "doctors", who, clock.now))
        except rebuilds.RebuildRefusedError as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=ask, args=(who,)) for who in ("ann", "bob")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(type(o).__name__ for o in outcomes) == ["Rebuild", "RebuildRefusedError"]


def test_an_abandoned_rebuild_gives_way_to_a_new_request(pg_engine, clock):
    first = rebuilds.request(pg_engine, "doctors", "ann", clock.now)
    with pytest.raises(rebuilds.RebuildRefusedError, match="queued already, asked for by ann"):
        rebuilds.request(pg_engine, "doctors", "bob", clock.advance(seconds=30))

    second = rebuilds.request(pg_engine, "doctors", "bob", clock.advance(seconds=60))

    assert second.state == "queued"
    gone = rebuilds.get(pg_engine, first.id)
    assert gone is not None and gone.state == "failed" and "Abandoned" in (gone.error or "")


def test_the_page_says_when_a_rebuild_stalled_and_asking_again_replaces_it(pg_app, admin):
    services = pg_app.extensions["rendezvous"]
    now = services.projector.clock()
    lost = rebuilds.request(services.read_engine, "doctors", "ann", now - timedelta(minutes=2))

    shown = card(admin, "doctors")
    assert 'data-rebuild="stalled"' in shown and "no worker has taken it" in shown
    assert CARD_POLLS not in shown

    assert admin.post("/ops/projections/doctors/rebuild", {}).status_code == 303
    replaced = rebuilds.get(services.read_engine, lost.id)
    assert replaced is not None and replaced.state == "failed"
    wait_until(lambda: 'data-rebuild="done"' in card(admin, "doctors"), timeout=10,
               what="the new rebuild, in a thread (no broker), to finish")  # fmt: skip


# -- a real worker --


@pytest.fixture
def brokered(brokered_app):  # type: ignore[no-untyped-def]
    """The web app with a broker: rebuilds go to the queue's workers."""
    return brokered_app(0.5, 1.0)


def start_worker(tmp_path, pg_url: str, queue: str) -> Worker:  # type: ignore[no-untyped-def]
    env = {
        **os.environ,
        "DATABASE_URL_WRITE": pg_url,
        "CELERY_BROKER_URL": redis_test_url(),
        "CELERY_QUEUE": queue,
        "CLINIC_TIMEZONE": "Europe/Paris",
        "PROJECTION_TICK_SECONDS": "0.5",
        "OPS_SAMPLE_SECONDS": "1",
        "SECRET_KEY": "test",
    }
    env.pop("DATABASE_URL_READ", None)
    # The sampler reads the metrics of every process on the host: without this directory
    # it would read one pool process's, and does not sample.
    (tmp_path / "metrics").mkdir()
    env["PROMETHEUS_MULTIPROC_DIR"] = str(tmp_path / "metrics")
    return Worker(env, tmp_path / "ops-worker.log", "ops", beat=True).start()


def test_a_rebuild_runs_on_a_real_worker_and_a_second_one_is_refused_meanwhile(
    brokered, pg_url, broker_queue, tmp_path
):
    services = brokered.extensions["rendezvous"]
    admin = Staff(brokered, "admin")
    open_clinic(services.bus, patients=5)
    catch_up(services.projector)
    with services.read_engine.begin() as conn:  # damage the live table, as a bug would
        conn.execute(sa.update(t.patients).values(full_name="garbled"))

    assert admin.post("/ops/projections/patients/rebuild", {}).status_code == 303
    queued = card(admin, "patients")
    assert CARD_POLLS in queued and "waiting for a worker" in queued
    refused = admin.post("/ops/projections/patients/rebuild", {})
    assert refused.status_code == 409
    assert "A rebuild of Patients is queued already, asked for by test-admin" in page_text(refused)

    waiting = rebuilds.latest(services.read_engine)["patients"]
    assert (waiting.state, waiting.done, waiting.started_at) == ("queued", 0, None)

    worker = start_worker(tmp_path, pg_url, broker_queue)
    try:
        seen = [waiting.state]

        def finished() -> bool:
            [row] = rebuilds.latest(services.read_engine).values()
            if row.state != seen[-1]:
                seen.append(row.state)
            return row.state in ("done", "failed")

        wait_until(finished, timeout=30, what="the worker to finish the rebuild")
        wait_until(lambda: samples.latest_time(services.read_engine), timeout=15,
                   what="beat's sample for the charts")  # fmt: skip
    finally:
        worker.stop()
        print(worker.log.read_text()[-4000:])

    rebuild = rebuilds.latest(services.read_engine)["patients"]
    assert rebuild.state == "done", rebuild.error
    assert rebuild.done >= rebuild.total > 0 and rebuild.started_at <= rebuild.finished_at
    assert seen in (["queued", "done"], ["queued", "running", "done"])
    assert names(services.read_engine) == {f"Patient {n}" for n in range(5)}
    assert services.maintenance.verify("patients").ok
    after = card(admin, "patients")
    assert CARD_POLLS not in after and 'data-rebuild="done"' in after


# -- without a broker: the embedded default, on SQLite --


def test_without_a_broker_a_thread_rebuilds_with_progress_and_the_page_samples(
    sqlite_app, monkeypatch
):
    services = sqlite_app.extensions["rendezvous"]
    admin = Staff(sqlite_app, "admin")
    open_clinic(services.bus, patients=20)
    admin.get("/ops")
    admin.get("/ops")
    with services.read_engine.connect() as conn:  # one sample: the second was not due
        assert conn.execute(sa.select(sa.func.count()).select_from(t.ops_samples)).scalar() == 1

    # A replay in small chunks that stops after its first one until the test has looked.
    maintenance, paused, go_on = services.maintenance, threading.Event(), threading.Event()
    replay = maintenance.rebuild

    def rebuild_pausing(name, progress):  # type: ignore[no-untyped-def]
        def report(events: int) -> None:
            progress(events)
            if not paused.is_set():
                paused.set()
                go_on.wait(10)

        return replay(name, progress=report)

    monkeypatch.setattr(maintenance, "chunk", 5)
    monkeypatch.setattr(maintenance, "rebuild", rebuild_pausing)

    assert admin.post("/ops/projections/patients/rebuild", {}).status_code == 303
    wait_until(paused.is_set, timeout=10, what="the thread to replay a first chunk")
    progress = re.compile(r"<span data-done>([1-9]\d*)</span> of (\d+) events \((\d+) %\)")
    moving = wait_until(
        lambda: progress.search(card(admin, "patients")),
        timeout=10,
        what="the card to show the first chunk's progress",
    )
    done, total, percent = map(int, moving.groups())
    assert done < total and percent == done * 100 // total
    assert CARD_POLLS in card(admin, "patients")
    go_on.set()
    wait_until(lambda: 'data-rebuild="done"' in card(admin, "patients"), timeout=10,
               what="the rebuild to finish")  # fmt: skip

    assert CARD_POLLS not in card(admin, "patients")
    assert names(services.read_engine) == {f"Patient {n}" for n in range(20)}


def test_a_failed_rebuild_shows_its_error_and_leaves_the_live_tables_as_they_were(
    sqlite_app, monkeypatch
):
    services = sqlite_app.extensions["rendezvous"]
    admin = Staff(sqlite_app, "admin")
    open_clinic(services.bus, patients=2)
    before = names(services.read_engine)
    break_patients(monkeypatch, "bad data in the log")

    assert admin.post("/ops/projections/patients/rebuild", {}).status_code == 303
    wait_until(lambda: 'data-rebuild="failed"' in card(admin, "patients"), timeout=10,
               what="the rebuild to fail")  # fmt: skip

    shown = card(admin, "patients")
    assert "the live tables are unchanged" in shown and "bad data in the log" in shown
    assert names(services.read_engine) == before
    assert "rm_patients__rebuild" not in sa.inspect(services.read_engine).get_table_names()


# -- charts --


def test_the_sampler_keeps_two_hours_and_the_charts_draw_real_commands(pg_app, admin):
    services = pg_app.extensions["rendezvous"]
    projector = services.projector
    now = projector.clock()
    samples.take(projector, now - timedelta(hours=3))
    samples.take(projector, now - timedelta(seconds=20))
    clinic = open_clinic(services.bus)
    clinic.book(f"{monday_ahead()} 09:00")
    samples.take(projector, now - timedelta(seconds=2))  # the page finds none due yet

    kept = samples.since(services.read_engine, now - timedelta(hours=4))
    assert [s.taken_at for s in kept] == [now - timedelta(seconds=20), now - timedelta(seconds=2)]
    assert kept[1].payload["events"] - kept[0].payload["events"] >= 6
    assert kept[1].payload["command_buckets"]["+Inf"] > kept[0].payload["command_buckets"]["+Inf"]

    charts = page_text(admin.htmx_get("/ops/charts", "ops-charts"))

    assert charts.startswith('<section class="ops-charts" id="ops-charts"')
    rate = re.search(r"Latest: Appended ([\d.]+) events/s", charts)
    assert rate and float(rate.group(1)) > 0
    assert re.search(r"Latest: p50 [\d.]+ ms, p99 [\d.]+ ms\.", charts)
    for key in ("events", "latency", "lag"):
        drawn = charts[charts.index(f'id="chart-{key}"') :]
        assert drawn.startswith(f'id="chart-{key}" data-has-data="yes"')
        assert 'role="img"' in drawn and f'<title id="chart-{key}-title">' in drawn
    assert "<polyline" in charts and "style=" not in charts
    assert 'events/s <span class="meta">through the log' in page_text(admin.get("/ops"))
