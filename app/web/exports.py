"""The calendar issue's exports: the appointment list as a CSV file, and each doctor's
calendar feed (iCalendar, read by phone calendars without a session) with the page action
that creates or resets its secret link."""

from __future__ import annotations

import csv
import io
from datetime import UTC, timedelta
from uuid import UUID

from flask import Blueprint, Flask, Response, abort, current_app, request, url_for
from icalendar import Calendar, Event
from icalendar.enums import STATUS

from app.domain.appointment import Status
from app.extensions import services, sign_in_limiter
from app.queries import agenda
from app.queries import appointments as q
from app.queries.feeds import doctor_feed

from . import forms, i18n
from .appointments import list_filters
from .kit import access
from .kit.rendering import page

bp = Blueprint("exports", __name__)

# More rows than this is not a file a clinic opens in a spreadsheet: the desk is asked to
# narrow the dates instead of getting a partial file that looks complete.
MAX_CSV_ROWS = 50_000
# The feed's window: a month of history for reference, six months of what is coming.
FEED_PAST = timedelta(days=30)
FEED_AHEAD = timedelta(days=180)
FEED_STATUS = {
    Status.PENDING: STATUS.TENTATIVE,
    Status.CANCELLED: STATUS.CANCELLED,
}
# Cells a spreadsheet would read as a formula (CSV injection): a patient's name or a reason
# is typed by people, so such a cell gets a leading apostrophe.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _bad_filters() -> str | None:
    """Why the list's filters cannot make an export, or None. The list ignores a malformed
    value; a file must not quietly hold more than the person asked for."""
    args = request.args
    for name in ("from", "to"):
        if args.get(name) and forms.parse_day(args.get(name)) is None:
            return i18n.gettext(
                "%(value)s is not a date (YYYY-MM-DD). Correct the dates and export again.",
                value=repr(args[name][:20]),
            )
    known = {s.value for s in Status}
    if any(s not in known for s in args.getlist("status")):
        return i18n.gettext("One of the statuses asked for does not exist.")
    for name in ("doctor_id", "patient_id"):
        if args.get(name) and forms.uuid_or_none(args.get(name)) is None:
            return i18n.gettext("The doctor or patient asked for is not a valid id.")
    return None


def _cell(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_START) else text


@bp.get("/appointments/export.csv")
def appointments_csv() -> Response:
    """The appointment list's filtered range, every matching row, as a CSV file."""
    problem = _bad_filters()
    if problem:
        abort(422, description=problem)
    where, shown = list_filters()
    tz = services().tz
    rows = q.export_appointments(services().query_engine, where, tz=tz, limit=MAX_CSV_ROWS)
    if rows is None:
        abort(
            422,
            description=i18n.gettext(
                "More than %(most)s appointments match: narrow the dates and export again.",
                most=i18n.number(MAX_CSV_ROWS),
            ),
        )
    labels = {s: i18n.status_label(s) for s in Status}
    out = io.StringIO()
    out.write("\ufeff")  # the BOM that makes Excel read UTF-8 (accents) correctly
    writer = csv.writer(out)
    writer.writerow(
        [
            i18n.gettext("Date"),
            i18n.gettext("Start"),
            i18n.gettext("End"),
            i18n.gettext("Doctor"),
            i18n.gettext("Patient"),
            i18n.gettext("Phone"),
            i18n.gettext("Reason"),
            i18n.gettext("Status"),
            i18n.gettext("Appointment id"),
        ]
    )
    for row in rows:
        starts, ends = row.starts_at.astimezone(tz), row.ends_at.astimezone(tz)
        writer.writerow(
            [
                starts.date().isoformat(),
                starts.strftime("%H:%M"),
                ends.strftime("%H:%M"),
                _cell(row.doctor_name),
                _cell(row.patient_name),
                row.patient_phone,
                _cell(row.title),
                labels[row.status],
                str(row.appointment_id),
            ]
        )
    span = "-".join(filter(None, (shown["from"], shown["to"]))) or "all"
    response = Response(out.getvalue(), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f"attachment; filename=appointments-{span}.csv"
    return response


def _not_found() -> Response:
    # The same few bytes for a wrong token, a reset one and an unknown doctor.
    return Response("Not found\n", status=404, mimetype="text/plain")


def feed(doctor_id: UUID, token: str) -> Response:
    """A doctor's appointments as an iCalendar feed, for a phone calendar to subscribe to:
    no session, the secret in the address is the key."""
    app = services()
    if not app.feeds.verify(doctor_id, token):
        return _not_found()
    now = app.bus.clock()
    since, until = now - FEED_PAST, now + FEED_AHEAD
    found = doctor_feed(app.query_engine, doctor_id, since=since, until=until)
    if found is None:
        return _not_found()
    tz = app.tz
    calendar = Calendar.new(
        prodid="-//Rendezvous//Doctor calendar feed//EN", name=found.doctor_name
    )
    # `name` writes NAME and X-WR-CALNAME (the one Apple and Google read).
    calendar.add("X-WR-TIMEZONE", str(tz))
    for row in found.appointments:
        event = Event.new(
            uid=f"{row.appointment_id}@rendezvous",
            sequence=row.version,
            start=row.starts_at.astimezone(tz),
            end=row.ends_at.astimezone(tz),
            stamp=row.changed_at.astimezone(UTC),
            # The patient's name only: the reason, phone and birth date stay in the app
            # (docs/exports.md, privacy). The link leads back there, behind sign-in.
            summary=row.patient_name,
            status=FEED_STATUS.get(row.status, STATUS.CONFIRMED),
            url=url_for("appointments.detail", appointment_id=row.appointment_id, _external=True),
        )
        calendar.add_component(event)
    # The zone's rules for the window only, built by the library from zoneinfo.
    calendar.add_missing_timezones(
        first_date=(since - timedelta(days=1)).date(), last_date=(until + timedelta(days=1)).date()
    )
    return Response(calendar.to_ical(), content_type="text/calendar; charset=utf-8")


@bp.post("/doctors/<uuid:doctor_id>/calendar-link")
def issue_feed(doctor_id: UUID) -> Response:
    """Create the doctor's subscription link, or reset it (the old address stops at once),
    and show the new one, this once."""
    access.require_own(doctor_id)
    app = services()
    doctor = agenda.doctor(app.query_engine, doctor_id)
    if doctor is None:
        abort(404, description=i18n.no_such("doctor"))
    token = app.feeds.issue(doctor_id, by=access.principal().actor)
    address = url_for("exports.feed", doctor_id=doctor_id, token=token, _external=True)
    return page("doctors/calendar_link.html", doctor=doctor, address=address)


def init_app(app: Flask) -> None:
    """Register the blueprint, and the feed under a rate limit of its own per address (on
    the app's limiter, which sign-in set up): a guessed token costs an attempt."""
    app.register_blueprint(bp)
    limited = sign_in_limiter(app).limit(
        lambda: current_app.config.get("FEED_LIMIT_PER_ADDRESS", "120 per minute"),
        scope="calendar-feed",
    )(feed)
    app.add_url_rule("/calendar/feeds/<uuid:doctor_id>/<token>.ics", "exports.feed", limited)
