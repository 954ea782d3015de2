"""The reminder channels against real servers: an SMTP server (aiosmtpd) and an HTTP SMS
provider on free ports, each keeping what it was handed. The e-mail is the one compose.py
writes; its text message is tested here too, as composing needs the app (Flask-Babel).

The SMTP channel holds the DATA's final dot back until before_commit() says yes; these
tests prove that a "no" leaves the server with nothing, once the connection is gone.
"""

from __future__ import annotations

import email
import email.policy
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from uuid import UUID

import icalendar
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

from app.outbound.channels import (
    Aborted,
    DeliveryError,
    Email,
    Sms,
    SmsChannel,
    SmtpChannel,
    TwilioChannel,
    channels_from_config,
    same_text,
)
from app.outbound.compose import ReminderFacts, compose_email, compose_sms, gsm7, is_gsm7
from app.outbound.links import PatientLinks

from ..conftest import CLINIC_TZ
from .projecting import wait_until
from .workers import free_port

APPOINTMENT = UUID("3f2b8c1e-7d4a-4b6e-9c1f-2a5d8e0b7c31")
KEY = f"{APPOINTMENT}:first:20270112T0830Z"
# A link as the sender makes it: the patient page's signed token is about 73 characters.
LINK = "https://rdv.example.fr/p/" + PatientLinks("secret", 30).make(APPOINTMENT, 12)
LONG_CLINIC = "Centre médical pluridisciplinaire du Parc des Buttes-Chaumont et de Belleville"


def facts(**changes: Any) -> ReminderFacts:
    made = ReminderFacts(
        appointment_id=APPOINTMENT,
        kind="first",
        locale="en",
        tz=CLINIC_TZ,
        starts_at=datetime(2027, 1, 12, 9, 30, tzinfo=CLINIC_TZ),
        ends_at=datetime(2027, 1, 12, 10, 0, tzinfo=CLINIC_TZ),
        patient_name="Zoë Dupont",
        doctor_name="Dr Ada Martin",
        title="Knee pain",
        clinic_name="Clinique du Parc",
        clinic_address="12 rue des Lilas\n75011 Paris",
        clinic_phone="01 23 45 67 89",
        what_to_bring="Your insurance card",
        link=LINK,
        sender="rendezvous@example.fr",
    )
    return replace(made, **changes)


@pytest.fixture
def app_context(pg_app: Any) -> Iterator[None]:
    """An app context, for compose.py's templates and catalogs; no table is touched."""
    with pg_app.app_context():
        yield


# -- an SMTP server that keeps what it takes --


@dataclass
class Inbox:
    """aiosmtpd's handler: every message taken, and how many connections have ended."""

    received: list[tuple[str, list[str], bytes]] = field(default_factory=list)
    reply: str = "250 2.0.0 Ok: queued as 4Xq7KJ"
    rcpt_reply: str = "250 OK"
    closed: int = 0
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]
        if self.rcpt_reply.startswith("250"):
            envelope.rcpt_tos.append(address)
        return self.rcpt_reply

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        if self.reply.startswith("250"):
            with self.lock:
                self.received.append(
                    (envelope.mail_from, list(envelope.rcpt_tos), envelope.content)
                )
        return self.reply

    def messages(self) -> list[EmailMessage]:
        with self.lock:
            return [
                email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[misc]
                for _, _, raw in self.received
            ]


class _CountingSMTP(SMTP):
    def connection_lost(self, error: Exception | None) -> None:
        super().connection_lost(error)
        with self.event_handler.lock:
            self.event_handler.closed += 1


class _Controller(Controller):
    def factory(self) -> SMTP:
        return _CountingSMTP(self.handler, **self.SMTP_kwargs)


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    handler = Inbox()
    controller = _Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    handler.url = f"smtp://127.0.0.1:{controller.port}"
    yield handler
    controller.stop()


def smtp(inbox: Inbox) -> SmtpChannel:
    return SmtpChannel(inbox.url, timeout=10)


