"""Rendezvous: clinic appointments on CQRS with event sourcing."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the web app: settings, extensions, services, blueprints, CLI and Celery."""
    # Imported here, not at the top: every `import app.…` runs this module first, and the
    # domain's unit tests must not pull in Flask, SQLAlchemy, Celery or the drivers.
    from flask import Flask

    from .bootstrap import build_probes, build_services, prepare_sqlite, use_cache
    from .celery_app import celery_init_app
    from .config import Settings, engine_options
    from .extensions import PROBES, SERVICES, db, htmx, migrate
    from .projections.projector import TRANSIENT

    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(Settings.from_env().flask_config(app.instance_path))
    if config:
        app.config.update(config)
    write_url = app.config["SQLALCHEMY_DATABASE_URI"]
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", engine_options(write_url))
    read_url = app.config.get("READ_DATABASE_URI")
    if read_url and read_url != write_url:
        app.config["SQLALCHEMY_BINDS"] = {"read": {"url": read_url, **engine_options(read_url)}}

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    htmx.init_app(app)

    with app.app_context():
        engines = dict(db.engines)
    for engine in engines.values():
        if engine.dialect.name == "sqlite":
            prepare_sqlite(engine)
    services = build_services(
        engines[None],
        read_engine=engines.get("read"),
        clinic_timezone=app.config["CLINIC_TIMEZONE"],
        clinic_region=app.config.get("CLINIC_REGION", "FR"),
        no_show_grace_minutes=app.config.get("NO_SHOW_GRACE_MINUTES", 10),
        undo_minutes=app.config.get("UNDO_MINUTES", 15),
        batch_size=app.config.get("PROJECTION_BATCH_SIZE", 500),
        password_hasher=app.config.get("PASSWORD_HASHER"),
        account_cache_seconds=app.config.get("ACCOUNT_CACHE_SECONDS", 0.0),
    )
    app.extensions[SERVICES] = services
    if app.config.get("REDIS_URL"):
        from .queries import cache, reads

        client = cache.connect(app.config["REDIS_URL"])
        prefix, ttl = app.config["CACHE_PREFIX"], app.config["CACHE_TTL_SECONDS"]
        read_cache = cache.ReadCache(client, prefix=prefix, ttl=ttl, shape=reads.SHAPE)
        use_cache(services, read_cache)

    # Database figures (store size, lag) are reused this long, per process.
    app.config.setdefault("METRICS_CACHE_SECONDS", 5.0)
    broker = app.config["CELERY"].get("broker_url")
    app.extensions[PROBES] = build_probes(
        services,
        redis_urls={"redis": app.config.get("REDIS_URL"), "broker": broker},
        figures_seconds=app.config["METRICS_CACHE_SECONDS"],
    )

    from .tasks import Nudge, queued_nudge
    from .web import wiring
    from .web.kit.errors import unavailable

    wiring.init_app(app)
    register_commands(app)
    celery = celery_init_app(app)
    from . import processes
    from .ops.parallel import REBUILD_PROCESSES, Workers

    app.extensions[REBUILD_PROCESSES] = Workers(processes.start, processes.rebuild)
    services.bus.after_commit = Nudge(
        services.projector,
        celery if broker else None,
        queued_nudge(app.config) if broker else None,
    )
    # The database away or its pool exhausted, or a projection run inside a request (Retry,
    # Skip on /ops) while the cache is away: "unavailable, try again", not an error page.
    for error in TRANSIENT:
        app.register_error_handler(error, unavailable)
    return app


def register_commands(app: Flask) -> None:
    """The `flask` commands, each defined beside what it drives: `seed-demo`, `users ...`,
    `projections ...` and `events tail|relay|relay-status|reminders`."""
    from .accounts.cli import users_cli
    from .ops.cli import events_cli, projections_cli
    from .outbound.cli import COMMANDS as outbound_commands
    from .outbound.cli import reminders_cli
    from .seed.cli import seed_demo

    for command in outbound_commands:
        events_cli.add_command(command)
    app.cli.add_command(seed_demo)
    app.cli.add_command(users_cli)
    app.cli.add_command(events_cli)
    app.cli.add_command(projections_cli)
    app.cli.add_command(reminders_cli)
