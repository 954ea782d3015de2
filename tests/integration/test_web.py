"""The web app on the embedded default: pages for people, never a traceback."""

from __future__ import annotations

import re
import uuid
from datetime import datetime

from app import seed

from ..backends import make_app
from .webclient import signed_in_client


def test_every_screen_of_the_demo_clinic_renders_on_the_embedded_default(sqlite_app):
    seed.seed_demo(sqlite_app.extensions["rendezvous"], echo=lambda _: None)
    client = signed_in_client(sqlite_app)
    listing = client.get("/appointments?from=").get_data(as_text=True)
    appointment = re.search(r'data-appointment-id="([0-9a-f-]+)"', listing).group(1)
    patient = re.search(r'href="/patients/([0-9a-f-]+)"', listing).group(1)
    doctors = client.get("/doctors").get_data(as_text=True)
    doctor = re.search(r'href="/doctors/([0-9a-f-]+)', doctors).group(1)
    for url in ("/", "/appointments", "/appointments/new", f"/appointments/{appointment}",
                f"/appointments/{appointment}/reschedule", "/patients", f"/patients/{patient}",
                f"/doctors/{doctor}", f"/doctors/{doctor}?view=week"):  # fmt: skip
        response = client.get(url)
        assert response.status_code == 200, url
        assert "Traceback" not in response.get_data(as_text=True)


def test_the_calendar_on_the_embedded_default_shows_a_booking_at_once(sqlite_app):
    """SQLite gives every event the transaction id 0: the grid and the week the calendar
    keeps (app/web/calendar.py) still change with the next position."""
    from datetime import date, timedelta

    from app.commands import CreateAppointment
    from app.queries import directory

    from .projecting import catch_up

    services = sqlite_app.extensions["rendezvous"]
    seed.seed_demo(services, echo=lambda _: None)
    catch_up(services.projector)
    client = signed_in_client(sqlite_app)
    day = date.today() + timedelta(days=1)
    while day.weekday() >= 5:  # the demo doctors work on weekdays
        day += timedelta(days=1)
    grid = client.get(f"/calendar?day={day}").get_data(as_text=True)
    week = client.get(f"/calendar/week?start={day}").get_data(as_text=True)
    free = re.findall(r'data-free-start="([^"]+)" data-doctor-id="([^"]+)"', grid)
    assert free, "the demo clinic has free time on a weekday"
    start, doctor = free[-1]
    cell = re.search(rf'data-doctor-id="{doctor}" data-day="{day}" data-free="(\d+)"', week)
    assert cell, week
    patient = directory.search_patients(services.read_engine, "Jeanne Dupont")[0].patient_id
    booked = services.bus.handle(
        CreateAppointment(
            patient_id=patient,
            doctor_id=uuid.UUID(doctor),
            starts_at=datetime.fromisoformat(start).replace(tzinfo=services.tz),
            duration_minutes=15,
            title="From the grid",
        )
    )
    catch_up(services.projector)
    again = client.get(f"/calendar?day={day}").get_data(as_text=True)
    assert f'data-appointment-id="{booked.stream_id}"' in again
    assert f'data-free-start="{start}" data-doctor-id="{doctor}"' not in again
    week = client.get(f"/calendar/week?start={day}").get_data(as_text=True)
    assert f'data-doctor-id="{doctor}" data-day="{day}" data-free="{int(cell.group(1)) - 1}"' in (
        week
    )


def test_an_unknown_page_is_a_404_page(sqlite_app):
    response = signed_in_client(sqlite_app).get("/no/such/page")
    assert response.status_code == 404
    assert "Not Found" in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)


def test_a_dead_database_gives_a_503_page():
    # Nothing listens on port 1: the connection is refused at once.
    app = make_app(
        "postgresql+psycopg://nobody@127.0.0.1:1/none",
        SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"connect_timeout": 2}},
    )
    client = app.test_client()
    with client.session_transaction() as session:  # signed in: the account is looked up
        session["_user_id"] = f"{uuid.uuid4()}:0"
    for headers in ({}, {"HX-Request": "true"}):
        response = client.get("/appointments", headers=headers)
        assert response.status_code == 503
        page = response.get_data(as_text=True)
        assert "cannot be reached right now" in page and "Traceback" not in page
