"""The reminder sender: one pass plans the reminders now due, claims them in the ledger and
sends each through its channel, recording the outcome as an event on the appointment's
reminders stream. Beat runs a pass every REMINDER_SECONDS (`rendezvous.send_reminders`);
`flask reminders send-due` runs one by hand.

Exactly once, from the clinic's point of view (docs/reminders.md has the whole argument):
* A claim is a conditional UPDATE of the ledger row (its state and claim as last seen), so
  two passes at once never hold the same reminder; a claim lasts REMINDER_LEASE_SECONDS,
  after which another pass may take it over.
* Before the message is handed over (the SMTP DATA's final dot, the SMS provider's
  request), the row moves to `committing`, fenced by the claim: a pass whose claim was taken
  over cannot hand anything over. A server must discard a message whose DATA never ended,
  so a pass killed before that point sent nothing, and the take-over sends it.
* A pass killed after the hand-over leaves the row `committing`: the take-over records the
  send (ReminderSent, recovered) instead of sending again; a channel whose provider
  honours an idempotency key (SMS) is asked again with the same key, which sends nothing new
  and tells the provider's id.
* The event's command id is derived from the reminder's key, and the reminders stream
  records one outcome per key: recording twice changes nothing.
The one moment an outcome cannot be known is the final write of a message itself: a pass
killed exactly then counts the message as sent.
"""

from __future__ import annotations

import logging
import os
import socket
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4, uuid5

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app import phones
from app.commands import commands as c
from app.domain.appointment import Appointment, Status
from app.domain.clinic import Clinic
from app.domain.doctor import Doctor
from app.domain.patient import Patient, valid_email
from app.domain.reminders import Contact, Plan, choose_channel, reminder_key
from app.metrics import REMINDERS
from app.projections import tables as rm
from app.queries.patient_page import clinic_now, patient_now

from .channels import Aborted, DeliveryError, SmsChannel, SmtpChannel, TwilioChannel
from .compose import ReminderFacts, compose_email, compose_sms
from .links import PatientLinks
from .tables import deliveries as d

if TYPE_CHECKING:
    from app.bootstrap import Services

log = logging.getLogger("rendezvous.reminders")

Channel = SmtpChannel | SmsChannel | TwilioChannel
# How far Twilio's clock may be from ours when its list tells when a text was taken.
CLOCK_SKEW = timedelta(minutes=5)
_COMMANDS = UUID("5d0e33a1-7c5b-4f7e-9a0e-6b1f0c2d9e77")
ELIGIBLE = (Status.PENDING, Status.CONFIRMED)


@dataclass(frozen=True)
class SenderSettings:
    plan: Plan
    public_url: str
    clinic_locale: str
    sender: str  # the From address
    region: str
    max_attempts: int = 8
    lease: timedelta = timedelta(minutes=5)
    batch: int = 50

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SenderSettings:
        return cls(
            plan=Plan(config["REMINDER_HOURS_BEFORE"], config["REMINDER_SECOND_HOURS_BEFORE"]),
            public_url=config["PUBLIC_URL"],
            clinic_locale=config["CLINIC_LOCALE"],
            sender=config["REMINDER_FROM"],
            region=config["CLINIC_REGION"],
            max_attempts=config["REMINDER_MAX_ATTEMPTS"],
            lease=timedelta(seconds=config["REMINDER_LEASE_SECONDS"]),
        )


@dataclass
class PassReport:
    """What one pass did, by outcome ("sent", "skipped", ...)."""

    planned: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)

    def __str__(self) -> str:
        done = ", ".join(f"{count} {outcome}" for outcome, count in sorted(self.outcomes.items()))
        return f"{self.planned} newly due; {done or 'nothing to send'}"


@dataclass(frozen=True)
class _Claim:
    key: str
    appointment_id: UUID
    kind: str
    starts_at: datetime
    state: str  # as claimed: "sending", or "committing" when taken over past the hand-over
    channel: str | None
    attempts: int
    token: str


