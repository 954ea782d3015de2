"""The web app on the embedded default: pages for people, never a traceback."""

from __future__ import annotations

import re
import uuid

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
