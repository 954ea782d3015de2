"""`flask projections status|rebuild|verify|retry|skip`: operating the read side; and
`flask events tail`, the latest events of the log (the `events` group's other commands, the
relay's, are app.outbound.cli's).

Here, not in app.projections: projections are plain code, with no web framework (a
contract in pyproject.toml), and these commands are the operator's, like the /ops page."""

from __future__ import annotations

import json
import os

import click
from flask import current_app
from flask.cli import AppGroup

from app.extensions import services
from app.projections import MaintenanceError, VerifyReport
from app.projections import checkpoints as cp
from app.projections.projector import statuses

from . import panels
from .parallel import REBUILD_PROCESSES, Rebuilt, rebuild_costs, rebuild_in_processes

projections_cli = AppGroup("projections", help="Operate the read-model projections.")
events_cli = AppGroup(
    "events", help="Read the event store; relay it to the outbound stream and consume it."
)


def _names(name: str | None, every: bool) -> list[str]:
    projector = services().projector
    if every == (name is not None):
        raise click.UsageError("Name one projection, or pass --all.")
    if name is None:  # so --all was passed
        return projector.names
    try:
        projector.projection(name)
    except LookupError as exc:
        raise click.BadParameter(str(exc), param_hint="NAME") from None
    return [name]


name_argument = click.argument("name", required=False)
all_option = click.option("--all", "every", is_flag=True, help="Every projection.")


@projections_cli.command("status")
def status() -> None:
    """Per projection: state, checkpoint, events and seconds behind, and any parked event."""
    click.echo(f"{'PROJECTION':<14}{'STATE':<14}{'CHECKPOINT':>12}{'BEHIND':>10}{'SECONDS':>10}")
    for found in statuses(services().projector):
        position = found.row.position if found.row else 0
        click.echo(
            f"{found.name:<14}{found.state:<14}{position:>12}{found.events_behind:>10}"
            f"{found.seconds_behind:>10.1f}"
        )
        row = found.row
        if row is not None and row.failed_position is not None:
            verb = "parked on" if row.parked_at else "failing on"
            click.echo(
                f"  {verb} {row.failed_event_type} at position {row.failed_position} "
                f"({row.failures} attempts): {cp.last_line(row.last_error)}"
            )
        if found.state == "needs rebuild" and row is not None:  # the state implies a row
            click.echo(
                f"  built by version {row.version}, code is version {found.code_version}: "
                f"run `flask projections rebuild {found.name}`"
            )


@projections_cli.command("rebuild")
@name_argument
@all_option
@click.option(
    "--cache-rows",
    type=click.IntRange(min=1000),
    default=200_000,
    show_default=True,
    help="Rows per table kept in memory during the replay (about 2 KB each), shared by the "
    "processes of a rebuild --all.",
)
@click.option(
    "--processes",
    type=click.IntRange(min=1),
    default=None,
    help="Projections rebuilt at once, each in its own process (default: one per core on "
    "PostgreSQL, one on SQLite, whose single writer gains nothing from more).",
)
def rebuild(name: str | None, every: bool, cache_rows: int, processes: int | None) -> None:
    """Rebuild from the first event into shadow tables, then swap them in."""
    found = services()
    names = _names(name, every)
    if processes is None:
        postgres = found.projector.engine.dialect.name == "postgresql"
        processes = (os.cpu_count() or 1) if postgres else 1
    if processes > 1 and len(names) > 1:
        _rebuild_in_processes(names, processes, cache_rows)
        return
    maintenance = found.maintenance
    maintenance.cache_rows = cache_rows
    for projection in names:
        total = found.store.count()
        with click.progressbar(length=total, label=f"Rebuilding {projection}") as bar:
            try:
                replay = maintenance.rebuild(projection, progress=bar.update)
            except MaintenanceError as exc:
                raise click.ClickException(f"{exc} The live tables are unchanged.") from exc
        click.echo(f"{projection}: rebuilt from {replay.events} events and swapped in.")


