"""Reminders (issue 20), end to end through a real SMTP server and a real HTTP SMS provider:
what goes when, to whom and by which channel, what is recorded, and exactly once when the
sender dies at the worst moment, two senders run at once, or Redis restarts mid-batch.

The in-process tests run on the test clock (Monday 11 January 2027, 08:00 in the clinic);
the ones with real processes (the CLI, a Celery worker) on the real clock, with a doctor
who works every day so that "tomorrow" always has a free morning."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from icalendar import Calendar

from app.commands import commands as c
from app.domain.events import PatientRegistered
from app.domain.reminders import reminders_stream_id
from app.eventstore import Decision, EventMetadata
from app.outbound import ledger
from app.outbound.sender import sender_for
from app.outbound.tables import deliveries

from ..backends import redis_test_url
from ..clinic import local
from ..conftest import CLINIC_TZ, Clock
from .outbox import SmsProvider, SmtpRecorder, SmtpServer, TwilioApi, wait_for
from .webclient import Staff
from .workers import ROOT, RedisServer, Worker, free_port

EVERY_DAY = {d: [["08:00", "20:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def _clinic(bus: Any, patients: int, *, channel: str = "email", first: datetime) -> list[uuid.UUID]:
    """A doctor working every day, `patients` patients who agreed to `channel`, each booked
    half an hour after the other from `first`: the appointments' ids."""
    doctor = bus.handle(c.RegisterDoctor(full_name="Dr Ada Martin", specialty="General practice"))
    bus.handle(c.SetWorkingHours(doctor_id=doctor.stream_id, hours=EVERY_DAY, slot_minutes=15))
    bus.handle(
        c.SetClinicContact(
            clinic_name="Clinique du Parc",
            address="12 rue des Lilas, 75011 Paris",
            phone="01 43 00 00 00",
            what_to_bring="Your health card",
        )
    )
    booked = []
    for n in range(patients):
        patient = bus.handle(
            c.RegisterPatient(
                full_name=f"Jeanne Patient {n}",
                date_of_birth="1980-02-03",
                phone=f"+33 6 12 34 56 {n:02d}",
                email=f"patient{n}@example.org",
            )
        ).stream_id
        bus.handle(
            c.SetPatientReminders(patient_id=patient, consents=[channel], preferred_channel=channel)
        )
        booked.append(
            bus.handle(
                c.CreateAppointment(
                    patient_id=patient,
                    doctor_id=doctor.stream_id,
                    starts_at=first + timedelta(minutes=30 * n),
                    duration_minutes=30,
                    title="Check-up",
                )
            ).stream_id
        )
    return booked


def _tomorrow_morning() -> datetime:
    return datetime.combine(
        datetime.now(CLINIC_TZ).date() + timedelta(days=1), datetime.min.time()
    ).replace(hour=9, tzinfo=CLINIC_TZ)


def _events(store: Any, appointment_id: uuid.UUID, kind: str = "ReminderSent") -> list[Any]:
    return [r for r in store.load(reminders_stream_id(appointment_id)) if r.event_type == kind]


def _states(engine: Any) -> dict[str, str]:
    with engine.connect() as conn:
        return dict(conn.execute(sa.select(deliveries.c.key, deliveries.c.state)).all())


# -- in process, on the test clock, on both backends --


@pytest.fixture(params=["sqlite", "postgresql"])
def clinic_app(request: pytest.FixtureRequest, clock: Clock):  # type: ignore[no-untyped-def]
    """An app on each backend, on the test clock, projecting in process."""
    from app.extensions import services

    app = request.getfixturevalue({"sqlite": "sqlite_app", "postgresql": "app"}[request.param])
    found = services(app)
    saved = found.bus.clock, found.projector.clock
    found.bus.clock = found.projector.clock = clock
    yield app
    found.bus.clock, found.projector.clock = saved
    for key in ("SMTP_URL", "SMS_PROVIDER_URL", "TWILIO_ACCOUNT_SID", "TWILIO_API_URL"):
        app.config[key] = None


