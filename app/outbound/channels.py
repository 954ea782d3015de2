"""The reminder channels: e-mail over SMTP and text messages through an HTTP provider.

Both hand a message over in two steps around `before_commit()`, where the caller records
durably that the hand-over is about to happen. For SMTP the message is written in full but
for its final "." line: a server must discard a message whose DATA never ended (RFC 5321
§4.1.1.4), so until that last write nothing has been sent, and after it only the reply can
be lost. Nothing else is possible inside DATA (an RSET or QUIT there would be message
text): to abort, the channel closes the connection.
"""

from __future__ import annotations

import contextlib
import json
import re
import smtplib
import ssl
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from email.header import Header
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate
from http.client import HTTPException
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

# 7bit: bodies go quoted-printable or base64, so no server needs 8BITMIME.
POLICY = SMTP.clone(cte_type="7bit")
_QUEUED = (
    re.compile(r"queued as ([^\s;,]+)", re.I),  # Postfix
    re.compile(r"\bid=([^\s;,]+)", re.I),  # Exim
    re.compile(r"^(?:\d\.\d\.\d+\s+)?ok\s+([^\s;,]{8,})$", re.I),  # Amazon SES and the like
    re.compile(r"^(?:\d\.\d\.\d+\s+)?([^\s;,]+) message accepted", re.I),  # Sendmail
)


class DeliveryError(Exception):
    """A send that did not go through; `permanent` when retrying cannot fix it, `uncertain`
    when the provider may have taken the message all the same (no answer came back)."""

    def __init__(self, detail: str, *, permanent: bool, uncertain: bool = False) -> None:
        super().__init__(detail)
        self.detail, self.permanent, self.uncertain = detail, permanent, uncertain


class Aborted(Exception):
    """before_commit() said no: the message was not handed over."""


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    text: str
    html: str
    ics: bytes
    message_id: str  # "<key@host>"
    sender: str  # the From header and the envelope sender
    reply_to: str = ""


@dataclass(frozen=True)
class Sms:
    to: str  # E.164
    text: str
    key: str  # the idempotency key, stable per appointment and reminder kind


def mime_message(email: Email) -> EmailMessage:
    """multipart/mixed [multipart/alternative [text, html], the .ics], with its headers."""
    message = EmailMessage(policy=POLICY)
    message["From"], message["To"] = email.sender, email.to
    if email.subject.isascii():
        message["Subject"] = email.subject
    else:
        # CPython's folder can end a line with a space just before an encoded word, which a
        # reader then shows as two: encode the subject ourselves (RFC 2047), already folded.
        message.set_raw("Subject", Header(email.subject, "utf-8", 74, "Subject").encode())
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = email.message_id
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to it
    if email.reply_to:
        message["Reply-To"] = email.reply_to
    message.set_content(email.text, charset="utf-8")
    message.add_alternative(email.html, subtype="html", charset="utf-8")
    message.add_attachment(
        email.ics,
        maintype="text",
        subtype="calendar",
        params={"charset": "utf-8", "method": "PUBLISH", "name": "appointment.ics"},
        filename="appointment.ics",
    )
    for part in message.iter_parts():  # only the message as a whole says MIME-Version
        for inner in part.walk():
            del inner["MIME-Version"]
    return message


def _dot_stuffed(body: bytes) -> bytes:
    """The DATA text without its final ".": CRLF line ends, a "." doubled at a line start."""
    lines = re.sub(rb"\r\n|\r|\n", b"\r\n", body)
    if not lines.endswith(b"\r\n"):
        lines += b"\r\n"
    return re.sub(rb"(?m)^\.", b"..", lines)


def _refusal(step: str, code: int, reply: bytes, *, per_message: bool) -> DeliveryError:
    # Only the recipient and the message itself can be refused for good: a 5xx to the
    # greeting, the login or MAIL FROM is the clinic's setup, which can be fixed.
    text = reply.decode(errors="replace")
    return DeliveryError(f"{step}: {code} {text}", permanent=per_message and 500 <= code < 600)


def _queue_id(reply: bytes) -> str | None:
    text = reply.decode(errors="replace").strip()
    for pattern in _QUEUED:
        found = pattern.search(text)
        if found:
            return found.group(1)
    return None


