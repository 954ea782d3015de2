"""Flask CLI commands: `flask seed-demo`, `flask events tail|relay|relay-status|reminders`
and `flask projections ...`."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

events_cli = AppGroup(
    "events", help="Read the event store; relay it to the outbound stream and consume it."
)


def _services():  # type: ignore[no-untyped-def]
    return current_app.extensions["rendezvous"]


@click.command("seed-demo")
@with_appcontext
@click.option(
    "--scale",
    type=click.IntRange(min=1),
    default=None,
    help="Also add about N events of generated history (for benchmarks).",
)
def seed_demo(scale: int | None) -> None:
    """Load a demo clinic (idempotent): doctors, patients and two weeks of appointments."""
    from app import seed

    services = _services()
    created = seed.seed_demo(services, echo=click.echo)
    click.echo("Demo clinic loaded." if created else "Demo clinic already present; unchanged.")
    if scale:
        written = seed.seed_scale(services, scale, progress=click.progressbar)
        click.echo(
            f"Scale history: {written} events written. The read models catch up with the next "
            "command or worker tick; `flask projections rebuild --all` does it at full speed."
        )


@events_cli.command("tail")
@click.option(
    "-n",
    "count",
    type=click.IntRange(min=1, max=10_000),
    default=20,
    show_default=True,
    help="How many of the latest events to show.",
)
def events_tail(count: int) -> None:
    """Print the latest events: position, time, stream, type, actor and payload."""
    import json

    store = _services().store
    records = store.tail(count)
    people = _services().accounts.names(str(r.metadata.get("actor", "?")) for r in records)
    for record in records:
        click.echo(
            f"{record.position:>8}  {record.recorded_at:%Y-%m-%d %H:%M:%S}  "
            f"{record.stream_type}:{record.stream_id}  v{record.version}  "
            f"{record.event_type}  by {people[str(record.metadata.get('actor', '?'))]}  "
            f"{json.dumps(store.codec.encode(record.event)[2])}"
        )


def init_app(app: Flask) -> None:
    from .outbound.cli import COMMANDS as outbound_commands
    from .projections_cli import projections_cli
    from .users_cli import users_cli

    for command in outbound_commands:
        events_cli.add_command(command)
    app.cli.add_command(seed_demo)
    app.cli.add_command(users_cli)
    app.cli.add_command(events_cli)
    app.cli.add_command(projections_cli)
