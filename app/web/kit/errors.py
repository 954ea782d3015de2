"""Error pages for people: never a traceback. htmx requests get the message in the page's
message area instead of a whole page swapped into a table row."""

from __future__ import annotations

import logging

from flask import (
    Flask,
    Response,
    current_app,
    g,
    make_response,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import AnonymousUserMixin, current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from ..auth import expired_sign_in
from .rendering import from_htmx, see_other

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, csrf_error)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(Exception, unexpected)


def _error(code: int, title: str, message: str) -> Response:
    if from_htmx():
        response = make_response(
            render_template("_error_notice.html", code=code, title=title, message=message), code
        )
        response.headers["HX-Retarget"] = "#flash"
        response.headers["HX-Reswap"] = "innerHTML"
        return response
    page = render_template("error.html", code=code, title=title, message=message)
    return make_response(page, code)


def csrf_error(exc: CSRFError) -> Response:
    """A form without a valid token: expired page, or a request forged from another site.

    The token lives in the session, so a session that ended (inactivity) takes it along:
    then the answer is the sign-in page (for htmx, by header), as for any request without a
    session, rather than an error swapped into the row that was clicked."""
    log.warning("refused a request without a valid CSRF token: %s", exc.description)
    if request.endpoint == "auth.login":
        return expired_sign_in()
    if not current_user.is_authenticated:
        if request.endpoint == "auth.logout":
            return see_other(url_for("auth.login"))  # signed out already
        # Flask's typing does not know the attribute flask-login's init_app sets.
        return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
    return _error(
        400,
        "This form has expired",
        "Nothing was changed. Reload the page and try again.",
    )


def http_error(exc: HTTPException) -> ResponseReturnValue:
    """A plain page for 404, 405 and friends."""
    if exc.response is not None:
        # The raiser made its own page (too many sign-ins): get_response() returns it, as
        # the WSGI response it is (the attribute is typed as werkzeug's sans-I/O base).
        return exc.get_response()
    code = exc.code or 500
    return _error(code, exc.name, exc.description or "")


def unavailable(exc: Exception) -> Response:
    """The database (or another dependency) cannot be reached: 503, try again shortly."""
    log.error("dependency unavailable: %s", exc)
    # The page must not need the database either: who is signed in is looked up there.
    g._login_user = AnonymousUserMixin()
    return _error(
        503,
        "Temporarily unavailable",
        "The appointment book cannot be reached right now. Please try again in a moment.",
    )


def unexpected(exc: Exception) -> Response:
    """Anything else: log it in full, show people a calm page."""
    log.exception("unhandled error", exc_info=exc)
    return _error(
        500,
        "Something went wrong",
        "The error has been logged. Please try again; if it persists, tell an admin.",
    )
