"""The command bus: runs each command once, in one transaction, retried once on a clash."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING
from uuid import UUID

from app.domain.appointment import NO_SHOW_GRACE, UNDO_WINDOW
from app.domain.clinic import CLINIC_ID
from app.domain.errors import (
    CommandReusedError,
    ConflictError,
    DomainError,
    ForbiddenError,
    SlotTakenError,
)
from app.domain.messages import phrase
from app.domain.reminders import reminders_stream_id
from app.domain.staff import Principal
from app.eventstore import (
    CommandRecord,
    ConcurrencyError,
    DuplicateCommandError,
    EventMetadata,
    Hold,
    ReservationConflictError,
)
from app.metrics import COMMAND_SECONDS

from . import commands as c
from .access import authorize
from .handlers import (
    HANDLERS,
    ActorNames,
    Context,
    actors_as_recorded,
    refuse_taken,
    stale_version_error,
)

if TYPE_CHECKING:
    # Named, not used: the bus runs on any store (the real one, or tests/unit's in memory).
    from app.eventstore import EventStore

log = logging.getLogger(__name__)

# The record a command acts on is named by the first of these fields it has: a booking also
# names its patient and doctor, but writes to its appointment.
TARGET_FIELDS = ("appointment_id", "series_id", "waitlist_id", "patient_id", "doctor_id")
# Commands that create their record, which each form post names afresh: a repeat is for the
# same record when it names the same others as the first did (a booking's patient, doctor).
CREATES: dict[type[c.Command], tuple[str, ...]] = {
    c.RegisterPatient: (),
    c.RegisterDoctor: (),
    c.CreateAppointment: ("patient_id", "doctor_id"),
    c.BookSeries: ("patient_id", "doctor_id"),
}


@dataclass(frozen=True)
class CommandResult:
    """What a command did: the stream it touched, its new version, its last event's position.

    `position` is None when the command changed nothing; `replayed` is true when this
    command id had already been processed and the first outcome is returned again.
    """

    command_id: UUID
    stream_id: UUID
    version: int
    position: int | None
    replayed: bool = False


def utc_now() -> datetime:
    return datetime.now(UTC)


class CommandBus:
    """Runs each command once: in one transaction, retried once on a concurrent write."""

    def __init__(
        self,
        store: EventStore,
        *,
        tz: tzinfo,
        clock: Callable[[], datetime] = utc_now,
        after_commit: Callable[[CommandResult], None] | None = None,
        actor_names: ActorNames = actors_as_recorded,
        region: str = "FR",
        no_show_grace: timedelta = NO_SHOW_GRACE,
        undo_window: timedelta = UNDO_WINDOW,
    ) -> None:
        self.store, self.tz, self.clock, self.region = store, tz, clock, region
        # NO_SHOW_GRACE_MINUTES: the pages offer No-show by the same value.
        self.no_show_grace = no_show_grace
        # UNDO_MINUTES: the pages offer Undo by the same value.
        self.undo_window = undo_window
        self.after_commit = after_commit
        # How conflict messages name who changed a record (user ids become names).
        self.actor_names = actor_names

    def handle(self, command: c.Command, principal: Principal | None = None) -> CommandResult:
        """Run `command` for `principal` (a signed-in user; None for the system itself, as
        in seeding), whose user id the events record as their actor. A repeated command id
        returns the first outcome unchanged, but only to the same actor for the same action
        on the same record; any other reuse is refused with CommandReusedError.

        There is no look-up before the work: the command log's primary key refuses a second
        record of the same id in the same transaction as the events, and a repeat that the
        domain refuses (already confirmed, slot taken by itself...) is recognised then.
        """
        started = time.perf_counter()
        try:
            result = self._handle(command, principal)
        except Exception as exc:
            _observe(command, _outcome(exc), started)
            raise
        # Timed before the nudge: without a broker, that runs the projections in process,
        # which is the projections' time (their own histogram), not the command's.
        _observe(command, "ok", started)
        if self.after_commit is not None:
            self.after_commit(result)
        return result

    def _handle(self, command: c.Command, principal: Principal | None) -> CommandResult:
        if principal is not None:
            authorize(principal, command)
        user_version = getattr(command, "expected_version", None)
        for attempt in (1, 2):
            try:
                return self._run_once(command, principal)
            except (ConcurrencyError, DomainError, DuplicateCommandError) as exc:
                if isinstance(exc, ForbiddenError):
                    raise
                # A twin of this command (same id) may have committed while this one ran:
                # then this is a repeat, and the answer is the twin's.
                previous = self.store.find_command(command.command_id)
                if previous is not None:
                    return _replay(previous, command, _actor(command, principal), self.store)
                if not isinstance(exc, ConcurrencyError):
                    raise
                # Without a user-given version the command was never stale for anyone:
                # decide again on fresh state. With one, the user's view is out of date.
                if user_version is None and attempt == 1:
                    continue
                raise self._conflict(exc) from exc
        raise AssertionError("unreachable")

    def _run_once(self, command: c.Command, principal: Principal | None) -> CommandResult:
        now = self.clock()
        try:
            with self.store.transaction() as tx:
                context = Context(
                    tx,
                    now,
                    self.tz,
                    principal,
                    self.actor_names,
                    self.region,
                    self.no_show_grace,
                    self.undo_window,
                )
                return _decide(context, command)
        except _TimeTaken as taken:
            # The refused save spoilt its transaction (PostgreSQL aborts it at the
            # constraint): a fresh one reads who holds the time, to name them.
            with self.store.transaction() as tx:
                refuse_taken(tx, taken.hold, self.tz)

    def _conflict(self, exc: ConcurrencyError) -> ConflictError:
        history = self.store.load(exc.stream_id)
        noun = history[0].stream_type if history else "record"
        return stale_version_error(noun, exc.expected_version, history, self.tz, self.actor_names)


def target_of(command: c.Command) -> UUID:
    """The id of the record (stream) that `command` writes to."""
    if isinstance(command, c.ClinicCommand):
        # The clinic's one stream, whatever else it names (a visit type's doctor).
        return CLINIC_ID
    if isinstance(command, c.ReminderCommand):
        return reminders_stream_id(command.appointment_id)
    return next(getattr(command, name) for name in TARGET_FIELDS if hasattr(command, name))


def _actor(command: c.Command, principal: Principal | None) -> str:
    """Who the events of `command` name as its actor."""
    return principal.actor if principal else command.actor


def _same_record(record: CommandRecord, command: c.Command, store: EventStore) -> bool:
    """Whether `command` is for the record its id's first run wrote to."""
    if record.stream_id == target_of(command):
        return True
    if type(command) not in CREATES:
        return False
    history = store.load(record.stream_id)
    first = history[0].event if history else None
    return all(
        getattr(first, name, None) == getattr(command, name) for name in CREATES[type(command)]
    )


