"""The web layer wired into the app: blueprints, CSRF protection, security headers, error
pages and template helpers. Blueprints are imported when the app is built, not with this
module."""

from __future__ import annotations

from uuid import uuid4

from flask import Flask, Response, request
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

csrf = CSRFProtect()

# Pages carry no inline script or style, so the policy can forbid both.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "object-src 'none'",
    )
)


def security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")  # frame-ancestors for older browsers
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if request.endpoint != "static":
        # Pages show health data: a shared front-desk browser must not keep them, nor
        # show them again with Back after the user has signed out.
        headers.setdefault("Cache-Control", "no-store")
    return response


def init_app(app: Flask) -> None:
    """Register blueprints, error pages, CSRF protection and template helpers."""
    from . import (
        account,
        admin,
        appointments,
        auth,
        booking,
        calendar,
        call_list,
        doctors,
        exports,
        first_free,
        formatting,
        history_words,
        home,
        i18n,
        inputs,
        ops,
        past,
        patient_page,
        patients,
        pickers,
        reminder_words,
        row_html,
        rows,
        series,
        settings,
        waitlist,
    )
    from .kit import access, errors
    from .kit.rendering import csrf_token, from_htmx, here, url_with

    # A front-desk page stays open all day: the token lives as long as the session.
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    # How long a page shown after a command waits for its read model before saying
    # "updating…" instead.
    app.config.setdefault("READ_YOUR_WRITES_SECONDS", 2.0)
    app.config.setdefault("FRESHNESS_CACHE_SECONDS", 1.0)
    # First of all the checks, so that the CSRF check never meets a nameless form part.
    app.before_request(inputs.refuse_unreadable)
    csrf.init_app(app)
    if app.config.get("TRUSTED_PROXIES"):
        # Behind N proxies, the client's address and scheme come from their headers.
        hops = app.config["TRUSTED_PROXIES"]
        # Wrapping wsgi_app is Flask's documented way to add middleware; mypy refuses any
        # assignment to a method.
        proxied = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
        app.wsgi_app = proxied  # type: ignore[method-assign]
    auth.init_app(app)
    i18n.init_app(app)
    app.before_request(access.guard)
    app.register_blueprint(account.bp)
    app.register_blueprint(home.bp)
    app.register_blueprint(appointments.bp)
    app.register_blueprint(booking.bp)
    app.register_blueprint(patients.bp)
    app.register_blueprint(doctors.bp)
    app.register_blueprint(calendar.bp)
    app.register_blueprint(first_free.bp)
    app.register_blueprint(past.bp)
    app.register_blueprint(call_list.bp)
    app.register_blueprint(series.bp)
    app.register_blueprint(waitlist.bp)
    app.register_blueprint(settings.bp)
    app.register_blueprint(admin.bp)
    exports.init_app(app)
    patient_page.init_app(app)
    ops.register(app)
    access.check_rules(app)
    errors.init_app(app)
    formatting.init_app(app)
    reminder_words.init_app(app)
    app.jinja_env.globals.update(
        uuid4=uuid4,
        csrf_token=csrf_token,
        doctor_options=pickers.doctor_options,
        doctor_options_with_specialty=pickers.doctor_options_with_specialty,
        actions_for=rows.actions_for,
        from_htmx=from_htmx,
        here=here,
        url_with=url_with,
        appointment_path=rows.appointment_path,
        patient_path=rows.patient_path,
        list_row=row_html.list_row,
        queue_row=row_html.queue_row,
        agenda_row=row_html.agenda_row,
        doctor_blocks=row_html.doctor_blocks,
        row_actions=row_html.row_actions,
        row_attrs=row_html.row_attrs,
        undo_button=row_html.undo_button,
        STATUS_ICONS=rows.STATUS_ICONS,
        allowed=access.allowed,
        may=access.may,
        sees_doctor=access.sees_doctor,
        event_summary=history_words.event_summary,
        field_label=history_words.field_label,
        field_value=history_words.field_value,
        status_word=history_words.status_word,
    )
    app.after_request(security_headers)