def test_tomorrows_reminder_is_sent_once_with_the_visit_and_its_link(clinic_app):  # type: ignore[no-untyped-def]
    from app.extensions import services

    found = services(clinic_app)
    [appointment] = _clinic(found.bus, 1, first=local("2027-01-12 09:00"))
    with SmtpServer() as smtp, clinic_app.app_context():
        clinic_app.config["SMTP_URL"] = smtp.url
        report = sender_for(clinic_app).send_due()
        assert report.outcomes == {"sent": 1}
        again = sender_for(clinic_app).send_due()
    assert again.planned == 0 and not again.outcomes  # nothing twice
    [got] = smtp.recorder.received
    assert got.recipients == ["patient0@example.org"]
    message = got.message
    assert "Clinique du Parc" in str(message["Subject"])
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    for part in (text, html):
        assert "Dr Ada Martin" in part and "12 rue des Lilas" in part and "09:00" in part
    ics = next(p for p in message.iter_attachments() if p.get_content_type() == "text/calendar")
    event = Calendar.from_ical(ics.get_content()).walk("VEVENT")[0]
    assert str(event["UID"]) == f"{appointment}@rendezvous"
    assert event.decoded("DTSTART") == local("2027-01-12 09:00")
    [sent] = _events(found.store, appointment)
    assert (sent.event.channel, sent.event.kind, sent.event.recovered) == ("email", "first", False)
    assert sent.event.provider_id  # the server's queue id
    # The link in the message opens the patient's page for this appointment.
    link = next(word for word in text.split() if "/p/" in word)
    page = clinic_app.test_client().get(link[link.index("/p/") :])
    assert page.status_code == 200
    assert f'data-appointment-id="{appointment}"' in page.get_data(as_text=True)


def test_no_reminder_for_a_cancelled_or_moved_time_and_a_move_plans_a_new_one(clinic_app, clock):  # type: ignore[no-untyped-def]
    from app.extensions import services

    found = services(clinic_app)
    _kept, cancelled, moved = _clinic(found.bus, 3, first=local("2027-01-12 09:00"))
    with SmtpServer() as smtp, clinic_app.app_context():
        clinic_app.config["SMTP_URL"] = smtp.url
        sender = sender_for(clinic_app)
        assert sender.plan() == 3
        # Changed after the pass planned them, before it sent them: checked again at send.
        found.bus.handle(c.CancelAppointment(appointment_id=cancelled, reason="Feeling better"))
        found.bus.handle(
            c.RescheduleAppointment(
                appointment_id=moved, starts_at=local("2027-01-12 15:00"), duration_minutes=30
            )
        )
        first = sender.send_due()
        assert first.outcomes == {"sent": 2, "dropped": 2}
        assert sorted(r.recipients[0] for r in smtp.recorder.received) == [
            "patient0@example.org",
            "patient2@example.org",
        ]
        # The moved visit's reminder names its new time.
        moved_mail = next(
            r for r in smtp.recorder.received if r.recipients == ["patient2@example.org"]
        )
        assert "15:00" in moved_mail.message.get_body(("plain",)).get_content()
        assert _events(found.store, cancelled) == []
        # The visit passed: nothing more to send.
        clock.advance(days=2)
        assert not sender.send_due().outcomes


