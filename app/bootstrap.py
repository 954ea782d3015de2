"""Composition root: wires the event store, the bus, the clock and the projector together,
and the probes that /readyz and /metrics ask."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

from argon2 import PasswordHasher
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from app.accounts import Accounts
from app.accounts.feeds import CalendarFeeds
from app.commands import CommandBus, CommandResult
from app.commands.bus import utc_now
from app.eventstore import EventStore
from app.ops.figures import SystemFigures
from app.ops.probes import Probes, redis_probes
from app.projections import PROJECTIONS, Maintenance, Projector
from app.queries.cache import ReadCache
from app.queries.reads import Reads


@dataclass
class Services:
    """What views, tasks and CLI commands reach for."""

    store: EventStore
    bus: CommandBus
    tz: ZoneInfo
    projector: Projector
    accounts: Accounts
    reads: Reads

    @property
    def region(self) -> str:
        """CLINIC_REGION: how phone numbers written without + are read and shown."""
        return self.bus.region

    @property
    def read_engine(self) -> Engine:
        """The read models' database (the projector writes there; queries read it)."""
        return self.projector.engine

    @cached_property
    def query_engine(self) -> Engine:
        """The read models' database for pages' reads, each on its own (see `reading`);
        anything that writes, or reads twice and needs the two to agree, takes
        `read_engine`."""
        return reading(self.read_engine)

    @cached_property
    def store_query_engine(self) -> Engine:
        """The write database for pages' reads of what lives beside the log (the reminders'
        ledger), each on its own (see `reading`)."""
        return reading(self.store.engine)

    @cached_property
    def feeds(self) -> CalendarFeeds:
        """The doctors' calendar subscription links, in the write database beside accounts;
        on the bus's clock, whichever it is at the time (tests swap it)."""
        return CalendarFeeds(self.store.engine, clock=lambda: self.bus.clock())

    @cached_property
    def maintenance(self) -> Maintenance:
        # One instance, so a setting changed on it (say, cache_rows) holds for later calls.
        return Maintenance(self.projector)


def build_services(
    engine: Engine,
    *,
    clinic_timezone: str,
    clinic_region: str = "FR",
    no_show_grace_minutes: int = 10,
    undo_minutes: int = 15,
    read_engine: Engine | None = None,
    clock: Callable[[], datetime] = utc_now,
    after_commit: Callable[[CommandResult], None] | None = None,
    batch_size: int = 500,
    password_hasher: PasswordHasher | None = None,
    account_cache_seconds: float = 0.0,
) -> Services:
    """Assemble the write side on `engine` and the projector into `read_engine` (by
    default the same database). `after_commit` is how committed commands reach the
    projector: see `app.tasks.Nudge`."""
    tz = ZoneInfo(clinic_timezone)
    store = EventStore(engine)
    accounts = Accounts(
        engine,
        store,
        hasher=password_hasher,
        clock=clock,
        session_cache_seconds=account_cache_seconds,
    )
    bus = CommandBus(
        store,
        tz=tz,
        clock=clock,
        after_commit=after_commit,
        actor_names=accounts.names,
        region=clinic_region,
        no_show_grace=timedelta(minutes=no_show_grace_minutes),
        undo_window=timedelta(minutes=undo_minutes),
    )
    projector = Projector(
        store,
        read_engine or engine,
        PROJECTIONS,
        tz=tz,
        region=clinic_region,
        batch_size=batch_size,
        clock=clock,
    )
    reads = Reads(reading(projector.engine), tz)
    return Services(
        store=store, bus=bus, tz=tz, projector=projector, accounts=accounts, reads=reads
    )


def reading(engine: Engine) -> Engine:
    """`engine` for reads that each stand alone: on PostgreSQL every statement runs in
    autocommit, without the BEGIN before it and the pool's ROLLBACK after it, two round
    trips of a one-statement read's three (0.19 against 0.34 to 0.41 ms on this project's
    machine). Under READ COMMITTED each statement saw its own snapshot anyway. SQLite keeps
    its engine: its transactions are this module's own (`prepare_sqlite`)."""
    if engine.dialect.name != "postgresql":
        return engine
    return engine.execution_options(isolation_level="AUTOCOMMIT")


def use_cache(services: Services, cache: ReadCache) -> None:
    """Serve the busiest pages through `cache`, which the projector keeps in step."""
    services.reads.cache = cache
    services.projector.invalidation = cache


def build_probes(
    services: Services, *, redis_urls: Mapping[str, str | None], figures_seconds: float
) -> Probes:
    """The readiness checks' Redis clients (`redis_urls`: check name -> URL) and the system
    figures, each kept `figures_seconds` in this process, that /readyz and /metrics share."""
    figures = SystemFigures(services.store, services.projector, figures_seconds)
    return Probes(figures, redis_probes(redis_urls))


def prepare_sqlite(engine: Engine) -> None:
    """Make the embedded SQLite database safe for a threaded web server.

    pysqlite's own transaction handling is turned off so that write transactions can start
    with BEGIN IMMEDIATE: a writer takes the lock before it reads, so two writers queue
    instead of failing when the second finds its snapshot stale.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
