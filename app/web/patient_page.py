"""The patient's own page for one appointment (`/p/<token>`, the link in each reminder):
its time, doctor and place, and Confirm and Cancel, with no account.

What the page holds to (docs/reminders.md):
* The link is the only key: signed, expiring, bound to the appointment and the version the
  patient was told about (app/outbound/links.py). A forged, expired, malformed or unknown
  link gets the same answer, so nothing tells a guess that it came close.
* It shows that appointment and nothing else of the patient (no other appointments, no
  date of birth, no phone).
* Confirm and Cancel are commands like the desk's (ConfirmAsPatient, CancelAsPatient, with
  the actor "patient"), through the same bus, rules and version check; a link whose
  appointment has moved since says so and shows the new time, and acts on nothing.
* Rate-limited per address and per link; `Referrer-Policy: no-referrer` (the token is in
  the URL), `X-Robots-Tag: noindex`, no caching; no script needed, made for a phone.
"""

from __future__ import annotations

from typing import Any

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
from flask_limiter import RequestLimit

from app.commands import commands as c
from app.domain.appointment import Status
from app.domain.errors import DomainError
from app.extensions import services, sign_in_limiter
from app.outbound.links import PatientLink
from app.outbound.sender import patient_links
from app.queries.patient_page import PatientVisit, patient_visit

from . import formatting as fmt
from . import forms
from .i18n import gettext
from .kit.outcomes import Refusal, refusal
from .kit.rendering import see_other

ANSWERABLE = (Status.PENDING, Status.CONFIRMED)


def _link(token: str) -> tuple[PatientLink, PatientVisit] | None:
    link = patient_links(current_app).read(token)
    if link is None:
        return None
    visit = patient_visit(services().store, link.appointment_id, link.version)
    if visit is None:
        return None
    # The patient's language (the page is theirs), unless they pick the other one.
    g.patient_locale = request.args.get("lang") or visit.language or None
    return link, visit


def _invalid() -> Response:
    """One answer for every link that leads nowhere."""
    return _page("patient/invalid.html", status=404)


def _page(template: str, *, status: int = 200, **context: Any) -> Response:
    response = make_response(render_template(template, **context), status)
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _show(
    token: str, link: PatientLink, visit: PatientVisit, *, status: int = 200, **extra: Any
) -> Response:
    ahead = visit.starts_at > services().bus.clock()
    return _page(
        "patient/visit.html",
        status=status,
        token=token,
        visit=visit,
        ahead=ahead,
        may_confirm=ahead and not visit.moved and visit.status is Status.PENDING,
        may_cancel=ahead and not visit.moved and visit.status in ANSWERABLE,
        done=request.args.get("done"),
        values=dict(request.form),
        fmt=fmt,
        **extra,
    )


def show(token: str) -> Response:
    found = _link(token)
    if found is None:
        return _invalid()
    return _show(token, *found)


def confirm(token: str) -> Response:
    return _answer(token, c.ConfirmAsPatient, "confirmed")


def cancel(token: str) -> Response:
    return _answer(token, c.CancelAsPatient, "cancelled")


def _answer(
    token: str, command: type[c.ConfirmAsPatient | c.CancelAsPatient], done: str
) -> Response:
    found = _link(token)
    if found is None:
        return _invalid()
    link, visit = found
    if visit.moved:
        return _show(
            token,
            link,
            visit,
            status=409,
            refusal=Refusal(409, gettext("Your appointment has moved: see its new time below.")),
        )
    try:
        # No signed-in person: the command's own actor ("patient") is recorded.
        services().bus.handle(
            forms.reminders.patient_answer(command, request.form, visit.appointment_id)
        )
    except DomainError as exc:
        refused = refusal(exc)
        again = patient_visit(services().store, link.appointment_id, link.version) or visit
        return _show(token, link, again, status=refused.status, refusal=refused)
    return see_other(
        url_for("patient_page.show", token=token, done=done, lang=request.args.get("lang"))
    )


def _too_many(limit: RequestLimit) -> Response:
    return _page(
        "patient/invalid.html",
        status=429,
        message=gettext("Too many requests in a short time. Wait a minute, then try again."),
    )


def _link_key() -> str:
    return "link:" + str((request.view_args or {}).get("token", ""))[:200]


def init_app(app: Flask) -> None:
    """The page's routes, each behind the limits per address and per link (Flask-Limiter,
    the sign-in's limiter and storage)."""
    limiter = sign_in_limiter(app)

    def limited(view: Any) -> Any:
        per_link = limiter.limit(
            lambda: current_app.config["PATIENT_LIMIT_PER_LINK"],
            key_func=_link_key,
            on_breach=_too_many,
            scope="patient-link",
        )(view)
        return limiter.limit(
            lambda: current_app.config["PATIENT_LIMIT_PER_ADDRESS"],
            on_breach=_too_many,
            scope="patient-address",
        )(per_link)

    # On the app, not a blueprint: each app (tests build many) wraps the views in its own
    # limiter.
    app.add_url_rule("/p/<token>", "patient_page.show", limited(show), methods=["GET"])
    app.add_url_rule(
        "/p/<token>/confirm", "patient_page.confirm", limited(confirm), methods=["POST"]
    )
    app.add_url_rule("/p/<token>/cancel", "patient_page.cancel", limited(cancel), methods=["POST"])