def test_without_consent_or_a_reachable_address_nothing_is_sent_and_the_desk_sees_why(  # type: ignore[no-untyped-def]
    clinic_app, clock
):
    from app.extensions import services

    found = services(clinic_app)
    no_consent, landline, _ = _clinic(found.bus, 3, first=local("2027-01-12 09:00"))
    patients = {a: found.store.load(a)[0].event.patient_id for a in (no_consent, landline, _)}
    found.bus.handle(c.SetPatientReminders(patient_id=patients[no_consent], consents=[]))
    found.bus.handle(
        c.ChangePatientDetails(
            patient_id=patients[landline],
            full_name="Jeanne Patient 1",
            date_of_birth="1980-02-03",
            phone="01 42 00 00 00",  # a landline: no text message reaches it
            email="",
        )
    )
    found.bus.handle(
        c.SetPatientReminders(
            patient_id=patients[landline], consents=["sms"], preferred_channel="sms"
        )
    )
    # An address recorded before the form checked them: taken as it is, never sent to.
    legacy = uuid.uuid4()
    with found.store.transaction() as tx:
        tx.save(
            Decision(
                "patient",
                legacy,
                0,
                [PatientRegistered("Old Record", local("1970-01-01 00:00").date(), "", "old@@x")],
            ),
            metadata=EventMetadata("import", "import", "import"),
            recorded_at=clock(),
            command_id=uuid.uuid4(),
            command_type="Import",
        )
    found.bus.handle(c.SetPatientReminders(patient_id=legacy, consents=["email"]))
    [bad_email] = _clinic_booking(found.bus, legacy, _)
    with SmtpServer() as smtp, SmsProvider() as sms, clinic_app.app_context():
        clinic_app.config.update(SMTP_URL=smtp.url, SMS_PROVIDER_URL=sms.url)
        report = sender_for(clinic_app).send_due()
    assert report.outcomes == {"sent": 1, "skipped": 3}
    assert len(smtp.recorder.received) == 1 and sms.requests == []
    reasons = {
        a: _events(found.store, a, "ReminderSkipped")[0].event.reason
        for a in (no_consent, landline, bad_email)
    }
    assert reasons == {
        no_consent: "no_consent",
        landline: "invalid_phone",
        bad_email: "invalid_email",
    }
    staff = Staff(clinic_app, "admin")
    shown = staff.get(f"/patients/{legacy}").get_data(as_text=True)
    assert "the e-mail address on the record cannot be sent to" in shown


def _clinic_booking(bus: Any, patient: uuid.UUID, beside: uuid.UUID) -> list[uuid.UUID]:
    """Book `patient` with the doctor of appointment `beside`, at 11:00 the same day."""
    first = bus.store.load(beside)[0].event
    return [
        bus.handle(
            c.CreateAppointment(
                patient_id=patient,
                doctor_id=first.doctor_id,
                starts_at=local("2027-01-12 11:00"),
                duration_minutes=30,
                title="Check-up",
            )
        ).stream_id
    ]


def test_failures_are_retried_then_parked_and_an_admin_retries_them(clinic_app, clock):  # type: ignore[no-untyped-def]
    from app.extensions import services

    found = services(clinic_app)
    [appointment] = _clinic(found.bus, 1, channel="sms", first=local("2027-01-12 09:00"))
    clinic_app.config["REMINDER_MAX_ATTEMPTS"] = 2
    try:
        with SmsProvider() as sms, clinic_app.app_context():
            clinic_app.config["SMS_PROVIDER_URL"] = sms.url
            sms.status = 503
            assert sender_for(clinic_app).send_due().outcomes == {"failed": 1}
            assert not sender_for(clinic_app).send_due().outcomes  # waits its backoff
            clock.advance(minutes=2)
            assert sender_for(clinic_app).send_due().outcomes == {"parked": 1}
            [parked] = _events(found.store, appointment, "ReminderParked")
            assert parked.event.attempts == 2 and "503" in parked.event.error
            admin = Staff(clinic_app, "admin")
            ops = admin.get("/ops").get_data(as_text=True)
            assert 'id="parked-reminders"' in ops and "503" in ops
            [key] = _states(found.store.engine)
            assert ledger.retry(found.store.engine, key, clock())  # what Retry does
            sms.status = 200
            assert sender_for(clinic_app).send_due().outcomes == {"sent": 1}
        assert [r.body["to"] for r in sms.requests if not r.repeat][-1] == "+33612345600"
        assert len(_events(found.store, appointment)) == 1
    finally:
        clinic_app.config["REMINDER_MAX_ATTEMPTS"] = 8


def _sms_patient(found: Any, first: str = "2027-01-12 09:00") -> uuid.UUID:
    [appointment] = _clinic(found.bus, 1, channel="sms", first=local(first))
    return appointment


