"""Staff accounts for admins: who may sign in and with which role; creating accounts,
disabling and enabling them, resetting a forgotten password."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, abort, flash, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_user

from app.accounts import MAX_PASSWORD, MIN_PASSWORD, User, password_problem
from app.domain.errors import DomainError
from app.domain.staff import ROLE_LABELS, Role
from app.extensions import services
from app.queries.directory import doctor_choices

from . import i18n
from .auth import SignedIn
from .kit.outcomes import Refusal, refusal
from .kit.rendering import page, see_other

log = logging.getLogger("rendezvous.auth")

bp = Blueprint("admin", __name__, url_prefix="/admin")

# What a refused creation form shows again. Never a password: it would sit in the page's
# HTML, and in whatever caches or history keep it.
KEPT = ("username", "full_name", "role", "doctor_id")


def _actor() -> str:
    return current_user.principal.actor


def _users_page(
    status: int = 200,
    *,
    refusal: Refusal | None = None,
    values: dict[str, str] | None = None,
    row: str | None = None,
    row_refusal: Refusal | None = None,
) -> Response:
    """The accounts page; `refusal` belongs to the creation form, `row_refusal` to the
    actions of the account named `row`."""
    accounts = services().accounts
    everyone = accounts.all()
    doctors = {d.doctor_id: d.full_name for d in doctor_choices(services().query_engine)}
    return page(
        "admin/users.html",
        status=status,
        users=everyone,
        doctors=doctors,
        creators=accounts.names(u.created_by for u in everyone),
        roles=ROLE_LABELS,
        me=current_user.user.user_id,
        refusal=refusal,
        values=values or {},
        row=row,
        row_refusal=row_refusal,
        min_password=MIN_PASSWORD,
        max_password=MAX_PASSWORD,
    )


def _target(username: str) -> User:
    user = services().accounts.find(username)
    if user is None:
        abort(
            404,
            description=i18n.gettext(
                "There is no account named %(username)s.", username=repr(username)
            ),
        )
    return user


def _row_refused(user: User, outcome: Refusal) -> Response:
    # The page's alert names the account, since the form's own fields are one row among many.
    shown = Refusal(
        outcome.status,
        outcome.message
        if outcome.status == 409
        else i18n.gettext("The account %(username)s was not changed.", username=user.username),
        outcome.errors,
    )
    return _users_page(outcome.status, row=user.username, row_refusal=shown)


@bp.get("/users")
def users() -> Response:
    """Every staff account, with a form to create one and each one's actions."""
    return _users_page()


@bp.post("/users")
def create_user() -> Response:
    """Create an account from the page's form; the password is typed twice."""
    form = request.form
    values = {key: (form.get(key) or "").strip() for key in KEPT}
    password = form.get("password") or ""
    if password != (form.get("password_repeat") or ""):
        errors = {"password_repeat": gettext("The two passwords differ: type the same one twice.")}
        if problem := password_problem(password, values["username"].lower(), values["full_name"]):
            errors["password"] = i18n.render(problem)
        refused = Refusal(422, gettext("Please correct the marked fields."), errors)
        return _users_page(422, refusal=refused, values=values)
    # The doctor list stays on the form whatever the role: a doctor left chosen there
    # while another role is picked means nothing, rather than a refusal.
    doctor_id = values["doctor_id"] if values["role"] == Role.DOCTOR.value else None
    try:
        user = services().accounts.create(
            values["username"],
            password,
            values["role"],
            by=_actor(),
            doctor_id=doctor_id or None,
            full_name=values["full_name"],
        )
    except DomainError as exc:
        refused = refusal(exc)
        return _users_page(refused.status, refusal=refused, values=values)
    log.info(
        "account created: %s (%s%s) by %s",
        user.username,
        user.role,
        f", doctor {user.doctor_id}" if user.doctor_id else "",
        current_user.username,
    )
    flash(
        i18n.gettext("Account %(username)s created; they can sign in now.", username=user.username)
    )
    return see_other(url_for(".users"))


@bp.post("/users/<username>/active")
def set_active(username: str) -> Response:
    """Disable an account (its sessions end at their next request) or enable it again."""
    user = _target(username)
    wanted = request.form.get("active")
    if wanted not in ("0", "1"):
        abort(
            400, description=i18n.gettext("Say whether the account is to be active (1) or not (0).")
        )
    active = wanted == "1"
    if not active and user.user_id == current_user.user.user_id:
        # Nobody would be left at the keyboard able to undo it.
        message = i18n.gettext("You cannot disable your own account; another admin can.")
        return _row_refused(user, Refusal(409, message, {"active": message}))
    if user.active == active:
        flash(
            i18n.gettext("Account %(username)s was already active.", username=user.username)
            if active
            else i18n.gettext("Account %(username)s was already disabled.", username=user.username)
        )
        return see_other(url_for(".users"))
    try:
        changed = services().accounts.set_active(user.username, active, by=_actor())
    except DomainError as exc:
        return _row_refused(user, refusal(exc))
    state = "enabled" if changed.active else "disabled"
    log.info("account %s: %s by %s", state, changed.username, current_user.username)
    flash(
        i18n.gettext("Account %(username)s enabled.", username=changed.username)
        if changed.active
        else i18n.gettext(
            "Account %(username)s disabled; its sessions have ended.", username=changed.username
        )
    )
    return see_other(url_for(".users"))


@bp.post("/users/<username>/password")
def set_password(username: str) -> Response:
    """Set a new password for an account (one forgotten, or given away); the account's
    other sessions end."""
    user = _target(username)
    password = request.form.get("password") or ""
    try:
        changed = services().accounts.set_password(user.username, password, by=_actor())
    except DomainError as exc:
        return _row_refused(user, refusal(exc))
    log.info("password reset: %s by %s", changed.username, current_user.username)
    if changed.user_id == current_user.user.user_id:
        # The reset ended every session of the account, this one too: the admin who typed
        # the new password stays signed in.
        login_user(SignedIn(changed))
        flash(i18n.gettext("Your password was changed; your other sessions have ended."))
    else:
        flash(
            i18n.gettext(
                "Password of %(username)s changed; their sessions have ended.",
                username=changed.username,
            )
        )
    return see_other(url_for(".users"))
