"""Signing in and out: Flask-Login sessions over the staff accounts, rate-limited sign-in."""

from __future__ import annotations

import logging
import math
import time
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    flash,
    make_response,
    render_template,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from flask_babel import gettext
from flask_limiter import Limiter, RequestLimit
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user

from app.accounts import MAX_PASSWORD, User
from app.domain.staff import ROLE_LABELS
from app.extensions import LIMITER, services, sign_in_limiter

from .kit.rendering import from_htmx, htmx_page_url, safe_next, see_other

log = logging.getLogger("rendezvous.auth")

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
# When the session was signed in (seconds since the epoch), for SESSION_MAX_HOURS.
SIGNED_IN_AT = "signed_in_at"
# When the session's owner last changed their own account (its language): every web
# process reads the account again rather than serve one it kept from before.
ACCOUNT_CHANGED_AT = "account_changed_at"


class SignedIn(UserMixin):
    """The signed-in member of staff, as Flask-Login and the templates see them: the
    account's fields (username, display_name, role, doctor_id, principal...) and its role's
    label."""

    def __init__(self, user: User) -> None:
        self.user = user

    def __getattr__(self, name: str) -> Any:
        return getattr(self.user, name)

    def get_id(self) -> str:
        # The epoch changes when the account is disabled, its password reset or signed out
        # of, which ends every session made before.
        return f"{self.user.user_id}:{self.user.session_epoch}"

    @property
    def role_label(self) -> str:
        return gettext(ROLE_LABELS[self.user.role])


@login_manager.user_loader
def load_user(session_id: str) -> SignedIn | None:
    user_id, _, epoch = session_id.partition(":")
    accounts = services().accounts
    changed = session.get(ACCOUNT_CHANGED_AT)
    try:
        uid = UUID(user_id)
    except ValueError:
        return None
    user = accounts.signed_in(uid, fresher_than=changed if isinstance(changed, float) else 0.0)
    if user is not None and str(user.session_epoch) != epoch:
        # This process may have kept the account from before this session began (signed
        # in again after a new password, through another process): look once more.
        user = accounts.signed_in(uid, fresher_than=math.inf)
    if user is None or not user.active or str(user.session_epoch) != epoch:
        return None
    if not _signed_in_lately():
        return None  # as for an idle session: the unauthorized handler leads to sign-in
    return SignedIn(user)


def _signed_in_lately() -> bool:
    """Whether the session was signed in less than SESSION_MAX_AGE ago. The cookie is signed,
    so its time is the server's; a session from before this check existed has none, and ends."""
    started = session.get(SIGNED_IN_AT)
    if not isinstance(started, int | float):
        return False
    return time.time() - started < current_app.config["SESSION_MAX_AGE"].total_seconds()


@login_manager.unauthorized_handler
def unauthorized() -> Response:
    """To the sign-in page, then back. An htmx request is told by header to load the
    sign-in page whole, rather than swap it into the fragment it asked for."""
    if from_htmx():
        back = _page_of_htmx_request()
        response = make_response("", 401)
        response.headers["HX-Redirect"] = url_for("auth.login", next=back)
        return response
    back = request.full_path.rstrip("?") if request.method == "GET" else None
    if back == "/":
        back = None
    return see_other(url_for("auth.login", next=back))


def _page_of_htmx_request() -> str | None:
    try:
        parts = urlsplit(htmx_page_url() or "")
    except ValueError:  # a malformed header: no way back, the sign-in page still comes
        return None
    if not parts.path.startswith("/") or parts.path == "/":
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _account_key() -> str:
    return "account:" + (request.form.get("username") or "").strip().lower()[:64]


def _too_many(limit: RequestLimit) -> Response:
    log.warning(
        "sign-in rate limit reached for %r from %s (%s)",
        (request.form.get("username") or "")[:64],
        get_remote_address(),
        limit.limit,
    )
    message = gettext(
        "Too many sign-in attempts. Wait a minute before trying again; "
        "if you have forgotten your password, ask an admin to reset it."
    )
    return _login_page(429, message, username=request.form.get("username", ""))


def login() -> Response:
    """The sign-in form; a right username and password start a session."""
    if request.method == "GET":
        if current_user.is_authenticated:
            return see_other(safe_next(url_for("home.index")))
        return _login_page(200)
    username = (request.form.get("username") or "").strip()[:64]
    password = request.form.get("password") or ""
    if not username or not password:
        return _login_page(422, gettext("Enter your username and password."), username=username)
    user = services().accounts.authenticate(username, password[: MAX_PASSWORD + 1])
    if user is None:
        log.warning("failed sign-in for %r from %s", username, get_remote_address())
        return _login_page(401, gettext("Wrong username or password."), username=username)
    # A fresh session: nothing from before signing in carries over (nor its CSRF token).
    session.clear()
    login_user(SignedIn(user))
    session[SIGNED_IN_AT] = int(time.time())
    session.permanent = True
    _give_back_the_attempt()
    log.info("signed in: %s (%s) from %s", user.username, user.role.value, get_remote_address())
    return see_other(safe_next(url_for("home.index")))


