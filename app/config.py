"""Settings from environment variables, read in this one place."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class ConfigurationError(RuntimeError):
    """A setting is missing or malformed."""


# The languages pages are written in (app/translations holds the French catalog).
LOCALES = ("en", "fr")
# France and the overseas departments and territories, by the territory codes CLDR gives
# their time zones: a clinic there reads French unless CLINIC_LOCALE says otherwise.
FRENCH_TERRITORIES = frozenset(
    {"FR", "GP", "MQ", "GF", "RE", "YT", "PM", "BL", "MF", "NC", "PF", "WF", "TF"}
)


def default_locale(timezone: str) -> str:
    """The clinic's language when CLINIC_LOCALE is unset: French in a French time zone."""
    from babel.core import get_global

    territory = get_global("zone_territories").get(timezone)
    return "fr" if territory in FRENCH_TERRITORIES else "en"


@dataclass(frozen=True)
class Settings:
    """Every environment variable the app reads; see docs/configuration.md."""

    database_url_write: str | None
    database_url_read: str | None
    redis_url: str | None
    celery_broker_url: str | None
    celery_queue: str
    clinic_timezone: str
    clinic_locale: str
    clinic_region: str
    secret_key: str | None
    projection_tick_seconds: float
    projection_batch_size: int
    session_idle_minutes: float
    doctor_patient_months: int
    session_max_hours: float
    account_cache_seconds: float
    login_limit_per_account: str
    login_limit_per_address: str
    max_request_bytes: int
    trusted_proxies: int
    metrics_token: str | None
    ready_max_lag_seconds: float
    cache_ttl_seconds: int
    cache_prefix: str
    event_stream: str
    event_stream_maxlen: int
    relay_batch_size: int
    relay_poll_seconds: float
    ops_sample_seconds: float
    worker_metrics_port: int | None
    calendar_memo_size: int
    no_show_grace_minutes: int
    undo_minutes: int
    book_confirmed: bool
    public_url: str
    smtp_url: str | None
    reminder_from: str
    sms_provider_url: str | None
    sms_provider_token: str | None
    sms_sender: str
    twilio_account_sid: str | None
    twilio_auth_token: str | None
    twilio_api_url: str | None
    reminder_hours_before: int
    reminder_second_hours_before: int
    reminder_seconds: float
    reminder_max_attempts: int
    reminder_lease_seconds: int
    patient_link_days: int
    patient_limit_per_address: str
    patient_limit_per_link: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Settings:
        settings = cls(
            database_url_write=env.get("DATABASE_URL_WRITE") or None,
            database_url_read=env.get("DATABASE_URL_READ") or None,
            redis_url=env.get("REDIS_URL") or None,
            celery_broker_url=env.get("CELERY_BROKER_URL") or None,
            celery_queue=env.get("CELERY_QUEUE") or "rendezvous",
            clinic_timezone=env.get("CLINIC_TIMEZONE") or "Europe/Paris",
            clinic_locale=(env.get("CLINIC_LOCALE") or "").strip().lower(),
            clinic_region=(env.get("CLINIC_REGION") or "FR").strip().upper(),
            secret_key=env.get("SECRET_KEY") or None,
            projection_tick_seconds=_number(env, "PROJECTION_TICK_SECONDS", 5.0, float, 0.1),
            projection_batch_size=_number(env, "PROJECTION_BATCH_SIZE", 500, int, 1),
            session_idle_minutes=_number(env, "SESSION_IDLE_MINUTES", 30.0, float, 1),
            doctor_patient_months=_number(env, "DOCTOR_PATIENT_MONTHS", 24, int, 1),
            session_max_hours=_number(env, "SESSION_MAX_HOURS", 12.0, float, 0.1),
            account_cache_seconds=_number(env, "ACCOUNT_CACHE_SECONDS", 2.0, float, 0),
            login_limit_per_account=_limit(env, "LOGIN_LIMIT_PER_ACCOUNT", "5 per minute"),
            login_limit_per_address=_limit(env, "LOGIN_LIMIT_PER_ADDRESS", "20 per minute"),
            max_request_bytes=_number(env, "MAX_REQUEST_BYTES", 64 * 1024, int, 1024),
            trusted_proxies=_number(env, "TRUSTED_PROXIES", 0, int, 0),
            metrics_token=env.get("METRICS_TOKEN") or None,
            ready_max_lag_seconds=_number(env, "READY_MAX_LAG_SECONDS", 60.0, float, 1),
            cache_ttl_seconds=_number(env, "CACHE_TTL_SECONDS", 300, int, 1),
            cache_prefix=env.get("CACHE_PREFIX") or "rendezvous",
            event_stream=env.get("EVENT_STREAM") or "rendezvous.events",
            event_stream_maxlen=_number(env, "EVENT_STREAM_MAXLEN", 0, int, 0),
            relay_batch_size=_number(env, "RELAY_BATCH_SIZE", 500, int, 1),
            relay_poll_seconds=_number(env, "RELAY_POLL_SECONDS", 0.5, float, 0.01),
            ops_sample_seconds=_number(env, "OPS_SAMPLE_SECONDS", 15.0, float, 1),
            worker_metrics_port=_number(env, "WORKER_METRICS_PORT", None, int, 1),
            calendar_memo_size=_number(env, "CALENDAR_MEMO_SIZE", 64, int, 0),
            no_show_grace_minutes=_number(env, "NO_SHOW_GRACE_MINUTES", 10, int, 0),
            undo_minutes=_number(env, "UNDO_MINUTES", 15, int, 0),
            book_confirmed=_flag(env, "BOOK_CONFIRMED", True),
            public_url=(env.get("PUBLIC_URL") or "http://127.0.0.1:5000").rstrip("/"),
            smtp_url=env.get("SMTP_URL") or None,
            reminder_from=env.get("REMINDER_FROM") or "rendezvous@localhost",
            sms_provider_url=env.get("SMS_PROVIDER_URL") or None,
            sms_provider_token=env.get("SMS_PROVIDER_TOKEN") or None,
            sms_sender=env.get("SMS_SENDER") or "",
            twilio_account_sid=env.get("TWILIO_ACCOUNT_SID") or None,
            twilio_auth_token=env.get("TWILIO_AUTH_TOKEN") or None,
            twilio_api_url=env.get("TWILIO_API_URL") or None,
            reminder_hours_before=_number(env, "REMINDER_HOURS_BEFORE", 48, int, 1),
            reminder_second_hours_before=_number(env, "REMINDER_SECOND_HOURS_BEFORE", 0, int, 0),
            reminder_seconds=_number(env, "REMINDER_SECONDS", 60.0, float, 1),
            reminder_max_attempts=_number(env, "REMINDER_MAX_ATTEMPTS", 8, int, 1),
            reminder_lease_seconds=_number(env, "REMINDER_LEASE_SECONDS", 300, int, 1),
            patient_link_days=_number(env, "PATIENT_LINK_DAYS", 30, int, 1),
            patient_limit_per_address=_limit(env, "PATIENT_LIMIT_PER_ADDRESS", "30 per minute"),
            patient_limit_per_link=_limit(env, "PATIENT_LIMIT_PER_LINK", "10 per minute"),
        )
        try:
            ZoneInfo(settings.clinic_timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigurationError(
                f"CLINIC_TIMEZONE={settings.clinic_timezone!r} is not a known time zone "
                "(use an IANA name such as Europe/Paris)."
            ) from None
        if not settings.clinic_locale:
            settings = replace(settings, clinic_locale=default_locale(settings.clinic_timezone))
        if settings.clinic_locale not in LOCALES:
            raise ConfigurationError(
                f"CLINIC_LOCALE={settings.clinic_locale!r} is not a language Rendezvous speaks "
                f"(use one of {', '.join(LOCALES)})."
            )
        if not settings.public_url.startswith(("http://", "https://")):
            raise ConfigurationError(
                f"PUBLIC_URL={settings.public_url!r} must be the address patients reach the "
                "app at, starting with https:// (or http://)."
            )
        if settings.reminder_second_hours_before >= settings.reminder_hours_before:
            raise ConfigurationError(
                "REMINDER_SECOND_HOURS_BEFORE must be fewer hours than REMINDER_HOURS_BEFORE "
                "(or 0 for no second reminder)."
            )
        import phonenumbers

        if settings.clinic_region not in phonenumbers.SUPPORTED_REGIONS:
            raise ConfigurationError(
                f"CLINIC_REGION={settings.clinic_region!r} is not a region phone numbers are "
                "known for (use a two-letter country code such as FR)."
            )
        return settings

    def flask_config(self, instance_path: str) -> dict[str, Any]:
        """The Flask config these settings imply; the embedded default lives in `instance/`."""
        database_url = self.database_url_write or (
            f"sqlite:///{Path(instance_path, 'rendezvous.db')}"
        )
        return {
            "SQLALCHEMY_DATABASE_URI": database_url,
            # None: read models live in the write database.
            "READ_DATABASE_URI": self.database_url_read,
            "SECRET_KEY": self.secret_key or _instance_secret(instance_path),
            "CLINIC_TIMEZONE": self.clinic_timezone,
            # The language of pages when a person has chosen none (app/web/i18n.py).
            "CLINIC_LOCALE": self.clinic_locale,
            # Phone numbers written without +country are read as this country's.
            "CLINIC_REGION": self.clinic_region,
            "REDIS_URL": self.redis_url,
            # No broker: projections run in process right after each commit.
            "CELERY": celery_config(
                self.celery_broker_url or self.redis_url,
                self.celery_queue,
                self.projection_tick_seconds,
                self.ops_sample_seconds,
                self.reminder_seconds,
            ),
            "PROJECTION_TICK_SECONDS": self.projection_tick_seconds,
            "PROJECTION_BATCH_SIZE": self.projection_batch_size,
            # Sessions end after this long without a request: Flask signs the cookie with
            # its time and refuses an older one, and each request renews it.
            "PERMANENT_SESSION_LIFETIME": timedelta(minutes=self.session_idle_minutes),
            # A doctor's patients: seen within this many months, or expected (docs/accounts.md).
            "DOCTOR_PATIENT_MONTHS": self.doctor_patient_months,
            # However active, a session ends this long after signing in (app/web/auth.py).
            "SESSION_MAX_AGE": timedelta(hours=self.session_max_hours),
            # A session's account is read again at most this long after it was last read,
            # per process: how long a change made in another process (disabled, signed
            # out) can take to end the session there. At once in the process that made it.
            "ACCOUNT_CACHE_SECONDS": self.account_cache_seconds,
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "LOGIN_LIMIT_PER_ACCOUNT": self.login_limit_per_account,
            "LOGIN_LIMIT_PER_ADDRESS": self.login_limit_per_address,
            # Sign-in attempts are counted in Redis when there is one, so that every web
            # process shares the count; the embedded default counts in memory.
            "RATELIMIT_STORAGE_URI": self.redis_url or "memory://",
            "MAX_CONTENT_LENGTH": self.max_request_bytes,
            "TRUSTED_PROXIES": self.trusted_proxies,
            # /metrics answers an admin's session or `Authorization: Bearer <token>`.
            "METRICS_TOKEN": self.metrics_token,
            # /readyz fails when a projection is further behind than this.
            "READY_MAX_LAG_SECONDS": self.ready_max_lag_seconds,
            # The read cache (on when REDIS_URL is set): entries live at most this long. It
            # bounds memory; invalidation, not expiry, keeps entries current.
            "CACHE_TTL_SECONDS": self.cache_ttl_seconds,
            "CACHE_PREFIX": self.cache_prefix,
            # The outbound event stream (`flask events relay`).
            "EVENT_STREAM": self.event_stream,
            "EVENT_STREAM_MAXLEN": self.event_stream_maxlen,
            "RELAY_BATCH_SIZE": self.relay_batch_size,
            "RELAY_POLL_SECONDS": self.relay_poll_seconds,
            "OPS_SAMPLE_SECONDS": self.ops_sample_seconds,
            "WORKER_METRICS_PORT": self.worker_metrics_port,
            # Day grids and weeks each web process keeps while the read models are unchanged
            # (app/web/calendar.py); 0 works every one out afresh.
            "CALENDAR_MEMO_SIZE": self.calendar_memo_size,
            # How late after its start an appointment may be marked as a no-show.
            "NO_SHOW_GRACE_MINUTES": self.no_show_grace_minutes,
            # How long after a check-in, no-show, completion or cancellation staff may undo
            # it (admins: at any time).
            "UNDO_MINUTES": self.undo_minutes,
            # Whether the booking form starts with "Confirmed with the patient" ticked.
            "BOOK_CONFIRMED": self.book_confirmed,
            # Reminders (docs/reminders.md): the address the patient's links start with, the
            # channels, when reminders go and how the sender retries.
            "PUBLIC_URL": self.public_url,
            "SMTP_URL": self.smtp_url,
            "REMINDER_FROM": self.reminder_from,
            "SMS_PROVIDER_URL": self.sms_provider_url,
            "SMS_PROVIDER_TOKEN": self.sms_provider_token,
            "SMS_SENDER": self.sms_sender,
            "TWILIO_ACCOUNT_SID": self.twilio_account_sid,
            "TWILIO_AUTH_TOKEN": self.twilio_auth_token,
            "TWILIO_API_URL": self.twilio_api_url,
            "REMINDER_HOURS_BEFORE": self.reminder_hours_before,
            "REMINDER_SECOND_HOURS_BEFORE": self.reminder_second_hours_before,
            "REMINDER_MAX_ATTEMPTS": self.reminder_max_attempts,
            "REMINDER_LEASE_SECONDS": self.reminder_lease_seconds,
            # The patient's page: how long a link lasts, and how often it may be asked.
            "PATIENT_LINK_DAYS": self.patient_link_days,
            "PATIENT_LIMIT_PER_ADDRESS": self.patient_limit_per_address,
            "PATIENT_LIMIT_PER_LINK": self.patient_limit_per_link,
        }


def celery_config(
    broker_url: str | None,
    queue: str,
    tick_seconds: float,
    sample_seconds: float = 15.0,
    reminder_seconds: float = 60.0,
) -> dict[str, Any]:
    """Celery's settings: at-least-once delivery of idempotent projection tasks."""
    return {
        "broker_url": broker_url,
        "task_default_queue": queue,
        "task_ignore_result": True,
        # A task is acknowledged when it has finished, so a worker that dies mid-task leaves
        # it to be delivered again; projection tasks are safe to run twice.
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "broker_connection_retry_on_startup": True,
        # Fail fast when the broker is down, rather than hang a request that is nudging:
        # publishing does not retry the connection (max_retries 0; kombu would otherwise
        # keep trying for about 6 s). Workers reconnect on their own schedule.
        "broker_transport_options": {
            "socket_connect_timeout": 2,
            "socket_timeout": 5,
            "visibility_timeout": 300,
            "max_retries": 0,
        },
        "beat_schedule": {
            "projections-catch-up": {
                "task": "rendezvous.catch_up",
                "schedule": tick_seconds,
                "options": {"expires": tick_seconds},
            },
            # The operations page's charts: a sample of the metrics and lag.
            "ops-sample": {
                "task": "rendezvous.sample_ops",
                "schedule": sample_seconds,
                "options": {"expires": sample_seconds},
            },
            # A pass of the reminder sender (docs/reminders.md): a lost tick is made good by
            # the next, and two passes at once send nothing twice.
            "reminders-send-due": {
                "task": "rendezvous.send_reminders",
                "schedule": reminder_seconds,
                "options": {"expires": reminder_seconds},
            },
        },
    }


def _number(env: Mapping[str, str], name: str, default: Any, kind: type, least: float) -> Any:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        value = None
    if value is None or value < least:
        raise ConfigurationError(f"{name}={raw!r} must be a number of at least {least}.")
    return value


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigurationError(f"{name}={raw!r} must be 1 or 0 (yes or no).")


def _limit(env: Mapping[str, str], name: str, default: str) -> str:
    """A rate limit such as "5 per minute" (Flask-Limiter's notation)."""
    from limits import parse_many

    raw = env.get(name) or default
    try:
        parse_many(raw)
    except ValueError:
        raise ConfigurationError(
            f"{name}={raw!r} is not a rate limit; write it like '5 per minute'."
        ) from None
    return raw


def engine_options(database_url: str) -> dict[str, Any]:
    """Pool and connection settings per database kind."""
    if database_url.startswith("sqlite"):
        return {"connect_args": {"timeout": 30}}
    return {
        "pool_size": 10,
        "max_overflow": 20,
        # No pre-ping: it costs a round trip on every checkout. A connection broken by a
        # server restart fails once, SQLAlchemy then discards the whole pool, and the
        # request gets the 503 page.
        # A transaction left open anywhere holds back every reader of the event log
        # (see docs/event-store.md), so the server ends an idle one after 30 s.
        # A database host that drops packets fails a page (503) and /readyz in seconds,
        # not when the operating system gives up on the connection.
        "connect_args": {
            "connect_timeout": 5,
            "options": "-c idle_in_transaction_session_timeout=30000",
        },
    }


def _instance_secret(instance_path: str) -> str:
    """A random key kept in the instance folder, so sessions survive restarts in development."""
    path = Path(instance_path, "secret_key")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # Created private and exclusively: of two processes starting at once, one writes.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_written_key(path)
    key = secrets.token_hex(32)
    with os.fdopen(descriptor, "w") as file:
        file.write(key)
    return key


def _read_written_key(path: Path) -> str:
    """The key another process is writing: wait for it, a little, rather than read it empty."""
    deadline = time.monotonic() + 2
    while not (key := path.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.01)
    if not key:
        raise ConfigurationError(f"{path} is empty; delete it or set SECRET_KEY.")
    return key