def plain_email(text: str = "Hello\n") -> Email:
    return Email(
        to="zoe@example.fr",
        subject="Reminder",
        text=text,
        html="<p>Hello</p>",
        ics=b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
        message_id="<k1@rendezvous>",
        sender="rendezvous@example.fr",
    )


class TestSmtpChannel:
    def test_a_composed_reminder_arrives_with_its_headers_parts_and_calendar(
        self, inbox, app_context
    ):
        composed = compose_email(facts(), to="zoe@example.fr", key=KEY)
        provider_id = smtp(inbox).send(composed, before_commit=lambda: True)

        assert provider_id == "4Xq7KJ"  # the queue id of the server's 250 reply
        [(envelope_from, recipients, _)] = inbox.received
        assert (envelope_from, recipients) == ("rendezvous@example.fr", ["zoe@example.fr"])
        [message] = inbox.messages()
        assert message["From"].addresses[0].addr_spec == "rendezvous@example.fr"
        assert str(message["To"]) == "zoe@example.fr"
        # The generator may fold a long header right after its name; unfolded, a reader
        # takes the space there as the separator (Python's parser keeps it).
        assert str(message["Subject"]).strip() == composed.subject
        assert "12 January" in composed.subject and "Clinique du Parc" in composed.subject
        assert str(message["Message-ID"]).strip() == composed.message_id
        assert composed.message_id.endswith("@rendezvous>") and ":" not in composed.message_id
        assert str(message["Auto-Submitted"]) == "auto-generated"
        assert message.get_content_type() == "multipart/mixed"

        text = message.get_body(("plain",))
        html = message.get_body(("html",))
        assert text is not None and html is not None
        for part in (text.get_content(), html.get_content()):
            assert "Tuesday 12 January 2027 at 09:30" in part
            assert "Dr Ada Martin" in part and "Clinique du Parc" in part
            assert "Knee pain" in part and "Your insurance card" in part
            assert LINK in part and "Confirm or cancel your appointment" in part
            assert "Zoë Dupont" in part
        assert "<script" not in html.get_content() and "src=" not in html.get_content()

        [ics] = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
        assert ics.get_param("method") == "PUBLISH"
        assert ics.get_filename() == "appointment.ics"
        calendar = icalendar.Calendar.from_ical(ics.get_content())
        assert str(calendar["METHOD"]) == "PUBLISH" and str(calendar["VERSION"]) == "2.0"
        [event] = calendar.walk("VEVENT")
        assert str(event["UID"]) == f"{APPOINTMENT}@rendezvous"
        assert event.decoded("DTSTART") == datetime(2027, 1, 12, 8, 30, tzinfo=UTC)
        assert event.decoded("DTSTART").tzinfo is not None
        assert calendar.walk("VTIMEZONE"), "the clinic's zone goes with the event"
        assert LINK in str(event["DESCRIPTION"]).replace("\n", "")

    def test_the_plain_text_part_is_not_html_escaped(self, inbox, app_context):
        composed = compose_email(
            facts(patient_name="Zoë O'Brien", clinic_name="Clinique <b>Parc</b> & Co"),
            to="zoe@example.fr",
            key=KEY,
        )
        smtp(inbox).send(composed, before_commit=lambda: True)
        [message] = inbox.messages()
        text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        assert "Zoë O'Brien" in text and "Clinique <b>Parc</b> & Co" in text
        assert "&#39;" not in text and "&amp;" not in text

    def test_markup_in_the_clinic_name_comes_out_escaped_in_the_html(self, inbox, app_context):
        composed = compose_email(facts(clinic_name="<b>Parc</b>"), to="zoe@example.fr", key=KEY)
        smtp(inbox).send(composed, before_commit=lambda: True)
        [message] = inbox.messages()
        html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
        assert "&lt;b&gt;Parc&lt;/b&gt;" in html and "<b>Parc</b>" not in html

    @pytest.mark.parametrize(
        "subject",
        [
            "Reminder: your appointment on Tuesday 12 January at 09:30, Clinique Médicale du Parc",
            "Rappel\u00a0: votre rendez-vous du mardi 12 janvier à 09:30 \u2013 Clinique du Parc",
        ],
    )
    def test_a_non_ascii_subject_arrives_exactly_however_it_is_folded(self, inbox, subject):
        smtp(inbox).send(replace(plain_email(), subject=subject), before_commit=lambda: True)
        [message] = inbox.messages()
        assert str(message["Subject"]) == subject

    def test_a_reply_without_a_queue_id_gives_the_message_id(self, inbox):
        inbox.reply = "250 OK"
        assert smtp(inbox).send(plain_email(), before_commit=lambda: True) == "<k1@rendezvous>"

    def test_lines_that_start_with_a_dot_are_stuffed_and_arrive_whole(self, inbox):
        # A lone "." would end the DATA early if the channel did not double it.
        text = "first\n.\n.second\nlast\n"
        smtp(inbox).send(plain_email(text), before_commit=lambda: True)
        [message] = inbox.messages()
        content = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        assert content.replace("\r\n", "\n") == text

    def test_before_commit_saying_no_hands_nothing_over(self, inbox):
        asked: list[int] = []

        def refuse() -> bool:
            asked.append(len(inbox.received))
            return False

        with pytest.raises(Aborted):
            smtp(inbox).send(plain_email(), before_commit=refuse)
        assert asked == [0]  # asked once, the whole body written but the final dot
        wait_until(lambda: inbox.closed >= 1, timeout=10, what="the server to see the close")
        assert inbox.received == []

    @pytest.mark.parametrize(
        ("reply", "permanent"),
        [("550 5.7.1 Message refused", True), ("451 4.3.0 Try again later", False)],
    )
    def test_a_refusal_at_the_end_of_data_says_whether_to_retry(self, inbox, reply, permanent):
        inbox.reply = reply
        with pytest.raises(DeliveryError) as failed:
            smtp(inbox).send(plain_email(), before_commit=lambda: True)
        assert failed.value.permanent is permanent
        assert reply.split()[0] in failed.value.detail

    def test_a_refused_recipient_is_permanent(self, inbox):
        inbox.rcpt_reply = "550 5.1.1 No such user"
        committed: list[bool] = []
        with pytest.raises(DeliveryError) as failed:
            smtp(inbox).send(plain_email(), before_commit=lambda: committed.append(True) or True)
        assert failed.value.permanent and committed == []

    def test_a_closed_port_is_a_temporary_failure(self):
        channel = SmtpChannel(f"smtp://127.0.0.1:{free_port()}", timeout=5)
        with pytest.raises(DeliveryError) as failed:
            channel.send(plain_email(), before_commit=lambda: True)
        assert failed.value.permanent is False