def test_a_text_through_twilio_names_the_visit_and_is_recorded_with_its_sid(clinic_app, clock):  # type: ignore[no-untyped-def]
    from app.extensions import services

    found = services(clinic_app)
    appointment = _sms_patient(found)
    with TwilioApi(now=clock) as twilio, clinic_app.app_context():
        clinic_app.config.update(twilio.config())
        assert sender_for(clinic_app).send_due().outcomes == {"sent": 1}
        assert not sender_for(clinic_app).send_due().outcomes
    [message] = twilio.messages
    assert (message["to"], message["from"]) == ("+33612345600", "+33700000000")
    assert "Clinique du Parc" in message["body"] and "/p/" in message["body"]
    assert twilio.auth[0].startswith("Basic ")  # the account's SID and token, not a bearer
    [sent] = _events(found.store, appointment)
    assert (sent.event.channel, sent.event.provider_id) == ("sms", message["sid"])


@pytest.mark.parametrize(
    ("drop", "then", "recovered"),
    [("kept", "recovered", True), ("lost", "sent", False)],
    ids=["twilio-kept-it", "twilio-never-got-it"],
)
def test_a_twilio_request_without_an_answer_is_looked_up_not_sent_blind(  # type: ignore[no-untyped-def]
    clinic_app, clock, drop, then, recovered
):
    """The connection broke before Twilio answered. If Twilio kept the text, no second one:
    the next pass finds it among the number's latest messages and records its SID; if it
    never got it, the next pass sends it, late rather than never."""
    from app.extensions import services

    found = services(clinic_app)
    appointment = _sms_patient(found)
    with TwilioApi(now=clock) as twilio, clinic_app.app_context():
        clinic_app.config.update(twilio.config())
        twilio.drop = drop
        assert sender_for(clinic_app).send_due().outcomes == {"failed": 1}
        assert set(_states(found.store.engine).values()) == {"committing"}  # not sent blind
        assert not sender_for(clinic_app).send_due().outcomes  # waits its backoff
        twilio.drop = None
        clock.advance(minutes=3)
        assert sender_for(clinic_app).send_due().outcomes == {then: 1}
    assert len(twilio.messages) == 1 and twilio.lists == 1
    [sent] = _events(found.store, appointment)
    assert (sent.event.provider_id, sent.event.recovered) == (twilio.messages[0]["sid"], recovered)


def test_twilio_refusing_a_number_parks_it_and_a_rate_limit_is_retried(clinic_app, clock):  # type: ignore[no-untyped-def]
    from app.extensions import services

    found = services(clinic_app)
    refused = _sms_patient(found)
    with TwilioApi(now=clock) as twilio, clinic_app.app_context():
        clinic_app.config.update(twilio.config())
        twilio.refuse = (400, 21211)  # "The 'To' number is not a valid phone number"
        assert sender_for(clinic_app).send_due().outcomes == {"parked": 1}
        [parked] = _events(found.store, refused, "ReminderParked")
        assert "21211" in parked.event.error
        later = _clinic_booking(found.bus, found.store.load(refused)[0].event.patient_id, refused)
        twilio.refuse = (429, 20429)
        assert sender_for(clinic_app).send_due().outcomes == {"failed": 1}
        twilio.refuse = None
        clock.advance(minutes=2)
        assert sender_for(clinic_app).send_due().outcomes == {"sent": 1}
    assert len(twilio.messages) == 1
    assert len(_events(found.store, later[0])) == 1


# -- real processes, on the real clock, on PostgreSQL --


def _sender_env(pg_url: str, **settings: str) -> dict[str, str]:
    env = {
        **{k: v for k, v in os.environ.items() if k not in SHELL_ONLY},
        "DATABASE_URL_WRITE": pg_url,
        "SECRET_KEY": "test",
        "CLINIC_TIMEZONE": "Europe/Paris",
        "PUBLIC_URL": "https://clinic.example",
        "REMINDER_LEASE_SECONDS": "1",
        **settings,
    }
    return env


# What the shell may set that would point the sender elsewhere.
SHELL_ONLY = ("DATABASE_URL_READ", "REDIS_URL", "CELERY_BROKER_URL")


