"""`flask events relay | relay-status | reminders`: the outbound stream from the shell."""

from __future__ import annotations

import os
import signal
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import click
from flask import current_app
from flask.cli import with_appcontext

from app.config import ConfigurationError
from app.eventstore import START
from app.extensions import services

from .entries import format_checkpoint
from .relay import TRANSIENT, Relay, redis_client, relay_from_config
from .reminders import ReminderConsumer

_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)

stream_option = click.option(
    "--stream", default=None, help="The Redis stream (default: the EVENT_STREAM setting)."
)


@contextmanager
def stop_on_signals() -> Iterator[threading.Event]:
    """An event set by SIGTERM or SIGINT, so a loop finishes its batch and returns."""
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in _STOP_SIGNALS}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _relay(stream: str | None, batch_size: int | None = None) -> Relay:
    try:
        return relay_from_config(
            services().store,
            current_app.config,
            stream=stream,
            batch_size=batch_size,
            say=click.echo,
        )
    except ConfigurationError as exc:
        raise click.UsageError(str(exc)) from None


@click.command("relay")
@stream_option
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=None,
    help="Events per transaction (default: the RELAY_BATCH_SIZE setting).",
)
@with_appcontext
def relay_command(stream: str | None, batch_size: int | None) -> None:
    """Publish every committed event, in store order, to the outbound Redis stream; runs
    until SIGTERM or Ctrl-C."""
    relay = _relay(stream, batch_size)
    with stop_on_signals() as stop:
        relay.run(stop)


@click.command("relay-status")
@stream_option
@with_appcontext
def relay_status_command(stream: str | None) -> None:
    """Print the relay's checkpoint, the events not yet published and the stream's length."""
    relay = _relay(stream)
    try:
        status = relay.status()
    except TRANSIENT as exc:
        raise click.ClickException(
            f"Cannot read the relay's status from {relay.where()}: {exc}"
        ) from None
    # Caught up (the usual state) has no oldest event behind, so no date to print.
    oldest = status.oldest_behind_at
    since = f" (oldest recorded {oldest:%Y-%m-%d %H:%M:%S} UTC)" if oldest else " (caught up)"
    started = "" if status.checkpoint != START else " (never started: nothing published yet)"
    click.echo(f"stream      {relay.where()}")
    click.echo(f"checkpoint  {format_checkpoint(status.checkpoint)}{started}")
    click.echo(f"behind      {status.events_behind}{since}")
    click.echo(f"length      {status.stream_length}")


@click.command("reminders")
@stream_option
@click.option("--group", default="reminders", show_default=True, help="The consumer group.")
@click.option(
    "--consumer",
    default=None,
    help="This consumer's name, unique in the group (default: host-pid).",
)
@click.option(
    "--claim-idle",
    type=click.FloatRange(min=0.1),
    default=30.0,
    show_default=True,
    help="Seconds an entry stays pending with a consumer before another may claim it.",
)
@with_appcontext
def reminders_command(
    stream: str | None, group: str, consumer: str | None, claim_idle: float
) -> None:
    """Example consumer: read the stream in a consumer group and print the appointment
    reminders to send, move or withdraw; runs until SIGTERM or Ctrl-C."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        raise click.UsageError("REDIS_URL is not set: the consumer reads a Redis stream.")
    reader = ReminderConsumer(
        redis_client(url),
        stream or current_app.config["EVENT_STREAM"],
        group,
        consumer or f"{socket.gethostname()}-{os.getpid()}",
        claim_idle_ms=int(claim_idle * 1000),
        say=click.echo,
    )
    with stop_on_signals() as stop:
        reader.run(stop)


COMMANDS = (relay_command, relay_status_command, reminders_command)


reminders_cli = click.Group(
    "reminders", help="The reminders sent to patients before their visits (docs/reminders.md)."
)


@reminders_cli.command("send-due")
@with_appcontext
def send_due_command() -> None:
    """Run one pass of the reminder sender, as beat's task does: send what is due now."""
    from .sender import sender_for

    try:
        sender = sender_for(current_app)
    except ValueError as exc:  # a malformed SMTP_URL or SMS_PROVIDER_URL, Twilio without a sender
        raise click.UsageError(str(exc)) from None
    if not sender.channels:
        click.echo(
            "No channel is set up (SMTP_URL, SMS_PROVIDER_URL, TWILIO_ACCOUNT_SID):"
            " due reminders are skipped."
        )
    click.echo(str(sender.send_due()))
