"""Staff accounts: creating, listing, disabling, and checking a password at sign-in."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any, cast
from uuid import UUID, uuid4

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cachetools import TTLCache
from sqlalchemy.engine import Connection, Engine
from zxcvbn import zxcvbn

from app.domain.errors import NotFoundError, ValidationError
from app.domain.messages import Message, phrase
from app.domain.staff import Principal, Role
from app.eventstore import EventStore

from .tables import users

# What `signed_in` finds for an account it does not keep (None is kept: no such account).
_NOT_KEPT = object()
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,31}$")
MIN_PASSWORD = 12
# argon2 hashes what it is given whatever its length; the cap keeps a request from making
# the server hash megabytes.
MAX_PASSWORD = 256
# zxcvbn's score, 0 to 4: 3 is an estimated 10^8 to 10^10 guesses, out of reach online (sign-in
# is rate-limited) and costly offline against argon2id hashes.
MIN_STRENGTH = 3
# zxcvbn refuses longer input (its matching grows fast with length): it judges the start.
STRENGTH_CHECKED = 72
MORE_WORDS = "Add another word or two. Uncommon words are better."


@dataclass(frozen=True)
class User:
    """A member of staff's account, without its password hash."""

    user_id: UUID
    username: str
    full_name: str
    role: Role
    doctor_id: UUID | None
    active: bool
    session_epoch: int
    created_at: datetime
    created_by: str
    changed_at: datetime
    changed_by: str
    last_sign_in_at: datetime | None
    locale: str | None = None

    @property
    def display_name(self) -> str:
        return self.full_name or self.username

    @cached_property  # asked for each row of a page (which actions it offers)
    def principal(self) -> Principal:
        return Principal(str(self.user_id), self.role, self.doctor_id)

    @classmethod
    def from_row(cls, row: sa.RowMapping) -> User:
        fields = {k: row[k] for k in cls.__dataclass_fields__ if k != "role"}
        return cls(role=Role(row["role"]), **fields)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Accounts:
    """Staff accounts in the write database. `store` tells whether a doctor id is a
    registered doctor; `hasher` is argon2id (cheaper settings only in tests)."""

    def __init__(
        self,
        engine: Engine,
        store: EventStore,
        *,
        hasher: PasswordHasher | None = None,
        clock: Callable[[], datetime] = _utc_now,
        session_cache_seconds: float = 0.0,
    ) -> None:
        self.engine, self.store, self.clock = engine, store, clock
        self.hasher = hasher or PasswordHasher()
        # The accounts sessions name, reused across requests: every page asks. A change
        # made through this object forgets them all; see `signed_in`.
        self._sessions: TTLCache[UUID, tuple[User | None, float]] | None = (
            TTLCache(maxsize=1024, ttl=session_cache_seconds) if session_cache_seconds > 0 else None
        )
        self._sessions_lock = threading.Lock()

    @cached_property
    def _decoy(self) -> str:
        """Verified when the username is unknown, so that a wrong name takes as long to
        refuse as a wrong password and does not tell which names exist."""
        return self.hasher.hash(uuid4().hex)

    # -- reading --

    def get(self, user_id: UUID) -> User | None:
        return self._one(users.c.user_id == user_id)

    def signed_in(self, user_id: UUID, *, fresher_than: float = 0.0) -> User | None:
        """The account a session names, as `get`, but read again at most
        ACCOUNT_CACHE_SECONDS after this process last read it: an account disabled, given
        a new password or signed out of takes that long at most to end a session served by
        another process, and no time in this one (its changes forget what was kept). What
        was kept before `fresher_than` (a time.time(): when the session's owner last
        changed their account, say its language) is read again."""
        if self._sessions is None:
            return self.get(user_id)
        with self._sessions_lock:
            # One look, not `in` then `[]`: the entry may expire between the two.
            kept = self._sessions.get(user_id, _NOT_KEPT)
        if kept is not _NOT_KEPT:
            user, read_at = cast("tuple[User | None, float]", kept)
            if read_at >= fresher_than:
                return user
        read_at = time.time()
        found = self.get(user_id)
        with self._sessions_lock:
            self._sessions[user_id] = (found, read_at)
        return found

    def find(self, username: str) -> User | None:
        return self._one(users.c.username == username.strip().lower())

    def all(self) -> list[User]:
        query = sa.select(*_columns()).order_by(users.c.active.desc(), users.c.username)
        with self.engine.connect() as conn:
            return [User.from_row(row) for row in conn.execute(query).mappings()]

    def any_admin(self) -> bool:
        query = sa.select(users.c.user_id).where(users.c.role == Role.ADMIN.value).limit(1)
        with self.engine.connect() as conn:
            return conn.execute(query).first() is not None

    def names(self, actors: Iterable[str]) -> dict[str, str]:
        """How to show each event actor: a user's name, or the actor as recorded (the
        system, the demo seed, history written before sign-in existed)."""
        wanted = set(actors)
        ids = {_as_uuid(actor) for actor in wanted} - {None}
        found: dict[str, str] = {}
        if ids:
            query = sa.select(users.c.user_id, users.c.full_name, users.c.username).where(
                users.c.user_id.in_(ids)
            )
            with self.engine.connect() as conn:
                for user_id, full_name, username in conn.execute(query):
                    found[str(user_id)] = full_name or username
        return {actor: found.get(actor, actor) for actor in wanted}

    # -- signing in --

    def authenticate(self, username: str, password: str) -> User | None:
        """The account if the password is right and the account active, else None."""
        user, stored = None, None
        if len(password) <= MAX_PASSWORD:
            # The account and its hash in one query: sign-in is rate-limited, not cheap.
            query = sa.select(*_columns(), users.c.password_hash).where(
                users.c.username == username.strip().lower()
            )
            with self.engine.connect() as conn:
                row = conn.execute(query).mappings().first()
            if row is not None:
                user, stored = User.from_row(row), row["password_hash"]
        try:
            self.hasher.verify(stored or self._decoy, password)
        except (VerificationError, InvalidHashError):
            return None
        if user is None or stored is None or not user.active:
            return None
        values: dict[str, object] = {"last_sign_in_at": self.clock()}
        if self.hasher.check_needs_rehash(stored):
            values["password_hash"] = self.hasher.hash(password)
        with self.engine.begin() as conn:
            conn.execute(users.update().where(users.c.user_id == user.user_id).values(values))
        return user

    # -- changing --

    def create(
        self,
        username: str,
        password: str,
        role: str,
        *,
        by: str,
        doctor_id: UUID | str | None = None,
        full_name: str = "",
    ) -> User:
        """A new active account; refused with a message per field when input is wrong."""
        errors: dict[str, Message] = {}
        username = username.strip().lower()
        if not USERNAME.match(username):
            errors["username"] = phrase(
                "Use 2 to 32 lower-case letters, digits, dots, dashes or underscores, "
                "starting with a letter or digit."
            )
        elif self.find(username) is not None:
            errors["username"] = _taken(username)
        full_name = " ".join(full_name.split())
        if len(full_name) > 120:
            errors["full_name"] = phrase("The name can be at most 120 characters.")
        if message := password_problem(password, username, full_name):
            errors["password"] = message
        try:
            chosen = Role(role)
        except ValueError:
            chosen = None
            errors["role"] = phrase("Choose reception, doctor or admin.")
        doctor = self._doctor(chosen, doctor_id, errors)
        if errors:
            raise ValidationError(errors)
        assert chosen is not None
        now = self.clock()
        user_id = uuid4()
        row = {
            "user_id": user_id,
            "username": username,
            "full_name": full_name,
            "role": chosen.value,
            "doctor_id": doctor,
            "password_hash": self.hasher.hash(password),
            "active": True,
            "session_epoch": 0,
            "created_at": now,
            "created_by": by,
            "changed_at": now,
            "changed_by": by,
        }
        try:
            with self.engine.begin() as conn:
                conn.execute(users.insert().values(row))
        except sa.exc.IntegrityError:
            # Someone created the same username in between.
            raise ValidationError({"username": _taken(username)}) from None
        user = self.get(user_id)
        assert user is not None
        return user

    def set_active(self, username: str, active: bool, *, by: str) -> User:
        """Disable (every session ends at its next request) or enable an account."""
        user = self._existing(username)
        with self._changing() as conn:
            if not active and user.role is Role.ADMIN:
                # The active admins' rows stay locked until this commits: two admins
                # disabled at once cannot both see the other one still active.
                admins = sa.select(users.c.user_id).where(
                    users.c.role == Role.ADMIN.value, users.c.active.is_(True)
                )
                locked = conn.execute(admins.with_for_update()).scalars().all()
                if locked == [user.user_id]:
                    raise ValidationError(
                        {
                            "username": "This is the last active admin; enable or create another "
                            "first."
                        }
                    )
            changed = users.update().where(
                users.c.user_id == user.user_id, users.c.active.is_not(active)
            )
            conn.execute(changed.values(active=active, **self._ended(by)))
        return self._existing(username)

    def set_password(self, username: str, password: str, *, by: str) -> User:
        """A new password; the account's other sessions end."""
        user = self._existing(username)
        if message := password_problem(password, user.username, user.full_name):
            raise ValidationError({"password": message})
        with self._changing() as conn:
            changed = users.update().where(users.c.user_id == user.user_id)
            conn.execute(
                changed.values(password_hash=self.hasher.hash(password), **self._ended(by))
            )
        return self._existing(username)

    def set_locale(self, user_id: UUID, locale: str | None) -> None:
        """The language the person reads pages in (None: the clinic's). The caller checks
        that it is one the app speaks."""
        with self._changing() as conn:
            conn.execute(users.update().where(users.c.user_id == user_id).values(locale=locale))

    def end_sessions(self, user_id: UUID) -> None:
        """End every session of the account (signing out), wherever it was made."""
        with self._changing() as conn:
            ended = users.update().where(users.c.user_id == user_id)
            conn.execute(ended.values(session_epoch=users.c.session_epoch + 1))

    def _ended(self, by: str) -> dict[str, Any]:
        """The values of a change that ends the account's sessions: the epoch is counted up
        in SQL, so that two changes at once both count."""
        return {
            "session_epoch": users.c.session_epoch + 1,
            "changed_at": self.clock(),
            "changed_by": by,
        }

    # -- inside --

    @contextmanager
    def _changing(self) -> Iterator[Connection]:
        """A write transaction on the accounts; what `signed_in` kept is forgotten after it."""
        try:
            with self.engine.begin() as conn:
                yield conn
        finally:
            if self._sessions is not None:
                with self._sessions_lock:
                    self._sessions.clear()

    def _one(self, where: sa.ColumnElement[bool]) -> User | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(*_columns()).where(where)).mappings().first()
        return User.from_row(row) if row else None

    def _existing(self, username: str) -> User:
        user = self.find(username)
        if user is None:
            raise NotFoundError(
                phrase("There is no account named %(username)s.", username=repr(username)),
                field="username",
            )
        return user

    def _doctor(
        self, role: Role | None, doctor_id: UUID | str | None, errors: dict[str, Message]
    ) -> UUID | None:
        if role is not Role.DOCTOR:
            if doctor_id:
                errors["doctor_id"] = phrase("Only a doctor's account names a doctor.")
            return None
        chosen = _as_uuid(str(doctor_id or ""))
        if chosen is None:
            errors["doctor_id"] = phrase("A doctor's account must name which doctor they are.")
            return None
        history = self.store.load(chosen)
        if not history or history[0].stream_type != "doctor":
            errors["doctor_id"] = phrase("No doctor with that id is registered.")
            return None
        return chosen