class TestSmtpUrl:
    @pytest.mark.parametrize(
        ("url", "host", "port", "tls", "starttls", "user", "password"),
        [
            ("smtp://mail.example.fr", "mail.example.fr", 25, False, False, "", ""),
            ("smtp://mail.example.fr:2525", "mail.example.fr", 2525, False, False, "", ""),
            ("smtp://mail.example.fr:587", "mail.example.fr", 587, False, True, "", ""),
            ("smtp://mail.example.fr?starttls=1", "mail.example.fr", 25, False, True, "", ""),
            ("smtps://mail.example.fr", "mail.example.fr", 465, True, False, "", ""),
            ("smtps://u:p@mail.example.fr:4650", "mail.example.fr", 4650, True, False, "u", "p"),
            (
                "smtp://clinic%40example.fr:p%3As%2Fw%40rd@mail.example.fr:587",
                "mail.example.fr", 587, False, True, "clinic@example.fr", "p:s/w@rd",
            ),
        ],
    )  # fmt: skip
    def test_a_url_names_the_server_its_security_and_the_login(
        self, url, host, port, tls, starttls, user, password
    ):
        channel = SmtpChannel(url)
        assert (channel.host, channel.port, channel.tls, channel.starttls) == (
            host, port, tls, starttls,
        )  # fmt: skip
        assert (channel.user, channel.password) == (user, password)

    @pytest.mark.parametrize(
        ("url", "says"),
        [
            ("http://mail.example.fr", "smtp:// or smtps://"),
            ("mail.example.fr:25", "smtp:// or smtps://"),
            ("smtp://", "no host"),
            ("smtp://mail.example.fr:port", "not a number"),
            ("smtp://mail.example.fr?tls=1", "starttls"),
            ("smtp://mail.example.fr?starttls=yes", "0 or 1"),
            ("smtps://mail.example.fr?starttls=1", "TLS from the start"),
            ("smtp://:secret@mail.example.fr", "no user name"),
        ],
    )
    def test_a_wrong_url_is_refused_with_a_sentence(self, url, says):
        with pytest.raises(ValueError, match=says):
            SmtpChannel(url)


