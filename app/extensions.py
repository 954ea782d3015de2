"""Flask extensions, created unbound and attached to the app in create_app(); and the one
place that names what this app keeps in `app.extensions`, with a typed accessor for each."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Flask, current_app
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from htmx_flask import Htmx
from sqlalchemy.engine import Engine

from app.eventstore.tables import metadata

if TYPE_CHECKING:
    from celery import Celery
    from flask_limiter import Limiter
    from prometheus_client import CollectorRegistry

    from app.bootstrap import Services
    from app.ops.probes import Probes

db = SQLAlchemy(metadata=metadata)
migrate = Migrate()
htmx = Htmx()

# The keys of app.extensions this app fills (tests and scripts may read them by name).
SERVICES = "rendezvous"
LIMITER = "rendezvous.limiter"
PROBES = "rendezvous.probes"
SCRAPED = "rendezvous.scraped"
FRESHNESS = "rendezvous.freshness"  # the projections' checkpoints, cached briefly
CELERY = "celery"


def read_engine() -> Engine:
    """The read models' database: its own bind when DATABASE_URL_READ differs, else the
    write database's engine (one pool, not two, for the same server)."""
    return db.engines.get("read", db.engine)


def _get(key: str, app: Flask | None) -> Any:
    return (app or current_app).extensions[key]


def services(app: Flask | None = None) -> Services:
    """What the composition root built: bus, store, projector, accounts, reads, time zone
    (of `app`, by default the running one)."""
    return _get(SERVICES, app)


def probes(app: Flask | None = None) -> Probes:
    """The readiness checks' clients and the system figures /readyz and /metrics share."""
    return _get(PROBES, app)


def sign_in_limiter(app: Flask | None = None) -> Limiter:
    """The sign-in rate limiter."""
    return _get(LIMITER, app)


def scraped(app: Flask | None = None) -> CollectorRegistry:
    """The registry of figures read from the databases when /metrics is scraped."""
    return _get(SCRAPED, app)


def celery(app: Flask | None = None) -> Celery:
    """The Celery app that tasks are sent with."""
    return _get(CELERY, app)