# What a rebuild process needs to build the app this command runs on: where the store and
# the read models are, how events are projected, the cache to invalidate.
CHILD_SETTINGS = (
    "SQLALCHEMY_DATABASE_URI",
    "READ_DATABASE_URI",
    "CLINIC_TIMEZONE",
    "CLINIC_REGION",
    "PROJECTION_BATCH_SIZE",
    "REDIS_URL",
    "CACHE_PREFIX",
    "CACHE_TTL_SECONDS",
    "CELERY",
    "SECRET_KEY",
)


def _rebuild_in_processes(names: list[str], processes: int, cache_rows: int) -> None:
    found = services()
    total = found.store.count() * len(names)
    cost = rebuild_costs(found.projector, names)
    label = f"Rebuilding {len(names)} projections, {min(processes, len(names))} at a time"
    with click.progressbar(length=total, label=label) as bar:

        def done(rebuilt: Rebuilt) -> None:
            click.echo(
                f"\n{rebuilt.name}: rebuilt from {rebuilt.events} events and swapped in "
                f"({rebuilt.seconds:.1f} s)."
            )

        try:
            rebuild_in_processes(
                names,
                workers=current_app.extensions[REBUILD_PROCESSES],
                processes=processes,
                cost=cost,
                cache_rows=cache_rows,
                # The databases and settings of this command's app, whatever they came from.
                config={key: current_app.config.get(key) for key in CHILD_SETTINGS},
                progress=bar.update,
                done=done,
            )
        except MaintenanceError as exc:
            raise click.ClickException(
                f"{exc} That projection's live tables are unchanged."
            ) from exc


@projections_cli.command("verify")
@name_argument
@all_option
def verify(name: str | None, every: bool) -> None:
    """Replay into scratch tables and compare with the live ones; exit 1 on any difference."""
    found = services()
    failed = False
    for projection in _names(name, every):
        total = found.store.count()
        with click.progressbar(length=total, label=f"Replaying {projection}") as bar:
            try:
                report = found.maintenance.verify(projection, progress=bar.update)
            except MaintenanceError as exc:
                raise click.ClickException(str(exc)) from exc
        failed |= not report.ok
        _print_report(report)
    if failed:
        raise SystemExit(1)


def _print_report(report: VerifyReport) -> None:
    where = f"up to position {report.checkpoint[1]} ({report.events} events)"
    if report.ok:
        click.echo(f"{report.name}: matches a replay {where}.")
        return
    click.echo(f"{report.name}: DIFFERS from a replay {where}.", err=True)
    for difference in report.differences:
        for row in difference.missing:
            click.echo(f"  {difference.table}: missing {row}", err=True)
        for row in difference.unexpected:
            click.echo(f"  {difference.table}: unexpected {row}", err=True)


@projections_cli.command("retry")
@click.argument("name")
def retry(name: str) -> None:
    """Try a parked projection's failed event again (after a fix), and carry on."""
    _names(name, False)
    report = panels.retry(services().projector, name, max_batches=None)
    click.echo(f"{name}: {report.applied} events applied; {report.outcome.replace('_', ' ')}.")


@projections_cli.command("skip")
@click.argument("name")
def skip(name: str) -> None:
    """Pass over a projection's failed event for good (it is recorded), and carry on."""
    _names(name, False)
    try:
        row, report = panels.skip(services().projector, name, None, max_batches=None)
    except panels.NothingToSkipError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{name}: skipped {row.failed_event_type} at position {row.failed_position}.")
    click.echo(f"{name}: {report.applied} events applied; {report.outcome.replace('_', ' ')}.")


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
    store = services().store
    records = store.tail(count)
    people = services().accounts.names(r.actor or "?" for r in records)
    for record in records:
        click.echo(
            f"{record.position:>8}  {record.recorded_at:%Y-%m-%d %H:%M:%S}  "
            f"{record.stream_type}:{record.stream_id}  v{record.version}  "
            f"{record.event_type}  by {people[record.actor or '?']}  "
            f"{json.dumps(store.codec.encode(record.event)[2])}"
        )
