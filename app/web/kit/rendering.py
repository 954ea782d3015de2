"""Rendering for full pages and htmx fragments, with the read side's freshness attached."""

from __future__ import annotations

import time
import unicodedata
from typing import Any, cast
from urllib.parse import parse_qsl, urlencode, urlsplit

from flask import (
    Response,
    abort,
    current_app,
    g,
    make_response,
    redirect,
    render_template,
    request,
)
from flask_wtf.csrf import generate_csrf
from htmx_flask.requests import HtmxAwareRequest, HtmxHeaders

from app.extensions import FRESHNESS, services
from app.projections import PROJECTIONS
from app.queries.freshness import Freshness, freshness

from ..i18n import no_such
from .outcomes import Expectation

READ_MODELS = tuple(p.name for p in PROJECTIONS)


def _htmx() -> HtmxHeaders:
    """The request's htmx headers. The htmx extension makes every request an
    HtmxAwareRequest (`app.request_class`), which Flask's `request` proxy cannot say."""
    return cast(HtmxAwareRequest, request).htmx


def from_htmx() -> bool:
    """Whether htmx sent this request: its answer is swapped into the page, not shown whole.
    Views ask this (or `wants_fragment`), never the HX-* headers themselves."""
    return bool(_htmx())


def htmx_page_url() -> str | None:
    """For an htmx request, the address of the page that made it."""
    htmx = _htmx()
    return htmx.current_url if htmx else None


def wants_fragment(target: str) -> bool:
    """Whether this is an htmx request aimed at the element with id `target`."""
    htmx = _htmx()
    return bool(htmx) and htmx.target == target


def page_or_fragment(
    page_template: str,
    fragment_template: str,
    *,
    target: str | None = None,
    status: int = 200,
    **context: Any,
) -> Response:
    """The fragment for htmx (aimed at `target`, when given), the whole page otherwise."""
    wanted = wants_fragment(target) if target is not None else from_htmx()
    if wanted:
        return fragment(fragment_template, status=status, **context)
    return page(page_template, status=status, **context)


def page(template: str, *, status: int = 200, **context: Any) -> Response:
    """A full page: honours the `expect` of a redirect after a command (waits a bounded
    moment, else marks the page as updating) and says when the read models lag."""
    if "updating" not in context:  # views that called settle() already know
        expected = Expectation.parse(request.args)
        context["updating"] = expected is not None and not expected.met()
    context["freshness"] = _freshness()
    return make_response(render_template(template, **context), status)


def _freshness() -> Freshness:
    """The read models' lag, measured at most every FRESHNESS_CACHE_SECONDS per process: a
    page that says "shown as of…" only after 3 s of lag needs no finer measure, and the two
    queries it takes would otherwise run for every page."""
    cache = current_app.extensions.setdefault(FRESHNESS, {})
    now = time.monotonic()
    if "value" not in cache or now - cache["at"] >= current_app.config["FRESHNESS_CACHE_SECONDS"]:
        cache["value"] = freshness(services().projector, READ_MODELS)
        cache["at"] = now
    return cache["value"]


def settle() -> bool:
    """Wait for the change named by `expect` before the view queries; True if still updating."""
    expected = Expectation.parse(request.args)
    return expected is not None and not expected.wait()


def fragment(template: str, *, status: int = 200, **context: Any) -> Response:
    return make_response(render_template(template, **context), status)


def missing(noun: str, updating: bool, back: str | None = None) -> Response:
    """A record the read model does not show: if the user's own command just made it, say
    it is on its way (the page refreshes itself); otherwise 404."""
    if updating:
        return page("pending.html", updating=True, noun=noun, back=back)
    abort(404, description=no_such(noun))


def safe_next(default: str) -> str:
    """The `next` field if it is a path on this site, else `default` (no open redirect)."""
    target = request.values.get("next") or ""
    if not target.startswith("/") or target.startswith("//"):
        return default
    # Browsers read a backslash as "/" and drop tabs and newlines from an address, so
    # "/\evil" and "/<tab>/evil" lead off site; a CR or LF also breaks the Location header.
    if "\\" in target or any(unicodedata.category(c) == "Cc" for c in target):
        return default
    return default if urlsplit(target).netloc else target


def csrf_token() -> str:
    """The session's CSRF token; a list page puts it in a hundred forms, so it is worked out
    once per request."""
    if "csrf_value" not in g:
        g.csrf_value = generate_csrf()
    value: str = g.csrf_value
    return value


def here() -> str:
    """The address of the page the user is on (for htmx requests, the page that made them),
    so a plain form can come back to it. Asked once per row: worked out once per request."""
    if "here" not in g:
        g.here = _here()
    return g.here


def _here() -> str:
    parts = None
    if current_url := htmx_page_url():
        try:
            parts = urlsplit(current_url)
        except ValueError:
            parts = None  # a malformed header: fall back to this request's own address
    if parts is not None:
        path, query = parts.path, parse_qsl(parts.query, keep_blank_values=True)
    else:
        path, query = request.path, list(request.args.items(multi=True))
    # The page's own `expect` was met already; the next redirect names a new one.
    kept = urlencode([(k, v) for k, v in query if k != "expect"])
    return path + (f"?{kept}" if kept else "")


def url_with(**changes: str | None) -> str:
    """This page's address with some query parameters replaced (None removes one)."""
    args = request.args.copy()
    for key, value in changes.items():
        args.poplist(key)
        if value is not None:
            args[key] = value
    query = urlencode(list(args.items(multi=True)))
    return request.path + (f"?{query}" if query else "")


def see_other(url: str, expectation: Expectation | None = None) -> Response:
    """Post/redirect/get, naming the change the next page must show."""
    if expectation is not None:
        parts = urlsplit(url)
        query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "expect"]
        query.append(("expect", expectation.param()))
        url = parts._replace(query=urlencode(query)).geturl()
    # Flask's redirect builds the app's response class, this Response, though it is typed
    # as returning werkzeug's base class.
    return cast(Response, redirect(url, 303))