# -- an HTTP SMS provider that keeps every request and honours Idempotency-Key --


@dataclass
class Provider:
    requests: list[dict[str, Any]] = field(default_factory=list)
    ids: dict[str, str] = field(default_factory=dict)
    status: int = 200
    answer: dict[str, Any] | None = None
    url: str = ""


@pytest.fixture
def provider() -> Iterator[Provider]:
    kept = Provider()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            key = self.headers.get("Idempotency-Key", "")
            repeat = key in kept.ids
            if kept.status == 200 and not repeat:
                kept.ids[key] = f"msg-{len(kept.ids) + 1}"
            kept.requests.append(
                {"path": self.path, "headers": dict(self.headers), "body": body, "repeat": repeat}
            )
            reply = json.dumps(
                kept.answer if kept.answer is not None else {"id": kept.ids.get(key)}
            )
            self.send_response(kept.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply.encode())

        def log_message(self, *args: object) -> None:
            pass  # quiet: pytest shows what a test prints

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    kept.url = f"http://127.0.0.1:{server.server_port}/v1/messages"
    yield kept
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


SMS = Sms(to="+33612345678", text="Clinique du Parc, Tue 12 Jan 09:30", key=KEY)


class TestSmsChannel:
    def test_a_message_is_posted_as_json_with_its_key_and_token(self, provider):
        channel = SmsChannel(provider.url, token="t0k3n", sender="Parc")
        assert channel.send(SMS, before_commit=lambda: True) == "msg-1"
        [request] = provider.requests
        assert request["path"] == "/v1/messages"
        assert request["body"] == {"to": "+33612345678", "from": "Parc", "text": SMS.text}
        headers = {name.lower(): value for name, value in request["headers"].items()}
        assert headers["authorization"] == "Bearer t0k3n"
        assert headers["idempotency-key"] == KEY
        assert headers["content-type"] == "application/json"

    def test_no_token_sends_no_authorization(self, provider):
        SmsChannel(provider.url).send(SMS, before_commit=lambda: True)
        assert "authorization" not in {h.lower() for h in provider.requests[0]["headers"]}

    def test_sending_again_with_the_same_key_sends_nothing_new_and_tells_the_same_id(
        self, provider
    ):
        channel = SmsChannel(provider.url)
        first = channel.send(SMS, before_commit=lambda: True)
        again = channel.send(SMS, before_commit=lambda: True)
        assert first == again == "msg-1"
        assert [r["repeat"] for r in provider.requests] == [False, True]

    def test_a_reply_without_an_id_gives_the_key(self, provider):
        provider.answer = {"status": "queued"}
        assert SmsChannel(provider.url).send(SMS, before_commit=lambda: True) == KEY

    @pytest.mark.parametrize(
        ("status", "permanent"), [(500, False), (503, False), (429, False), (408, False),
                                  (400, True), (401, True), (422, True)],
    )  # fmt: skip
    def test_an_error_status_says_whether_to_retry(self, provider, status, permanent):
        provider.status = status
        with pytest.raises(DeliveryError) as failed:
            SmsChannel(provider.url).send(SMS, before_commit=lambda: True)
        assert failed.value.permanent is permanent and str(status) in failed.value.detail

    def test_before_commit_saying_no_makes_no_request(self, provider):
        with pytest.raises(Aborted):
            SmsChannel(provider.url).send(SMS, before_commit=lambda: False)
        assert provider.requests == []

    def test_a_closed_port_is_a_temporary_failure(self):
        channel = SmsChannel(f"http://127.0.0.1:{free_port()}/", timeout=5)
        with pytest.raises(DeliveryError) as failed:
            channel.send(SMS, before_commit=lambda: True)
        assert failed.value.permanent is False

    @pytest.mark.parametrize("url", ["ftp://sms.example.fr", "file:///etc/passwd", "sms.fr"])
    def test_only_an_http_url_is_taken(self, url):
        with pytest.raises(ValueError, match="http"):
            SmsChannel(url)