@bp.post("/logout")
def logout() -> Response:
    """Sign out: the session cookie is cleared, and the account's sessions end on the
    server too, so a copy of the cookie (a shared front-desk computer) is worthless."""
    if current_user.is_authenticated:
        log.info("signed out: %s", current_user.username)
        services().accounts.end_sessions(current_user.user.user_id)
    # Said in the language of the person signing out, while they still are.
    said = gettext("You have signed out.")
    logout_user()
    session.clear()
    flash(said)
    return see_other(url_for("auth.login"))


def _give_back_the_attempt() -> None:
    """A right password takes its attempt off the account's count, so that a desk account
    signed in on several tablets is not locked out by its own sign-ins. It was counted all
    the same, before the password was checked: guesses sent at once are still held back."""
    for counted in sign_in_limiter().current_limits:
        if _account_key() not in counted.request_args:
            continue  # the per-address count keeps every attempt (docs/accounts.md)
        try:
            # A new window may have begun since the count (nothing to give back then).
            if counted.remaining < counted.limit.amount:
                # The fixed window is a counter: a hit costing -1 takes one attempt off.
                counted.limiter.hit(counted.limit, *counted.request_args, cost=-1)
        except Exception:  # any storage's failure, as the limiter itself swallows them
            log.warning("could not give back a sign-in attempt", exc_info=True)


def expired_sign_in() -> Response:
    """The sign-in form was left open longer than its session lived: a fresh one."""
    message = gettext("This form has expired (it was open a long time). Please sign in again.")
    return _login_page(400, message, username=request.form.get("username", ""))


def _login_page(status: int, message: str | None = None, **values: Any) -> Response:
    page = render_template(
        "login.html",
        message=message,
        values=values,
        next=safe_next(""),
        idle_minutes=int(current_app.permanent_session_lifetime.total_seconds() // 60),
        max_hours=round(current_app.config["SESSION_MAX_AGE"].total_seconds() / 3600, 1),
    )
    return make_response(page, status)


# Sent by pages that poll (the "updating" and "shown as of" banners, templates/_freshness.html):
# a page left open and polling is not activity.
POLL_HEADER = "X-Rendezvous-Poll"


class SessionInterface(SecureCookieSessionInterface):
    """The session cookie is Secure whenever the request came over HTTPS (directly, or
    through a proxy trusted by TRUSTED_PROXIES), as well as when configured so. A polling
    request does not renew it, so an open page that polls still signs out when idle."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return super().get_cookie_secure(app) or request.is_secure

    def should_set_cookie(self, app: Flask, session: SessionMixin) -> bool:
        if request.headers.get(POLL_HEADER) and not session.modified:
            return False
        return super().should_set_cookie(app, session)


def init_app(app: Flask) -> None:
    app.session_interface = SessionInterface()
    login_manager.init_app(app)
    # Flask-Login's "remember me" cookie would outlive the inactivity limit: never set.
    app.config.setdefault("REMEMBER_COOKIE_DURATION", 0)
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "rendezvous")
    # Counting attempts must not stop people signing in: if Redis is down, count in
    # memory (per process) and log it, rather than fail the request.
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    # A counter per window, which a right password can count down (_give_back_the_attempt).
    app.config["RATELIMIT_STRATEGY"] = "fixed-window"
    app.register_blueprint(bp)
    # A limiter per app, not per module: it holds its storage (Redis or memory), and two
    # apps in one process (tests) must not share counts or settings.
    limiter = Limiter(get_remote_address, app=app, default_limits=[])
    app.extensions[LIMITER] = limiter
    # Every attempt counts, before its password is checked: the limiter's check-and-count
    # is one atomic step, so guesses sent in parallel cannot all slip in before the count.
    limited = limiter.limit(
        lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"],
        methods=["POST"],
        on_breach=_too_many,
        scope="login-address",
    )(
        limiter.limit(
            lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
            key_func=_account_key,
            methods=["POST"],
            on_breach=_too_many,
            scope="login-account",
        )(login)
    )
    app.add_url_rule("/login", "auth.login", limited, methods=["GET", "POST"])