def _send_due(env: dict[str, str]) -> subprocess.Popen[str]:
    """`flask --app app reminders send-due`, as an operator runs it, in its own group."""
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", "reminders", "send-due"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def _leases_out(engine: Any) -> bool:
    with engine.connect() as conn:
        return not conn.execute(
            sa.select(sa.func.count())
            .select_from(deliveries)
            .where(deliveries.c.lease_until > sa.func.now())
        ).scalar()


def test_a_worker_killed_after_the_server_took_the_message_never_sends_it_twice(  # type: ignore[no-untyped-def]
    app, app_services, pg_url, tmp_path, broker_queue
):
    """SIGKILL between the provider's acceptance and the event's commit: the server has the
    message, the store has nothing yet. The next pass records it, and sends nothing."""
    [appointment] = _clinic(app_services.bus, 1, first=_tomorrow_morning())
    recorder = SmtpRecorder()
    with SmtpServer(recorder) as smtp:
        env = _sender_env(
            pg_url,
            SMTP_URL=smtp.url,
            CELERY_BROKER_URL=redis_test_url(),
            CELERY_QUEUE=broker_queue,
            REMINDER_SECONDS="1",
        )
        # Its own beat sends it the pass.
        worker = Worker(
            env, tmp_path / "reminders-worker.log", f"rem-{broker_queue[-6:]}", beat=True
        )
        recorder.hook = lambda _got: worker.kill()  # dies before it reads the 250
        worker.start()
        wait_for(lambda: worker.process.poll() is not None, what="the worker to be killed")
        assert list(_states(app_services.store.engine).values()) == ["committing"]
        assert _events(app_services.store, appointment) == []
        recorder.hook = None
        wait_for(lambda: _leases_out(app_services.store.engine), what="the claim to run out")
        recovered = _send_due(env)
        out, _ = recovered.communicate(timeout=60)
    assert recovered.returncode == 0, out
    assert "1 recovered" in out
    assert len(smtp.recorder.received) == 1
    [sent] = _events(app_services.store, appointment)
    assert sent.event.recovered is True
    assert list(_states(app_services.store.engine).values()) == ["sent"]


def test_a_sender_killed_before_the_hand_over_sends_late_rather_than_never(  # type: ignore[no-untyped-def]
    app, app_services, pg_url
):
    [appointment] = _clinic(app_services.bus, 1, first=_tomorrow_morning())
    with SmtpServer() as smtp:
        env = _sender_env(pg_url, SMTP_URL=smtp.url)
        victim: list[subprocess.Popen[str]] = []
        # Killed while it is still connected, before its message's DATA: nothing handed over.
        smtp.recorder.rcpt_hook = lambda: os.killpg(victim[0].pid, signal.SIGKILL)
        victim.append(_send_due(env))
        victim[0].communicate(timeout=60)
        assert victim[0].returncode == -signal.SIGKILL
        assert smtp.recorder.received == []
        assert list(_states(app_services.store.engine).values()) == ["sending"]
        smtp.recorder.rcpt_hook = None
        wait_for(lambda: _leases_out(app_services.store.engine), what="the claim to run out")
        late = _send_due(env)
        out, _ = late.communicate(timeout=60)
    assert late.returncode == 0, out
    assert len(smtp.recorder.received) == 1
    assert len(_events(app_services.store, appointment)) == 1


def test_two_senders_at_once_send_each_reminder_once(app, app_services, pg_url):  # type: ignore[no-untyped-def]
    booked = _clinic(app_services.bus, 8, first=_tomorrow_morning())
    with SmtpServer() as smtp:
        # A slow server, so that both passes are sending at the same time.
        smtp.recorder.hook = lambda _got: time.sleep(0.15)
        env = _sender_env(pg_url, SMTP_URL=smtp.url, REMINDER_LEASE_SECONDS="300")
        both = [_send_due(env), _send_due(env)]
        outputs = [process.communicate(timeout=120)[0] for process in both]
    assert [process.returncode for process in both] == [0, 0], outputs
    ids = smtp.recorder.message_ids()
    assert len(ids) == len(set(ids)) == 8
    assert sorted(r.recipients[0] for r in smtp.recorder.received) == sorted(
        f"patient{n}@example.org" for n in range(8)
    )
    assert all(len(_events(app_services.store, a)) == 1 for a in booked)