def test_the_channels_are_those_the_settings_set_up():
    assert channels_from_config({"SMTP_URL": "", "SMS_PROVIDER_URL": None}) == {}
    both = channels_from_config(
        {
            "SMTP_URL": "smtp://mail.example.fr",
            "SMS_PROVIDER_URL": "https://sms.example.fr/messages",
            "SMS_PROVIDER_TOKEN": "t",
            "SMS_SENDER": "Parc",
        }
    )
    assert isinstance(both["email"], SmtpChannel) and isinstance(both["sms"], SmsChannel)
    assert (both["sms"].token, both["sms"].sender) == ("t", "Parc")  # type: ignore[union-attr]
    twilio = channels_from_config(
        {
            "SMS_PROVIDER_URL": "https://sms.example.fr/messages",
            "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
            "TWILIO_AUTH_TOKEN": "secret",
            "SMS_SENDER": "MG" + "2" * 32,
        }
    )
    assert isinstance(twilio["sms"], TwilioChannel)  # Twilio, when its account is given
    assert twilio["sms"]._from() == {"messaging_service_sid": "MG" + "2" * 32}
    with pytest.raises(ValueError, match="SMS_SENDER"):
        channels_from_config({"TWILIO_ACCOUNT_SID": "AC" + "1" * 32, "TWILIO_AUTH_TOKEN": "x"})


def test_texts_differing_only_in_the_link_s_token_are_the_same_message():
    """Each composition signs a new token; Twilio's look-up must still know its own text."""
    sent = "Parc, Tue 12 Jan 09:00 with Dr Martin. Confirm or cancel: https://c.fr/p/IjEi.Zz-_9"
    assert same_text(sent, sent.replace("IjEi.Zz-_9", "Other.Token"))
    assert not same_text(sent, sent.replace("09:00", "10:00"))


# -- the text message's words (here, not in tests/unit: composing needs the app) --


class TestReminderSms:
    @pytest.mark.parametrize("locale", ["en", "fr"])
    def test_a_long_clinic_name_still_fits_one_gsm7_message_with_the_link_whole(
        self, app_context, locale
    ):
        sms = compose_sms(facts(locale=locale, clinic_name=LONG_CLINIC), to="+336", key=KEY)
        assert is_gsm7(sms.text) and len(sms.text) <= 160, sms.text
        assert sms.text.endswith(LINK) and sms.text[:6] == LONG_CLINIC[:6]
        assert (sms.to, sms.key) == ("+336", KEY)

    def test_the_doctor_goes_before_the_clinics_name_is_cut(self, app_context):
        sms = compose_sms(facts(), to="+336", key=KEY)
        assert len(sms.text) <= 160, sms.text
        assert sms.text.startswith("Clinique du Parc") and "Dr Ada Martin" not in sms.text

    def test_a_link_longer_than_a_message_is_never_cut(self, app_context):
        link = "https://rdv.example.fr/p/" + "x" * 200
        sms = compose_sms(facts(link=link, clinic_name=LONG_CLINIC), to="+336", key=KEY)
        assert link in sms.text

    def test_french_typography_becomes_gsm7(self):
        said = "Rappel\u00a0: l\u2019heure \u00ab\u202fexacte\u202f\u00bb \u2013 09:30\u2026"
        assert gsm7(said) == 'Rappel : l\'heure " exacte " - 09:30...'
        assert gsm7("fenêtre, hôpital, reçu, Noël, cœur, é, à, Ç") == (
            "fenetre, hopital, recu, Noel, coeur, é, à, Ç"
        )
        assert is_gsm7("€ [ ] { } ~ ^ | \\") and not is_gsm7("ê")
