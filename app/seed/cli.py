"""`flask seed-demo`: a demo clinic, made through the real command handlers."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from app import seed
from app.extensions import services


@click.command("seed-demo")
@with_appcontext
@click.option(
    "--scale",
    type=click.IntRange(min=1),
    default=None,
    help="Also add about N events of generated history (for benchmarks).",
)
def seed_demo(scale: int | None) -> None:
    """Load a demo clinic (idempotent): doctors, patients and two weeks of appointments,
    typed in the clinic's language (CLINIC_LOCALE); the summary stays English."""
    found = services()
    created = seed.seed_demo(found, echo=click.echo, locale=current_app.config["CLINIC_LOCALE"])
    click.echo("Demo clinic loaded." if created else "Demo clinic already present; unchanged.")
    if scale:
        written = seed.seed_scale(found, scale, progress=click.progressbar)
        click.echo(
            f"Scale history: {written} events written. The read models catch up with the next "
            "command or worker tick; `flask projections rebuild --all` does it at full speed."
        )
