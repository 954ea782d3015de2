"""`flask users ...`: staff accounts from the command line, for the first admin and for
when nobody can sign in.

Passwords are read from a hidden prompt, or from standard input when that is not a
terminal; never from an option, which would leave them in the shell's history and in the
process list.
"""

from __future__ import annotations

import getpass
import logging
import secrets
import sys
from typing import TYPE_CHECKING

import click
from flask.cli import AppGroup

from app.domain.errors import DomainError, ValidationError
from app.extensions import services

from .service import password_problem

if TYPE_CHECKING:
    from .service import Accounts, User

log = logging.getLogger("rendezvous.auth")

users_cli = AppGroup("users", help="Create, list, disable and enable staff accounts.")

# How each field of a refusal is named on this command line.
FIELD_NAMES = {
    "username": "USERNAME",
    "full_name": "--name",
    "role": "--role",
    "doctor_id": "--doctor-id",
    "password": "password",
}


def _accounts() -> Accounts:
    return services().accounts


def _actor() -> str:
    """Who made a change from here, as the account's `created_by`/`changed_by` records it."""
    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):  # a container user with no name
        return "cli:unknown"


def _refused(exc: DomainError) -> click.ClickException:
    if isinstance(exc, ValidationError):
        lines = [f"{FIELD_NAMES.get(k, k)}: {message}" for k, message in exc.errors.items()]
        return click.ClickException("refused:\n  " + "\n  ".join(lines))
    return click.ClickException(exc.message)


def read_password(prompt: str = "Password") -> str:
    """At a terminal, typed twice without echo; otherwise the first line of standard
    input, so that `echo "$PW" | flask users create ...` works in scripts."""
    if sys.stdin.isatty():
        return click.prompt(prompt, hide_input=True, confirmation_prompt=True)
    line = sys.stdin.readline()
    password = line.rstrip("\r\n")
    if not password:
        raise click.ClickException(
            "No password on standard input: pipe it in (echo ... | flask users ...) or run "
            "this at a terminal to be asked for it."
        )
    return password


def _describe(user: User) -> str:
    doctor = f", doctor {user.doctor_id}" if user.doctor_id else ""
    name = f" ({user.full_name})" if user.full_name else ""
    state = "active" if user.active else "disabled"
    return f"{user.username}{name}: {user.role}{doctor}, {state}"


@users_cli.command("create")
@click.argument("username")
@click.option(
    "--role", required=True, metavar="reception|doctor|admin", help="What the account may do."
)
@click.option("--doctor-id", default=None, help="For a doctor's account: which doctor (id).")
@click.option("--name", "full_name", default="", help="The person's full name.")
def create(username: str, role: str, doctor_id: str | None, full_name: str) -> None:
    """Create an active account; the password is asked for (or read from stdin)."""
    password = read_password()
    try:
        user = _accounts().create(
            username, password, role, by=_actor(), doctor_id=doctor_id, full_name=full_name
        )
    except DomainError as exc:
        raise _refused(exc) from None
    log.info("account created: %s (%s) by %s", user.username, user.role, _actor())
    click.echo(f"Created {_describe(user)}.")


@users_cli.command("list")
def list_users() -> None:
    """Every account: username, name, role, doctor, status and last sign-in."""
    everyone = _accounts().all()
    if not everyone:
        click.echo("No accounts yet; `flask users ensure-admin` creates the first admin.")
        return
    tz = services().tz
    header = ("USERNAME", "NAME", "ROLE", "DOCTOR ID", "STATUS", "LAST SIGN-IN")
    rows = [
        (
            u.username,
            u.full_name or "-",
            u.role.value,
            str(u.doctor_id) if u.doctor_id else "-",
            "active" if u.active else "disabled",
            u.last_sign_in_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
            if u.last_sign_in_at
            else "never",
        )
        for u in everyone
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))


def _set_active(username: str, active: bool) -> None:
    accounts = _accounts()
    before = accounts.find(username)
    try:
        user = accounts.set_active(username, active, by=_actor())
    except DomainError as exc:
        raise _refused(exc) from None
    state = "enabled" if active else "disabled"
    if before is not None and before.active == active:
        click.echo(f"{user.username} was already {'active' if active else 'disabled'}.")
        return
    log.info("account %s: %s by %s", state, user.username, _actor())
    ended = "; its sessions end at their next request" if not active else ""
    click.echo(f"{user.username} {state}{ended}.")


@users_cli.command("disable")
@click.argument("username")
def disable(username: str) -> None:
    """Disable an account: it cannot sign in and its sessions end."""
    _set_active(username, False)


@users_cli.command("enable")
@click.argument("username")
def enable(username: str) -> None:
    """Enable a disabled account again."""
    _set_active(username, True)


@users_cli.command("set-password")
@click.argument("username")
def set_password(username: str) -> None:
    """Set a new password (asked for, or read from stdin); the account's sessions end."""
    accounts = _accounts()
    if accounts.find(username) is None:
        # Said before the password is asked for, not after it has been typed twice.
        raise click.ClickException(f"There is no account named {username!r}.")
    password = read_password("New password")
    try:
        user = accounts.set_password(username, password, by=_actor())
    except DomainError as exc:
        raise _refused(exc) from None
    log.info("password reset: %s by %s", user.username, _actor())
    click.echo(f"Password of {user.username} changed; its sessions end at their next request.")


def _random_password() -> str:
    """Twenty random characters, which pass the strength check (asked, not assumed)."""
    for _ in range(10):
        password = secrets.token_urlsafe(15)
        if password_problem(password, "admin", "Administrator") is None:
            return password
    raise click.ClickException("Could not make a strong random password; try again.")


@users_cli.command("ensure-admin")
def ensure_admin() -> None:
    """Create the first admin, with a random password printed once, unless an admin
    account exists already (active or not)."""
    accounts = _accounts()
    if accounts.any_admin():
        click.echo("An admin account exists; nothing created.")
        return
    password = _random_password()
    try:
        user = accounts.create("admin", password, "admin", by=_actor(), full_name="Administrator")
    except DomainError as exc:
        raise _refused(exc) from None
    log.info("account created: %s (%s) by %s", user.username, user.role, _actor())
    click.echo(
        "\n"
        "  Created the admin account.\n"
        f"  Sign in at /login as {user.username} with password {password}\n"
        "  It is not stored anywhere else: change it or note it now.\n"
    )