def _taken(username: str) -> Message:
    return phrase("The username %(username)s is taken.", username=repr(username))


def password_problem(password: str, username: str, full_name: str = "") -> Message | None:
    """Why a new password is refused, or None; every refusal's wording is here. zxcvbn's
    advice is English: the catalog translates it (app/accounts/advice.py)."""
    if len(password) < MIN_PASSWORD:
        return phrase("Use at least %(least)d characters.", least=MIN_PASSWORD)
    if len(password) > MAX_PASSWORD:
        return phrase("Use at most %(most)d characters.", most=MAX_PASSWORD)
    if password.strip().lower() == username:
        return phrase("The password cannot be the username.")
    # The account's own names count as guessable words.
    judged = zxcvbn(password[:STRENGTH_CHECKED], user_inputs=[username, *full_name.split()])
    if judged["score"] >= MIN_STRENGTH:
        return None
    feedback = judged["feedback"]
    advice = [text for text in (feedback["warning"], *feedback["suggestions"]) if text]
    said: Message = phrase("This password is too easy to guess.")
    for text in advice or [MORE_WORDS]:
        said = phrase("%(earlier)s %(later)s", earlier=said, later=phrase(text))
    return said


def _columns() -> list[sa.Column]:
    return [column for column in users.c if column.name != "password_hash"]


def _as_uuid(value: str) -> UUID | None:
    try:
        return UUID(value.strip())
    except ValueError:
        return None