class SmtpChannel:
    """E-mail through one SMTP server: smtp://[user[:password]@]host[:port][?starttls=1]
    or smtps://… (TLS from the start)."""

    name = "email"
    idempotent = False  # an SMTP server cannot tell whether it already took a message

    def __init__(self, url: str, *, timeout: float = 30.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise ValueError(f"SMTP_URL must start with smtp:// or smtps://, not {url!r}")
        try:
            port = parts.port
        except ValueError:
            raise ValueError(f"SMTP_URL has a port that is not a number: {url!r}") from None
        if not parts.hostname:
            raise ValueError(f"SMTP_URL names no host: {url!r}")
        query = parse_qs(parts.query, keep_blank_values=True)
        if set(query) - {"starttls"}:
            raise ValueError(f"SMTP_URL may only say ?starttls=1, not ?{parts.query}")
        asked = query.get("starttls", ["0"])[-1]
        if asked not in ("0", "1"):
            raise ValueError(f"SMTP_URL's starttls must be 0 or 1, not {asked!r}")
        self.tls = parts.scheme == "smtps"
        self.host, self.port = parts.hostname, port or (465 if self.tls else 25)
        self.starttls = not self.tls and (asked == "1" or self.port == 587)
        if self.tls and asked == "1":
            raise ValueError("SMTP_URL: smtps:// is TLS from the start; drop ?starttls=1")
        self.user = unquote(parts.username or "")
        self.password = unquote(parts.password or "")
        if self.password and not self.user:
            raise ValueError("SMTP_URL has a password but no user name")
        self.timeout = timeout

    def send(self, email: Email, *, before_commit: Callable[[], bool]) -> str:
        """Hand `email` over; the provider id (the server's queue id, else the Message-ID)."""
        if not (email.to + email.sender).isascii():
            raise DeliveryError("the address needs SMTPUTF8, not supported", permanent=True)
        body = _dot_stuffed(mime_message(email).as_bytes(policy=POLICY))
        smtp: smtplib.SMTP | None = None
        try:
            smtp = self._connect()
            return self._transact(smtp, email, body, before_commit)
        except (smtplib.SMTPException, OSError, UnicodeError) as exc:
            # A connection refused, reset or timed out, a TLS failure, a reply out of turn.
            raise DeliveryError(f"{type(exc).__name__}: {exc}", permanent=False) from exc
        finally:
            if smtp is not None:
                smtp.close()

    def _connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        if self.tls:
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        if self.starttls:
            smtp.ehlo()
            smtp.starttls(context=context)
        return smtp

    def _transact(
        self, smtp: smtplib.SMTP, email: Email, body: bytes, before_commit: Callable[[], bool]
    ) -> str:
        smtp.ehlo()
        if self.user:
            smtp.login(self.user, self.password)
        code, reply = smtp.mail(email.sender)
        if code != 250:
            raise _refusal("MAIL FROM", code, reply, per_message=False)
        code, reply = smtp.rcpt(email.to)
        if code not in (250, 251):
            raise _refusal("RCPT TO", code, reply, per_message=True)
        smtp.putcmd("data")
        code, reply = smtp.getreply()
        if code != 354:
            raise _refusal("DATA", code, reply, per_message=True)
        smtp.send(body)
        if not before_commit():
            raise Aborted(email.message_id)  # `send` closes the connection mid-DATA
        smtp.send(b".\r\n")
        code, reply = smtp.getreply()
        if code != 250:
            raise _refusal("end of DATA", code, reply, per_message=True)
        # The message is taken; a lost goodbye changes nothing.
        with contextlib.suppress(smtplib.SMTPException, OSError):
            smtp.quit()
        return _queue_id(reply) or email.message_id


class SmsChannel:
    """Text messages through an HTTP provider that takes JSON and honours Idempotency-Key."""

    name = "sms"
    idempotent = True  # sending again with the same key sends nothing new

    def __init__(
        self, url: str, *, token: str = "", sender: str = "", timeout: float = 15.0
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"SMS_PROVIDER_URL must be an http:// or https:// URL, not {url!r}")
        self.url, self.token, self.sender, self.timeout = url, token, sender, timeout

    def send(self, sms: Sms, *, before_commit: Callable[[], bool]) -> str:
        """Hand `sms` over; the provider's id for it (else the key)."""
        headers = {"Content-Type": "application/json", "Idempotency-Key": sms.key}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        payload = json.dumps({"to": sms.to, "from": self.sender, "text": sms.text}).encode()
        request = urllib.request.Request(self.url, data=payload, headers=headers, method="POST")
        if not before_commit():
            raise Aborted(sms.key)
        try:
            # The scheme was checked in __init__: http(s) only, never file:.
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # nosec B310
                answer = response.read()
        except urllib.error.HTTPError as exc:
            # 408 and 429 are "not now"; any other 4xx is this request refused for good.
            permanent = 400 <= exc.code < 500 and exc.code not in (408, 429)
            detail = exc.read(300).decode(errors="replace")
            raise DeliveryError(f"HTTP {exc.code}: {detail}", permanent=permanent) from exc
        except (urllib.error.URLError, HTTPException, OSError) as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc}", permanent=False) from exc
        try:
            found = json.loads(answer)
        except ValueError:
            found = None
        provider_id = found.get("id") if isinstance(found, dict) else None
        return str(provider_id) if provider_id else sms.key


