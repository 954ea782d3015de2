"""/metrics: who may scrape it, and that what it shows moves by exactly what happened, in
one process and summed over gunicorn's and Celery's processes.

The in-process tests share this test worker's registry with every test before them, so they
compare a scrape before with a scrape after, never absolute values.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families

from app.config import celery_config
from app.domain.events import AppointmentConfirmed
from app.eventstore import EventMetadata
from app.gunicorn_conf import metrics_directory_problem
from app.tasks import PROJECTION_TASK

from ..backends import dispose, make_app, redis_test_url
from ..clinic import monday_ahead, open_clinic
from .projecting import everything_projected, wait_until
from .webclient import PASSWORD, TOKEN, Staff, account
from .workers import ROOT, Gunicorn, Worker, forget_queue, free_port

METRICS_TOKEN = "test-metrics-token-" + "x" * 24
BEARER = {"Authorization": f"Bearer {METRICS_TOKEN}"}
META = EventMetadata(actor="tests", correlation_id="c", causation_id="c")

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def samples(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(found: Samples, name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def total(found: Samples, name: str, **labels: str) -> float:
    """The sum of `name` over every label set that includes `labels`."""
    wanted = set(labels.items())
    return sum(v for (n, keys), v in found.items() if n == name and wanted <= keys)


@pytest.fixture(scope="module")
def metrics_app(pg_url):  # type: ignore[no-untyped-def]
    # Figures are read afresh at each scrape, so that a test sees its own changes.
    app = make_app(pg_url, METRICS_TOKEN=METRICS_TOKEN, METRICS_CACHE_SECONDS=0)
    yield app
    dispose(app)


@pytest.fixture
def app(metrics_app, pg_engine):  # type: ignore[no-untyped-def]
    """This module's app, whose services `app_services` gives, on an emptied database."""
    return metrics_app