def _replay(
    record: CommandRecord, command: c.Command, actor: str, store: EventStore
) -> CommandResult:
    """The first outcome of a command id, again; refused unless it is the same action on the
    same record by the same actor (a reused form, a client bug, or someone else's id)."""
    if record.command_type != command.name:
        raise CommandReusedError(
            phrase(
                "This form was already used for another action; nothing was changed. Reload "
                "the page and try again."
            )
        )
    if not _same_record(record, command, store):
        raise CommandReusedError(
            phrase(
                "This form was already used for another record; nothing was changed. Reload "
                "the page and try again."
            )
        )
    # A command logged before the actor was kept (migration 0005) is checked without it.
    if record.actor is not None and record.actor != actor:
        raise CommandReusedError(
            phrase(
                "This form was already used by someone else; nothing was changed. Reload the "
                "page and try again."
            )
        )
    return CommandResult(
        record.command_id, record.stream_id, record.version, record.position, replayed=True
    )


class _TimeTaken(SlotTakenError):
    """The save found the doctor's time held; `hold` is what it asked for."""

    def __init__(self, hold: Hold) -> None:
        super().__init__(hold.refusal)
        self.hold = hold


def _outcome(exc: Exception) -> str:
    """The outcome label of a command that raised: a stale view is a conflict; any other
    refusal by the rules (validation, permission, slot taken...) is a rejection."""
    if isinstance(exc, ConflictError):
        return "conflict"
    if isinstance(exc, DomainError):
        return "rejected"
    return "error"


def _observe(command: c.Command, outcome: str, started: float) -> None:
    try:
        COMMAND_SECONDS.labels(command.name, outcome).observe(time.perf_counter() - started)
    except Exception:  # the command's outcome stands whatever happens to its metrics
        log.warning("Could not record the duration of %s", command.name, exc_info=True)


def _decide(ctx: Context, command: c.Command) -> CommandResult:
    """Decide `command` inside the context's transaction and save the decision there."""
    decision = HANDLERS[type(command)](ctx, command)
    metadata = EventMetadata(
        actor=_actor(command, ctx.principal),
        correlation_id=command.correlation_id or str(command.command_id),
        causation_id=str(command.command_id),
    )
    try:
        position = ctx.tx.save(
            decision,
            metadata=metadata,
            recorded_at=ctx.now,
            command_id=command.command_id,
            command_type=command.name,
        )
    except ReservationConflictError:
        assert isinstance(decision.reservation, Hold)
        raise _TimeTaken(decision.reservation) from None
    return CommandResult(command.command_id, decision.stream_id, decision.new_version, position)


def run_batch(
    store: EventStore, tz: tzinfo, steps: list[tuple[datetime, c.Command]], region: str = "FR"
) -> None:
    """Run many commands, each at its own recorded time, in one transaction (bulk history).

    The same handlers decide every command; a refusal rolls the whole batch back.
    """
    with store.transaction() as tx:
        for at, command in steps:
            _decide(Context(tx, at, tz, region=region), command)
