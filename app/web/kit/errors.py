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

from app.domain.messages import N_

from ..auth import expired_sign_in
from ..i18n import gettext
from .rendering import from_htmx, see_other

log = logging.getLogger(__name__)


# Each code's title (werkzeug's name, in English) and what to say when the raiser said
# nothing of its own (werkzeug's default descriptions are written for developers).
TITLES = {
    400: N_("Bad Request"),
    403: N_("Forbidden"),
    404: N_("Not Found"),
    405: N_("Method Not Allowed"),
    409: N_("Conflict"),
    413: N_("Request Entity Too Large"),
    422: N_("Unprocessable Entity"),
    429: N_("Too Many Requests"),
}
SAID = {
    400: N_("The request could not be read. Reload the page and try again."),
    403: N_("Your role does not allow this. Ask an admin if you need it."),
    404: N_("There is nothing at this address. Check it, or start again from Today."),
    405: N_("This address does not take that kind of request."),
    409: N_("This was changed meanwhile. Reload the page to see it as it is now."),
    413: N_("What was sent is too large for a form of the appointment book."),
    422: N_("Some of what was sent cannot be used. Check the form and try again."),
    429: N_("Too many attempts in a short time. Wait a moment, then try again."),
}


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
        gettext("This form has expired"),
        gettext("Nothing was changed. Reload the page and try again."),
    )


def http_error(exc: HTTPException) -> ResponseReturnValue:
    """A plain page for 404, 405 and friends."""
    if exc.response is not None:
        # The raiser made its own page (too many sign-ins): get_response() returns it, as
        # the WSGI response it is (the attribute is typed as werkzeug's sans-I/O base).
        return exc.get_response()
    code = exc.code or 500
    title = gettext(TITLES[code]) if code in TITLES else exc.name
    described = exc.description or ""
    if described == type(exc).description:  # werkzeug's own words: ours instead
        described = SAID.get(code, described)
    return _error(code, title, gettext(described))


def unavailable(exc: Exception) -> Response:
    """The database (or another dependency) cannot be reached: 503, try again shortly."""
    log.error("dependency unavailable: %s", exc)
    # The page must not need the database either: who is signed in is looked up there.
    g._login_user = AnonymousUserMixin()
    return _error(
        503,
        gettext("Temporarily unavailable"),
        gettext("The appointment book cannot be reached right now. Please try again in a moment."),
    )


def unexpected(exc: Exception) -> Response:
    """Anything else: log it in full, show people a calm page."""
    log.exception("unhandled error", exc_info=exc)
    return _error(
        500,
        gettext("Something went wrong"),
        gettext("The error has been logged. Please try again; if it persists, tell an admin."),
    )
