"""Error pages for people: never a traceback."""

from __future__ import annotations

import logging

from flask import Flask, render_template
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(Exception, unexpected)


def http_error(exc: HTTPException) -> tuple[str, int]:
    """A plain page for 404, 405 and friends."""
    code = exc.code or 500
    return render_template("error.html", code=code, title=exc.name, message=exc.description), code


def unavailable(exc: Exception) -> tuple[str, int]:
    """The database (or another dependency) cannot be reached: 503, try again shortly."""
    log.error("dependency unavailable: %s", exc)
    return render_template(
        "error.html",
        code=503,
        title="Temporarily unavailable",
        message="The appointment book cannot be reached right now. Please try again in a moment.",
    ), 503


def unexpected(exc: Exception) -> tuple[str, int]:
    """Anything else: log it in full, show people a calm page."""
    log.exception("unhandled error", exc_info=exc)
    return render_template(
        "error.html",
        code=500,
        title="Something went wrong",
        message="The error has been logged. Please try again; if it persists, tell an admin.",
    ), 500