def test_redis_restarted_mid_batch_loses_and_repeats_nothing(  # type: ignore[no-untyped-def]
    app, app_services, pg_url, tmp_path
):
    """The workers' broker restarts (keeping nothing) while a batch is being sent: the task
    is lost with it, the next tick's pass carries on, and every reminder goes once."""
    booked = _clinic(app_services.bus, 5, first=_tomorrow_morning())
    broker = RedisServer(free_port(), tmp_path).start()
    restarted: list[bool] = []

    def restart_once(_got: Any) -> None:
        if not restarted:
            restarted.append(True)
            broker.stop()
            broker.start()

    try:
        with SmtpServer() as smtp:
            smtp.recorder.hook = restart_once
            env = _sender_env(
                pg_url,
                SMTP_URL=smtp.url,
                CELERY_BROKER_URL=broker.url,
                CELERY_QUEUE="rendezvous-reminders",
                REMINDER_SECONDS="2",
            )
            worker = Worker(env, tmp_path / "beat-worker.log", "rem-beat", beat=True).start()
            try:
                wait_for(
                    lambda: len(smtp.recorder.received) >= 5 and restarted,
                    timeout=60,
                    what="every reminder",
                )
                # Passes after the restart run on beat's tick: let two more go by.
                log = worker.log
                ticks = log.read_text().count("send_reminders")
                wait_for(
                    lambda: log.read_text().count("send_reminders") >= ticks + 4,
                    timeout=30,
                    what="two more passes",
                )
            finally:
                worker.stop()
    finally:
        broker.stop()
    assert len(smtp.recorder.received) == 5
    assert all(len(_events(app_services.store, a)) == 1 for a in booked)


def test_an_sms_sender_killed_after_the_provider_took_it_asks_again_with_the_same_key(  # type: ignore[no-untyped-def]
    app, app_services, pg_url
):
    [appointment] = _clinic(app_services.bus, 1, channel="sms", first=_tomorrow_morning())
    victim: list[subprocess.Popen[str]] = []
    with SmsProvider() as sms:
        sms.hook = lambda _got: os.killpg(victim[0].pid, signal.SIGKILL)
        env = _sender_env(pg_url, SMS_PROVIDER_URL=sms.url)
        victim.append(_send_due(env))
        victim[0].communicate(timeout=60)
        sms.hook = None
        wait_for(lambda: _leases_out(app_services.store.engine), what="the claim to run out")
        again = _send_due(env)
        out, _ = again.communicate(timeout=60)
    assert again.returncode == 0, out
    assert [r.repeat for r in sms.requests] == [False, True]
    assert len(sms.text_messages()) == 1
    [sent] = _events(app_services.store, appointment)
    assert (sent.event.channel, sent.event.provider_id, sent.event.recovered) == (
        "sms",
        "sms-1",
        True,
    )


def test_a_sender_killed_while_twilio_took_the_text_finds_it_and_sends_no_second(  # type: ignore[no-untyped-def]
    app, app_services, pg_url
):
    """Twilio keeps no idempotency key: the take-over looks the text up among the number's
    latest messages rather than asking again."""
    [appointment] = _clinic(app_services.bus, 1, channel="sms", first=_tomorrow_morning())
    victim: list[subprocess.Popen[str]] = []
    with TwilioApi() as twilio:
        twilio.hook = lambda _message: os.killpg(victim[0].pid, signal.SIGKILL)
        env = _sender_env(pg_url, **twilio.config())
        victim.append(_send_due(env))
        victim[0].communicate(timeout=60)
        twilio.hook = None
        wait_for(lambda: _leases_out(app_services.store.engine), what="the claim to run out")
        again = _send_due(env)
        out, _ = again.communicate(timeout=60)
    assert again.returncode == 0, out
    assert len(twilio.messages) == 1 and twilio.lists == 1
    [sent] = _events(app_services.store, appointment)
    assert (sent.event.provider_id, sent.event.recovered) == (twilio.messages[0]["sid"], True)