TWILIO_API = "https://api.twilio.com"
# The link's token differs on every composition (it is signed with the time): two texts
# are the same message when they match with it left out.
_LINK_TOKEN = re.compile(r"/p/[A-Za-z0-9_.\-]+")


def same_text(one: str, other: str) -> bool:
    return _LINK_TOKEN.sub("/p/", one).strip() == _LINK_TOKEN.sub("/p/", other).strip()


class TwilioChannel:
    """Text messages through Twilio's Messages API, with its maintained client (`twilio`).

    Twilio takes no idempotency key on a new message, so a pass killed during the request
    cannot ask again: the take-over looks for the message among the latest ones sent to the
    number instead (`find`), and sends it only if it is not there.
    """

    name = "sms"
    idempotent = False

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        sender: str,
        api_url: str = "",
        timeout: float = 15.0,
    ) -> None:
        from twilio.http.http_client import TwilioHttpClient
        from twilio.rest import Client

        if not sender:
            raise ValueError("Twilio needs SMS_SENDER: a number of the account or an MG… service")
        base = (api_url or TWILIO_API).rstrip("/")
        if urlsplit(base).scheme not in ("http", "https"):
            raise ValueError(f"TWILIO_API_URL must be an http:// or https:// URL, not {api_url!r}")

        class Rebased(TwilioHttpClient):
            # A Twilio-compatible API or a relay in front of Twilio, when TWILIO_API_URL says.
            def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
                if url.startswith(TWILIO_API):
                    url = base + url[len(TWILIO_API) :]
                return super().request(method, url, *args, **kwargs)

        self.sender = sender
        self.client = Client(
            account_sid, auth_token, http_client=Rebased(timeout=timeout, max_retries=None)
        )

    def _from(self) -> dict[str, str]:
        if self.sender.startswith("MG"):  # a Messaging Service picks the number itself
            return {"messaging_service_sid": self.sender}
        return {"from_": self.sender}

    def send(self, sms: Sms, *, before_commit: Callable[[], bool]) -> str:
        """Hand `sms` over; Twilio's message SID."""
        if not before_commit():
            raise Aborted(sms.key)
        try:
            message = self.client.messages.create(to=sms.to, body=sms.text, **self._from())
        except Exception as exc:
            raise _twilio_error(exc) from exc
        return str(message.sid)

    def find(self, sms: Sms, since: datetime) -> str | None:
        """The SID of this text if Twilio took it at `since` or later, else None."""
        try:
            # Newest first; a reminder's take-over comes minutes after the hand-over.
            latest = self.client.messages.list(to=sms.to, limit=50)
        except Exception as exc:
            raise _twilio_error(exc) from exc
        for message in latest:
            created = message.date_created
            if created is not None and created < since:
                break
            if message.direction == "outbound-api" and same_text(message.body or "", sms.text):
                return str(message.sid)
        return None


def _twilio_error(exc: Exception) -> DeliveryError:
    from twilio.base.exceptions import TwilioRestException

    if isinstance(exc, TwilioRestException):
        # 408 and 429 are "not now"; any other 4xx is this request refused for good.
        status = int(exc.status or 0)
        permanent = 400 <= status < 500 and status not in (408, 429)
        code = f" (Twilio {exc.code})" if exc.code else ""
        return DeliveryError(f"HTTP {status}{code}: {exc.msg}"[:300], permanent=permanent)
    # No answer from Twilio (a timeout, a reset connection): it may have the message.
    return DeliveryError(f"{type(exc).__name__}: {exc}"[:300], permanent=False, uncertain=True)


def channels_from_config(
    config: Mapping[str, Any],
) -> dict[str, SmtpChannel | SmsChannel | TwilioChannel]:
    """The channels the settings set up: "email" with SMTP_URL; "sms" through Twilio with
    TWILIO_ACCOUNT_SID, else through the generic provider with SMS_PROVIDER_URL."""
    channels: dict[str, SmtpChannel | SmsChannel | TwilioChannel] = {}
    if config.get("SMTP_URL"):
        channels["email"] = SmtpChannel(config["SMTP_URL"])
    if config.get("TWILIO_ACCOUNT_SID"):
        channels["sms"] = TwilioChannel(
            config["TWILIO_ACCOUNT_SID"],
            config.get("TWILIO_AUTH_TOKEN") or "",
            sender=config.get("SMS_SENDER") or "",
            api_url=config.get("TWILIO_API_URL") or "",
        )
    elif config.get("SMS_PROVIDER_URL"):
        channels["sms"] = SmsChannel(
            config["SMS_PROVIDER_URL"],
            token=config.get("SMS_PROVIDER_TOKEN") or "",
            sender=config.get("SMS_SENDER") or "",
        )
    return channels