def scrape(app, headers: dict[str, str] = BEARER) -> Samples:  # type: ignore[no-untyped-def]
    response = app.test_client().get("/metrics", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return samples(response.get_data(as_text=True))


class TestWhoMayScrape:
    def test_an_anonymous_scraper_is_asked_for_a_token_not_sent_to_sign_in(self, metrics_app):
        response = metrics_app.test_client().get("/metrics")
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert "Location" not in response.headers

    def test_a_wrong_token_is_refused(self, metrics_app):
        wrong = {"Authorization": f"Bearer {METRICS_TOKEN}-not"}
        response = metrics_app.test_client().get("/metrics", headers=wrong)
        assert response.status_code == 401
        assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
        basic = {"Authorization": "Basic " + METRICS_TOKEN}
        assert metrics_app.test_client().get("/metrics", headers=basic).status_code == 401

    def test_the_right_token_is_enough(self, metrics_app):
        response = metrics_app.test_client().get("/metrics", headers=BEARER)
        assert response.status_code == 200
        assert response.content_type == CONTENT_TYPE_LATEST
        assert "Set-Cookie" not in response.headers

    def test_reception_and_doctors_are_refused_and_admins_let_in(self, metrics_app, app_services):
        clinic = open_clinic(app_services.bus, patients=1)
        for role, doctor_id in (("reception", None), ("doctor", clinic.doctor_id)):
            response = Staff(metrics_app, role, doctor_id).client.get("/metrics")
            assert response.status_code == 403, role
        response = Staff(metrics_app, "admin").client.get("/metrics")
        assert response.status_code == 200
        assert "rendezvous_event_store_events" in response.get_data(as_text=True)

    def test_a_proxys_basic_credentials_do_not_hide_an_admins_session(self, metrics_app):
        basic = {"Authorization": "Basic cHJveHk6c2VjcmV0"}
        response = Staff(metrics_app, "admin").client.get("/metrics", headers=basic)
        assert response.status_code == 200

    def test_without_a_configured_token_no_token_opens_it(self, pg_app):
        assert pg_app.config["METRICS_TOKEN"] is None
        response = pg_app.test_client().get("/metrics", headers={"Authorization": "Bearer "})
        assert response.status_code == 401
        assert Staff(pg_app, "admin").client.get("/metrics").status_code == 200


class TestWhatCommandsRecord:
    def test_each_outcome_moves_its_histogram_and_only_written_events_are_counted(
        self, metrics_app, app_services
    ):
        clinic = open_clinic(app_services.bus, patients=1)
        appointment = clinic.book(f"{monday_ahead()} 09:00")
        staff = Staff(metrics_app, "reception")
        url = f"/appointments/{appointment}/confirm"
        before = scrape(metrics_app)

        assert staff.post(url, {"expected_version": "1"}).status_code == 303  # ok
        stale = staff.post(url, {"expected_version": "1"})  # someone confirmed it meanwhile
        again = staff.post(url, {"expected_version": "2"})  # confirmed already: refused
        assert 400 <= stale.status_code < 500 and 400 <= again.status_code < 500

        after = scrape(metrics_app)
        count = "rendezvous_command_duration_seconds_count"
        command = "ConfirmAppointment"
        for outcome in ("ok", "conflict", "rejected"):
            assert moved(before, after, count, command=command, outcome=outcome) == 1, outcome
            bucket = "rendezvous_command_duration_seconds_bucket"
            labels = {"command": command, "outcome": outcome, "le": "+Inf"}
            assert moved(before, after, bucket, **labels) == 1
        assert total(after, count) - total(before, count) == 3
        assert moved(before, after, "rendezvous_command_duration_seconds_sum",
                     command=command, outcome="ok") > 0  # fmt: skip
        appended = "rendezvous_events_appended_total"
        assert moved(before, after, appended, event_type="AppointmentConfirmed") == 1
        assert total(after, appended) - total(before, appended) == 1

    def test_a_command_that_breaks_is_an_error_and_counts_no_event(
        self, metrics_app, app_services, monkeypatch
    ):
        clinic = open_clinic(app_services.bus, patients=1)
        appointment = clinic.book(f"{monday_ahead()} 10:00")
        staff = Staff(metrics_app, "reception")
        staff.get("/")
        before = scrape(metrics_app)

        def broken():  # type: ignore[no-untyped-def]
            raise RuntimeError("the disk is on fire")

        monkeypatch.setattr(app_services.store, "transaction", broken)
        response = staff.post(f"/appointments/{appointment}/confirm", {"expected_version": "1"})
        assert response.status_code == 500
        monkeypatch.undo()

        after = scrape(metrics_app)
        count = "rendezvous_command_duration_seconds_count"
        assert moved(before, after, count, command="ConfirmAppointment", outcome="error") == 1
        appended = "rendezvous_events_appended_total"
        assert total(after, appended) == total(before, appended)

    def test_events_appended_outside_the_bus_are_counted_once_committed(
        self, metrics_app, app_services
    ):
        before = scrape(metrics_app)
        app_services.store.append(
            uuid.uuid4(), 0, [AppointmentConfirmed()] * 2, stream_type="t", metadata=META
        )
        with pytest.raises(RuntimeError), app_services.store.transaction() as tx:
            tx.append(uuid.uuid4(), 0, [AppointmentConfirmed()], stream_type="t", metadata=META)
            raise RuntimeError("rolled back after the insert")
        after = scrape(metrics_app)
        appended = "rendezvous_events_appended_total"
        assert moved(before, after, appended, event_type="AppointmentConfirmed") == 2

    def test_a_metrics_fault_never_fails_a_command_that_committed(self, app_services, monkeypatch):
        class Broken:
            def labels(self, *_):  # type: ignore[no-untyped-def]
                raise FileNotFoundError("PROMETHEUS_MULTIPROC_DIR is gone")

        monkeypatch.setattr("app.eventstore.store.EVENTS_APPENDED", Broken())
        monkeypatch.setattr("app.commands.bus.COMMAND_SECONDS", Broken())
        clinic = open_clinic(app_services.bus, patients=1)
        assert app_services.store.count() == 3
        assert app_services.store.load(clinic.patient_ids[0])


class TestWhatTheReadSideRecords:
    def test_each_page_times_its_read_repositories(self, metrics_app, app_services):
        clinic = open_clinic(app_services.bus, patients=1)
        appointment = clinic.book(f"{monday_ahead()} 09:00")
        staff = Staff(metrics_app, "reception")
        before = scrape(metrics_app)
        staff.get(f"/appointments/{appointment}")
        staff.get("/appointments")
        staff.get("/")
        after = scrape(metrics_app)
        count = "rendezvous_query_duration_seconds_count"
        assert moved(before, after, count, repository="appointment_detail") == 1
        assert moved(before, after, count, repository="appointment_history") == 1
        assert moved(before, after, count, repository="appointment_list") >= 1
        assert moved(before, after, count, repository="day_counts") == 1
        # No cache without REDIS_URL: nothing is counted as a hit or a miss.
        for kind in ("hits", "misses"):
            assert total(after, f"rendezvous_cache_{kind}_total") == total(
                before, f"rendezvous_cache_{kind}_total"
            )

    def test_projections_count_the_events_they_apply_and_time_their_batches(
        self, metrics_app, app_services
    ):
        before = scrape(metrics_app)
        open_clinic(app_services.bus, patients=2)  # 4 events, each projected after its command
        after = scrape(metrics_app)
        processed = "rendezvous_projection_events_processed_total"
        batches = "rendezvous_projection_batch_duration_seconds_count"
        # patients: the 2 registrations; doctors: the registration and the hours;
        # appointments: all 4 (it keeps the parties' names, and the hours that the call list
        # judges appointments by).
        assert moved(before, after, processed, projection="patients") == 2
        assert moved(before, after, processed, projection="doctors") == 2
        assert moved(before, after, processed, projection="appointments") == 4
        for name in ("patients", "doctors", "appointments"):
            assert moved(before, after, batches, projection=name) >= 1


class TestFiguresReadWhenScraped:
    def test_the_store_size_is_the_store_as_it_is_now(self, metrics_app, app_services, pg_engine):
        open_clinic(app_services.bus, patients=2)
        found = scrape(metrics_app)
        assert value(found, "rendezvous_event_store_events") == app_services.store.count() == 4
        with pg_engine.connect() as conn:
            heap, whole = conn.execute(
                sa.text("SELECT pg_relation_size('events'), pg_total_relation_size('events')")
            ).one()
        assert heap < value(found, "rendezvous_event_store_bytes") <= whole

    def test_the_lag_of_each_projection_is_its_unapplied_events_and_their_age(
        self, metrics_app, app_services
    ):
        open_clinic(app_services.bus, patients=1)  # projected in process, after each command
        found = scrape(metrics_app)
        names = set(app_services.projector.names)
        for name in names:
            assert value(found, "rendezvous_projection_events_behind", projection=name) == 0
            assert value(found, "rendezvous_projection_seconds_behind", projection=name) == 0
            assert value(found, "rendezvous_projection_parked", projection=name) == 0

        # Written without the bus: nothing projects them.
        recorded = datetime.now(UTC) - timedelta(seconds=90)
        app_services.store.append(
            uuid.uuid4(), 0, [AppointmentConfirmed()] * 2, stream_type="t", metadata=META,
            recorded_at=recorded,
        )  # fmt: skip
        found = scrape(metrics_app)
        for name in names:
            assert value(found, "rendezvous_projection_events_behind", projection=name) == 2
            seconds = value(found, "rendezvous_projection_seconds_behind", projection=name)
            assert 90 <= seconds < 120, (name, seconds)


class TestCeleryTasks:
    def test_a_failing_task_is_counted_once_and_each_retry_too(
        self, metrics_app, app_services, monkeypatch
    ):
        task = metrics_app.extensions["celery"].tasks["rendezvous.project"]
        failures = "rendezvous_celery_task_failures_total"
        before = scrape(metrics_app)
        assert task.apply(args=["no-such-projection"]).state == "FAILURE"
        after = scrape(metrics_app)
        assert moved(before, after, failures, task="rendezvous.project") == 1

        def unreachable(name, **_):  # type: ignore[no-untyped-def]
            raise sa.exc.OperationalError("SELECT 1", {}, ConnectionError("server gone"))

        monkeypatch.setattr(app_services.projector, "settle", unreachable)
        assert task.apply(args=["patients"]).state == "FAILURE"
        retried = scrape(metrics_app)
        # Run eagerly, the retries come at once: every attempt that raised is counted.
        expected = PROJECTION_TASK["max_retries"] + 1
        assert moved(after, retried, failures, task="rendezvous.project") == expected


class TestGunicornSettings:
    def test_several_workers_need_a_metrics_directory_one_worker_is_warned(self, tmp_path):
        fatal, _ = metrics_directory_problem(None, 2)
        assert fatal and "PROMETHEUS_MULTIPROC_DIR" in fatal
        fatal, warning = metrics_directory_problem(None, 1)
        assert fatal is None and warning
        assert metrics_directory_problem(str(tmp_path / "missing"), 2)[0]
        assert metrics_directory_problem(str(tmp_path), 2) == (None, None)
        (tmp_path / "counter_123.db").write_bytes(b"")
        fatal, warning = metrics_directory_problem(str(tmp_path), 2)
        assert fatal is None and warning and "1 metric files" in warning

    def test_gunicorn_refuses_to_start_several_workers_without_one(self, tmp_path):
        env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
        env["SECRET_KEY"] = "test"
        done = subprocess.run(
            [sys.executable, "-m", "gunicorn", "-c", "python:app.gunicorn_conf",
             "--bind", f"127.0.0.1:{free_port()}", "--workers", "2"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        assert done.returncode == 1
        assert "PROMETHEUS_MULTIPROC_DIR is not set" in done.stderr


# -- Several processes: gunicorn's workers and a Celery worker share one directory --


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None  # a 303 after a command is the answer itself


@dataclass
class Browser:
    """A member of staff over real HTTP: cookies, the CSRF token, no redirects followed."""

    base: str

    def __post_init__(self) -> None:
        cookies = urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        self.opener = urllib.request.build_opener(cookies, NoRedirect())
        self.token = ""

    def open(
        self, path: str, form: dict[str, str] | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, str]:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        request = urllib.request.Request(self.base + path, data=data, headers=headers or {})
        try:
            with self.opener.open(request, timeout=10) as response:
                status, body = response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            status, body = exc.code, exc.read().decode()
        if found := TOKEN.search(body):
            self.token = found.group(1)
        return status, body

    def sign_in(self, username: str) -> None:
        self.open("/login")
        form = {"csrf_token": self.token, "username": username, "password": PASSWORD}
        assert self.open("/login", form)[0] == 303
        self.open("/")  # the signed-in session's token

    def post(self, path: str, form: dict[str, str]) -> int:
        return self.open(path, {"csrf_token": self.token, **form})[0]


# gunicorn's access log names the worker process that served each request.
ACCESS_LOG_WITH_PID = ("--access-logformat", "pid=%(p)s %(m)s %(U)s %(s)s")


def pids_that_served(web: Gunicorn, method: str, path: str) -> set[str]:
    pattern = re.compile(rf"pid=<(\d+)> {method} {re.escape(path)} ")
    return set(pattern.findall(web.log.read_text()))


@pytest.fixture
def stack(tmp_path, pg_url, pg_engine) -> Iterator[tuple[Gunicorn, Worker, str]]:  # type: ignore[no-untyped-def]
    directory = tmp_path / "metrics"
    directory.mkdir()
    queue = f"rendezvous-test-metrics-{uuid.uuid4().hex[:8]}"
    worker_port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL_WRITE": pg_url,
        "CELERY_BROKER_URL": redis_test_url(),
        "CELERY_QUEUE": queue,
        "CLINIC_TIMEZONE": "Europe/Paris",
        "SECRET_KEY": "test",
        "METRICS_TOKEN": METRICS_TOKEN,
        "PROMETHEUS_MULTIPROC_DIR": str(directory),
        "WORKER_METRICS_PORT": str(worker_port),
    }
    for name in ("DATABASE_URL_READ", "REDIS_URL"):
        env.pop(name, None)
    web = Gunicorn({k: v for k, v in env.items() if k != "WORKER_METRICS_PORT"},
                   tmp_path / "gunicorn.log", extra=ACCESS_LOG_WITH_PID)  # fmt: skip
    worker = Worker(env, tmp_path / "worker.log", f"metrics-{queue[-8:]}")
    try:
        web.start()
        worker.start()
        web.wait_ready()
        yield web, worker, f"http://127.0.0.1:{worker_port}/metrics"
    finally:
        web.stop()
        worker.stop()
        forget_queue(redis_test_url(), queue)
        # Shown by pytest only when the test fails.
        print(f"--- gunicorn ---\n{web.log.read_text()[-4000:]}")
        print(f"--- worker ---\n{worker.log.read_text()[-4000:]}")


def test_gunicorn_workers_and_the_celery_worker_add_up_in_one_scrape(stack, pg_url):
    web, worker, worker_metrics = stack
    commands = 20
    app = make_app(pg_url, CELERY=celery_config(redis_test_url(), worker.env["CELERY_QUEUE"], 5))
    try:
        services = app.extensions["rendezvous"]
        browser = Browser(web.url)
        # An account of its own: signing in on gunicorn rehashes its password at full cost.
        browser.sign_in(
            account(app, "reception", username=f"metrics-{uuid.uuid4().hex[:8]}").username
        )

        def register(n: int) -> int:
            # A phone each, or the later ones would look like the first (a 409).
            form = {"full_name": f"Patient {n}", "date_of_birth": "1980-02-03",
                    "phone": f"06987654{n:02}", "command_id": str(uuid.uuid4())}  # fmt: skip
            return browser.post("/patients", form)

        # Four at a time, so that both sync workers take some.
        with ThreadPoolExecutor(4) as pool:
            assert list(pool.map(register, range(commands))) == [303] * commands
        assert len(pids_that_served(web, "POST", "/patients")) == 2, web.log.read_text()
        wait_until(lambda: everything_projected(services.projector), timeout=15,
                   what="the worker to project every event")  # fmt: skip

        # A task that fails in a worker's pool process.
        app.extensions["celery"].send_task("rendezvous.project", ("no-such-projection",))
        failures = "rendezvous_celery_task_failures_total"

        def scraped() -> Samples | None:
            found = samples(browser.open("/metrics", headers=BEARER)[1])
            return found if value(found, failures, task="rendezvous.project") else None

        found = wait_until(scraped, timeout=10, what="the worker's failure in the web's scrape")
        assert value(found, failures, task="rendezvous.project") == 1
        appended = value(found, "rendezvous_events_appended_total", event_type="PatientRegistered")
        assert appended == commands
        count = "rendezvous_command_duration_seconds_count"
        assert value(found, count, command="RegisterPatient", outcome="ok") == commands
        processed = "rendezvous_projection_events_processed_total"
        assert value(found, processed, projection="patients") == commands
        assert value(found, processed, projection="appointments") == commands
        assert value(found, "rendezvous_event_store_events") == services.store.count()

        # The worker's own port shows the same directory's totals.
        with urllib.request.urlopen(worker_metrics, timeout=5) as response:
            from_worker = samples(response.read().decode())
        assert value(from_worker, "rendezvous_events_appended_total",
                     event_type="PatientRegistered") == commands  # fmt: skip
        assert value(from_worker, processed, projection="patients") == commands
    finally:
        app.extensions["celery"].close()
        dispose(app)