def utc(moment: datetime) -> datetime:
    """A time as the ledger binds it: aware UTC (SQLite keeps the digits, PostgreSQL the
    instant)."""
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def retry_delay(attempts: int) -> timedelta:
    """1, 2, 4 … minutes after each failure, at most an hour."""
    return timedelta(minutes=min(60, 2 ** max(0, attempts - 1)))


class ReminderSender:
    def __init__(
        self,
        services: Services,
        channels: Mapping[str, Channel],
        links: PatientLinks,
        settings: SenderSettings,
        *,
        name: str | None = None,
    ) -> None:
        self.services, self.channels, self.links, self.settings = (
            services,
            channels,
            links,
            settings,
        )
        self.engine: Engine = services.store.engine
        self._clinic: Clinic | None = None  # read once a pass (_facts)
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"

    def now(self) -> datetime:
        return utc(self.services.bus.clock())

    def send_due(self) -> PassReport:
        """One pass: plan, then claim and send until nothing due is left unclaimed."""
        self._clinic = None
        report = PassReport(planned=self.plan())
        while claims := self.claim():
            for claim in claims:
                try:
                    outcome = self.deliver(claim)
                except Exception:
                    # Left claimed: the lease runs out and a later pass tries again (and
                    # parks it once it has been tried REMINDER_MAX_ATTEMPTS times).
                    log.exception("Reminder %s could not be sent", claim.key)
                    outcome = "error"
                report.outcomes[outcome] += 1
            if report.outcomes["error"] >= self.settings.batch:
                break  # something is wrong with every one: do not spin on them
        return report

    # -- planning --

    def plan(self) -> int:
        """Add a ledger row for each reminder due now that has none: appointments still to
        come, pending or confirmed, as the read models know them (the send checks the
        event store again)."""
        now = self.now()
        plan = self.settings.plan
        query = sa.select(rm.appointments.c.appointment_id, rm.appointments.c.starts_at).where(
            rm.appointments.c.status.in_([status.value for status in ELIGIBLE]),
            rm.appointments.c.starts_at > now,
            rm.appointments.c.starts_at <= now + plan.horizon,
        )
        with self.services.read_engine.connect() as conn:
            found = conn.execute(query).all()
        rows = []
        for appointment_id, starts_at in found:
            kind = plan.due_kind(utc(starts_at), now)
            if kind is not None:
                rows.append(
                    {
                        "key": reminder_key(appointment_id, kind, utc(starts_at)),
                        "appointment_id": appointment_id,
                        "kind": kind,
                        "starts_at": utc(starts_at),
                        "state": "due",
                        "attempts": 0,
                        "next_at": now,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
        if not rows:
            return 0
        with self.engine.begin() as conn:
            known = set(
                conn.execute(
                    sa.select(d.c.key).where(d.c.key.in_([row["key"] for row in rows]))
                ).scalars()
            )
            new = [row for row in rows if row["key"] not in known]
            if new:
                # Another pass may add the same rows meanwhile: theirs stand.
                conn.execute(_insert_missing(self.engine), new)
        return len(new)

    # -- claiming --

    def claim(self) -> list[_Claim]:
        """Up to a batch of reminders, now this pass's: due ones, and ones whose claim ran
        out (a pass that died or hangs)."""
        now = self.now()
        waiting = (
            sa.select(d.c.key, d.c.state, d.c.claimed_by)
            .where(
                sa.or_(
                    sa.and_(d.c.state == "due", d.c.next_at <= now),
                    sa.and_(d.c.state.in_(("sending", "committing")), d.c.lease_until < now),
                )
            )
            .order_by(d.c.next_at)
            .limit(self.settings.batch)
        )
        claims: list[_Claim] = []
        with self.engine.begin() as conn:
            seen = conn.execute(waiting).all()
        for key, state, claimed_by in seen:
            token = f"{self.name}:{uuid4().hex[:8]}"
            # Still as seen, or another pass has it: the UPDATE decides, row by row.
            taken = (
                sa.update(d)
                .where(
                    d.c.key == key,
                    d.c.state == state,
                    d.c.claimed_by.is_not_distinct_from(claimed_by),
                )
                .values(
                    state="committing" if state == "committing" else "sending",
                    claimed_by=token,
                    lease_until=now + self.settings.lease,
                    attempts=d.c.attempts + (0 if state == "committing" else 1),
                    updated_at=now,
                )
                .returning(d.c.appointment_id, d.c.kind, d.c.starts_at, d.c.channel, d.c.attempts)
            )
            with self.engine.begin() as conn:
                row = conn.execute(taken).first()
            if row is not None:
                appointment_id, kind, starts_at, channel, attempts = row
                final = "committing" if state == "committing" else "sending"
                claims.append(
                    _Claim(
                        key, appointment_id, kind, utc(starts_at), final, channel, attempts, token
                    )
                )
        return claims

    def _move(self, claim: _Claim, **values: Any) -> bool:
        """Change the row if this pass's claim still holds it."""
        update = (
            sa.update(d)
            .where(d.c.key == claim.key, d.c.claimed_by == claim.token)
            .values(updated_at=self.now(), **values)
        )
        with self.engine.begin() as conn:
            return conn.execute(update).rowcount == 1

    # -- sending --

    def deliver(self, claim: _Claim) -> str:
        """Send one claimed reminder, or record why not; the outcome's name."""
        facts = self._facts(claim)
        if claim.state == "committing":
            return self._recover(claim, facts)
        if claim.attempts > self.settings.max_attempts:
            row = self._row(claim.key)
            error = DeliveryError((row.error if row else None) or "kept failing", permanent=True)
            return self._failed(claim, claim.channel or "", error)
        if isinstance(facts, str):
            self._move(claim, state="dropped", error=facts, lease_until=None)
            REMINDERS.labels(claim.channel or "", "dropped").inc()
            return "dropped"
        appointment, patient, clinic, doctor = facts
        choice = choose_channel(
            Contact(
                patient.details.email if patient.details else "",
                patient.details.phone if patient.details else "",
                frozenset(patient.consents),
                patient.preferred_channel,
            ),
            self.channels,
            email_ok=bool(patient.details and valid_email(patient.details.email)),
            phone_ok=bool(
                patient.details and phones.textable(patient.details.phone, self.settings.region)
            ),
        )
        if isinstance(choice, str):
            self._record(c.RecordReminderSkipped(**self._about(claim, "skipped"), reason=choice))
            self._move(claim, state="skipped", error=choice, lease_until=None)
            REMINDERS.labels("", "skipped").inc()
            return "skipped"
        channel_name, address = choice
        if channel_name == "sms":
            address = phones.textable(address, self.settings.region) or address
        channel = self.channels[channel_name]
        if not self._move(claim, channel=channel_name, address=address):
            return "taken over"
        reminder = self._reminder(claim, appointment, patient, clinic, doctor)
        return self._send(claim, channel, reminder, address)

    def _send(self, claim: _Claim, channel: Channel, reminder: ReminderFacts, to: str) -> str:

        def hand_over() -> bool:
            return self._move(claim, state="committing")

        try:
            if isinstance(channel, SmtpChannel):
                provider_id = channel.send(
                    compose_email(reminder, to=to, key=claim.key), before_commit=hand_over
                )
            else:
                provider_id = channel.send(
                    compose_sms(reminder, to=to, key=claim.key), before_commit=hand_over
                )
        except Aborted:
            return "taken over"
        except DeliveryError as exc:
            if exc.uncertain:
                return self._look_later(claim, channel.name, exc)
            return self._failed(claim, channel.name, exc)
        self._sent(claim, channel.name, provider_id, recovered=False)
        return "sent"

    def _look_later(self, claim: _Claim, channel: str, exc: DeliveryError) -> str:
        """The provider may or may not have the text: it stays `committing`, for a later
        pass to look it up rather than send it blind, and is parked once that kept failing."""
        if claim.attempts >= self.settings.max_attempts:
            unknown = DeliveryError(f"could not tell if it was sent: {exc.detail}", permanent=True)
            return self._failed(claim, channel, unknown)
        self._move(
            claim,
            state="committing",
            attempts=claim.attempts + 1,
            error=exc.detail,
            lease_until=self.now() + retry_delay(claim.attempts + 1),
        )
        REMINDERS.labels(channel, "failed").inc()
        return "failed"

    def _recover(self, claim: _Claim, facts: Any) -> str:
        """A reminder a pass handed over and did not live to record. An idempotent
        channel is asked again with the same key (nothing new goes out, the provider's id
        comes back); any other is taken at its word: it has the message."""
        channel = self.channels.get(claim.channel or "")
        provider_id = ""
        if isinstance(channel, TwilioChannel) and not isinstance(facts, str):
            return self._look_up(claim, channel, facts)
        if channel is not None and channel.idempotent and not isinstance(facts, str):
            appointment, patient, clinic, doctor = facts
            row = self._row(claim.key)
            if row is not None and row.address:
                reminder = self._reminder(claim, appointment, patient, clinic, doctor)
                try:
                    assert isinstance(channel, SmsChannel)
                    provider_id = channel.send(
                        compose_sms(reminder, to=row.address, key=claim.key),
                        before_commit=lambda: True,
                    )
                except (DeliveryError, Aborted) as exc:
                    log.warning("Reminder %s: asking the provider again failed: %s", claim.key, exc)
        self._sent(claim, claim.channel or "", provider_id, recovered=True)
        return "recovered"

    def _look_up(
        self,
        claim: _Claim,
        channel: TwilioChannel,
        facts: tuple[Appointment, Patient, Clinic, Doctor],
    ) -> str:
        """A text handed to a provider that takes no idempotency key: found among the
        number's latest messages, it is recorded; not found, it was never taken, and goes now.
        While the provider cannot say, the reminder waits (it is not sent blind)."""
        row = self._row(claim.key)
        if row is None or not row.address:
            self._sent(claim, channel.name, "", recovered=True)
            return "recovered"
        reminder = self._reminder(claim, *facts)
        sms = compose_sms(reminder, to=row.address, key=claim.key)
        # The pass that handed it over had claimed it once due: never before next_at.
        try:
            found = channel.find(sms, since=utc(row.next_at) - CLOCK_SKEW)
        except DeliveryError as exc:
            return self._look_later(claim, channel.name, exc)
        if found is not None:
            self._sent(claim, channel.name, found, recovered=True)
            return "recovered"
        log.info("Reminder %s: the provider never took it; sending it now", claim.key)
        return self._send(claim, channel, reminder, row.address)

    def _reminder(
        self,
        claim: _Claim,
        appointment: Appointment,
        patient: Patient,
        clinic: Clinic,
        doctor: Doctor,
    ) -> ReminderFacts:
        """What the message says, in the patient's language (else the clinic's); its link
        names the appointment's version now, so a later move shows on the page."""
        tz = self.services.tz
        assert appointment.starts_at and appointment.ends_at
        token = self.links.make(appointment.id, appointment.version)
        return ReminderFacts(
            appointment_id=appointment.id,
            kind=claim.kind,
            locale=patient.language or self.settings.clinic_locale,
            tz=tz,
            starts_at=appointment.starts_at.astimezone(tz),
            ends_at=appointment.ends_at.astimezone(tz),
            patient_name=patient.name,
            doctor_name=doctor.full_name,
            title=appointment.title,
            clinic_name=clinic.contact.name,
            clinic_address=clinic.contact.address,
            clinic_phone=clinic.contact.phone,
            what_to_bring=clinic.contact.what_to_bring,
            link=f"{self.settings.public_url}/p/{token}",
            sender=self.settings.sender,
        )

    def _sent(self, claim: _Claim, channel: str, provider_id: str, *, recovered: bool) -> None:
        self._record(
            c.RecordReminderSent(
                **self._about(claim, "sent"),
                channel=channel,
                provider_id=provider_id[:200],
                recovered=recovered,
            )
        )
        self._move(claim, state="sent", provider_id=provider_id[:200], lease_until=None, error=None)
        REMINDERS.labels(channel, "recovered" if recovered else "sent").inc()

    def _failed(self, claim: _Claim, channel: str, exc: DeliveryError) -> str:
        if exc.permanent or claim.attempts >= self.settings.max_attempts:
            self._record(
                c.RecordReminderParked(
                    **self._about(claim, f"parked:{claim.attempts}"),
                    channel=channel,
                    attempts=claim.attempts,
                    error=exc.detail[:500],
                )
            )
            self._move(claim, state="parked", error=exc.detail, lease_until=None)
            REMINDERS.labels(channel, "parked").inc()
            log.warning(
                "Reminder %s parked after %d attempts: %s", claim.key, claim.attempts, exc.detail
            )
            return "parked"
        self._move(
            claim,
            state="due",
            error=exc.detail,
            lease_until=None,
            next_at=self.now() + retry_delay(claim.attempts),
        )
        REMINDERS.labels(channel, "failed").inc()
        log.info(
            "Reminder %s failed (attempt %d), retried later: %s",
            claim.key,
            claim.attempts,
            exc.detail,
        )
        return "failed"

    def _record(self, command: c.Command) -> None:
        self.services.bus.handle(command)

    @staticmethod
    def _about(claim: _Claim, outcome: str) -> dict[str, Any]:
        """What every record of a reminder's outcome names; its command id derived from the
        key and the outcome, so recording it again is a repeat, not a second event."""
        return {
            "command_id": uuid5(_COMMANDS, f"{claim.key}:{outcome}"),
            "appointment_id": claim.appointment_id,
            "kind": claim.kind,
            "key": claim.key,
            "starts_at": claim.starts_at,
        }

    def _row(self, key: str) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(d).where(d.c.key == key)).first()

    def _facts(self, claim: _Claim) -> tuple[Appointment, Patient, Clinic, Doctor] | str:
        """The appointment, its patient (the kept record, after a merge), the clinic and
        the doctor, from the event store; or why the reminder no longer applies."""
        store = self.services.store
        appointment = Appointment.from_history(
            claim.appointment_id, [r.event for r in store.load(claim.appointment_id)]
        )
        if not appointment.exists or appointment.status not in ELIGIBLE:
            return "no longer pending or confirmed"
        if appointment.starts_at is None or utc(appointment.starts_at) != claim.starts_at:
            return "moved"
        if claim.starts_at <= self.now():
            return "passed"
        assert appointment.patient_id and appointment.doctor_id
        streams = store.load_many([appointment.patient_id, appointment.doctor_id])
        patient = patient_now(store, appointment.patient_id, streams[appointment.patient_id])
        doctor = Doctor.from_history(
            appointment.doctor_id, [r.event for r in streams[appointment.doctor_id]]
        )
        if self._clinic is None:  # once a pass: the same for every reminder
            self._clinic = clinic_now(store)
        return appointment, patient, self._clinic, doctor


def _insert_missing(engine: Engine) -> Any:
    """INSERT … ON CONFLICT (key) DO NOTHING, in the dialect at hand."""
    if engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(d).on_conflict_do_nothing(index_elements=["key"])
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(d).on_conflict_do_nothing(index_elements=["key"])


def sender_for(app: Any) -> ReminderSender:
    """The sender a Flask app's settings describe (its services, channels and links)."""
    from app.extensions import services

    from .channels import channels_from_config

    return ReminderSender(
        services(app),
        channels_from_config(app.config),
        patient_links(app),
        SenderSettings.from_config(app.config),
    )


def patient_links(app: Any) -> PatientLinks:
    """Links signed with the app's secret, on its bus's clock (whatever it is at the time)."""
    from app.extensions import services

    found = services(app)
    return PatientLinks(
        app.config["SECRET_KEY"], app.config["PATIENT_LINK_DAYS"], lambda: found.bus.clock()
    )
