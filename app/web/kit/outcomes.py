"""Running a command for a person: refusals become messages, successes are waited for.

A refusal maps to the status a browser (and htmx) should see: 422 for input to correct,
409 when the record changed or the time was taken meanwhile, 404 for a record that is gone.
A success carries where its change will show (`Expectation`); the next page waits a bounded
moment for the read model to reach it, so people always see their own change.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from uuid import UUID

from flask import current_app, g, request
from flask_babel import gettext

from app.commands import CommandResult
from app.commands import commands as c
from app.domain.errors import (
    AlreadyExistsError,
    ConflictError,
    DomainError,
    ForbiddenError,
    InvalidTransitionError,
    NotFoundError,
    OutsideWorkingHoursError,
    SlotTakenError,
    ValidationError,
)
from app.domain.messages import Message
from app.extensions import services
from app.queries.freshness import Recorded, projected_version, recorded

from .. import i18n
from . import access


@dataclass(frozen=True)
class Refusal:
    """Why a command was refused: a message, per-field messages, and what changed."""

    status: int
    message: str
    errors: dict[str, str] = field(default_factory=dict)
    changes: list[Message | str] = field(default_factory=list)


def refusal(exc: DomainError) -> Refusal:
    """The answer a person gets for a refused command, in their language: the domain's
    messages are rendered through the catalog here (app/web/i18n.py)."""
    message = i18n.render(exc.said)
    match exc:
        case ValidationError():
            errors = {name: i18n.render(said) for name, said in exc.said_errors.items()}
            return Refusal(422, gettext("Please correct the marked fields."), errors)
        case ConflictError():
            return Refusal(409, message, changes=[i18n.render(c) for c in exc.changes])
        case SlotTakenError():
            return Refusal(409, message, {"starts_at": message})
        case OutsideWorkingHoursError():
            return Refusal(422, message, {"starts_at": message})
        case NotFoundError() if exc.field:
            return Refusal(422, message, {exc.field: message})
        case NotFoundError():
            return Refusal(404, message)
        case InvalidTransitionError() | AlreadyExistsError():
            return Refusal(409, message)
    return Refusal(422, message)


def attempt(build: Callable[[], c.Command]) -> CommandResult | Refusal:
    """Build a command (its fields may be refused) and run it on the bus for the signed-in
    user, whose id its events record."""
    command = None
    try:
        command = build()
        return services().bus.handle(command, access.principal())
    except ForbiddenError as exc:
        if command is not None and access.may(type(command)):
            # The role may send it, so the record was refused (another doctor's): answered
            # as an unknown id is, or the answer would tell that the record exists.
            noun = "appointment" if isinstance(command, c.AppointmentCommand) else "record"
            access.conceal(exc.message, noun)
        access.refuse(exc.message)
        raise  # refuse() aborts with 403
    except DomainError as exc:
        return refusal(exc)


@dataclass(frozen=True)
class Expectation:
    """A record's version that a page must show: the outcome of the user's own command."""

    # appointment | patient | doctor | availability (a doctor's) | clinic | series | waitlist
    kind: str
    record_id: UUID
    version: int

    def param(self) -> str:
        return f"{self.kind}:{self.record_id}:{self.version}"

    @classmethod
    def of(cls, kind: str, result: CommandResult) -> Expectation:
        return cls(kind, result.stream_id, result.version)

    @classmethod
    def parse(cls, args: Mapping[str, str]) -> Expectation | None:
        """The page's `expect` query parameter if the page may wait for it; None (as if it
        were met) for anything malformed, or that `_honoured` refuses."""
        raw = args.get("expect") or ""
        cache = g.setdefault("rendezvous_expectations", {})
        if raw not in cache:
            cache[raw] = cls._read(raw)
        return cache[raw]

    @classmethod
    def _read(cls, raw: str) -> Expectation | None:
        kind, _, rest = raw.partition(":")
        record, _, version = rest.partition(":")
        if kind not in (
            "appointment",
            "patient",
            "doctor",
            "availability",
            "clinic",
            "series",
            "waitlist",
        ):
            return None
        try:
            expected = cls(kind, UUID(record), int(version))
        except ValueError:
            return None
        return expected if expected._honoured() else None

    def _honoured(self) -> bool:
        """Only a change that happened, to a record the user may see, that this page shows.

        Anyone can write an `expect` into an address: waiting for an unknown record, an
        unseen one or a version never reached would tell, by delay or "updating", whether
        it exists and at which version, and hold a worker to no purpose."""
        shown = request.view_args or {}
        if f"{self.kind}_id" in shown and shown[f"{self.kind}_id"] != self.record_id:
            return False  # a page of one record shows no other of its kind
        found = recorded(services().store, self.kind, self.record_id)
        return found is not None and found.version >= self.version and visible(found)

    def met(self) -> bool:
        shown = projected_version(services().query_engine, self.kind, self.record_id)
        return shown is not None and shown >= self.version

    def wait(self, seconds: float | None = None) -> bool:
        """Whether the read model shows this version, polling up to `seconds`; all the waits
        of one request share one deadline, so no request waits longer than that."""
        if seconds is None:
            seconds = current_app.config["READ_YOUR_WRITES_SECONDS"]
        deadline = g.setdefault("rendezvous_wait_until", time.monotonic() + seconds)
        pause = 0.005
        while not self.met():
            if time.monotonic() >= deadline:
                return False
            time.sleep(min(pause, max(deadline - time.monotonic(), 0)))
            pause = min(pause * 2, 0.1)
        return True


def visible(found: Recorded) -> bool:
    """Whether the signed-in user may see this record (one not projected yet, too)."""
    if found.kind == "appointment":
        return access.may_see_appointment(found.doctor_id, found.patient_id)
    if found.kind == "patient":
        return found.patient_id is not None and access.may_see_patient(found.patient_id)
    if found.kind == "clinic":
        return True  # closures and visit types are shown to all staff
    if found.kind in ("series", "waitlist"):
        return not access.principal().is_doctor
    return access.sees_doctor(found.doctor_id)
