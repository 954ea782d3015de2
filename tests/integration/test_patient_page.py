"""The patient's own page (issue 20): one appointment behind a signed link, Confirm and
Cancel as the patient's commands, and nothing a guess, a replay or an old link can abuse."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from flask import Flask

from app.commands import commands as c
from app.outbound.sender import patient_links

from ..clinic import local
from ..conftest import Clock
from .desk import Desk
from .webclient import page_text

INVALID = "This link cannot be used"


def _link(app: Flask, services: Any, appointment: uuid.UUID) -> str:
    """The path of the appointment's page, as the reminder sent now would carry it."""
    version = len(services.store.load(appointment))
    return "/p/" + patient_links(app).make(appointment, version)


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]


def _post(client: Any, path: str, csrf: str | None = None, **fields: str) -> Any:
    """Send a form of the page at `path` minus its action, with a CSRF token of the page's
    session (read from the page unless given: a page with no form left has none)."""
    if csrf is None:
        csrf = _csrf(client.get(path.rsplit("/", 1)[0]).get_data(as_text=True))
    return client.post(path, data={"csrf_token": csrf, **fields})


@pytest.fixture
def visit(app: Flask, desk: Desk) -> tuple[uuid.UUID, str]:
    """Tomorrow 09:00 (Tuesday 12 January 2027), pending, and its link."""
    bus = desk.services.bus
    bus.handle(
        c.SetClinicContact(
            clinic_name="Clinique du Parc",
            address="12 rue des Lilas, 75011 Paris",
            phone="01 43 00 00 00",
            what_to_bring="Your health card",
        )
    )
    appointment = desk.clinic.book("2027-01-12 09:00", title="Knee pain")
    desk.clinic.book("2027-01-19 10:00", title="Another visit")  # the same patient's
    return appointment, _link(app, desk.services, appointment)


def test_the_page_shows_that_appointment_and_nothing_else_of_the_patient(app, desk, visit):  # type: ignore[no-untyped-def]
    appointment, path = visit
    client = app.test_client()  # a phone: no staff session
    page = client.get(path)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f'data-appointment-id="{appointment}"' in html and 'data-status="pending"' in html
    text = html
    for shown in ("Tuesday 12 January 2027", "09:00", "Dr Ada Martin", "Knee pain",
                  "12 rue des Lilas", "Your health card", "Clinique du Parc"):  # fmt: skip
        assert shown in text, shown
    for hidden in ("Another visit", "1980", "06 12 34 56 78", "Patient 0"):
        assert hidden not in text, hidden
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert "noindex" in page.headers["X-Robots-Tag"]
    assert page.headers["Cache-Control"] == "no-store"
    assert '<meta name="robots" content="noindex, nofollow">' in html


def test_the_patient_confirms_and_the_desk_sees_it_on_today(app, desk, visit):  # type: ignore[no-untyped-def]
    appointment, path = visit
    client = app.test_client()
    html = client.get(path).get_data(as_text=True)
    command = re.search(r'name="command_id" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    fields = {"csrf_token": _csrf(html), "command_id": command, "version": "1"}
    done = client.post(f"{path}/confirm", data=fields)
    assert done.status_code == 303
    shown = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "your appointment is confirmed" in shown and 'data-status="confirmed"' in shown
    # The same form again (a double tap, a replay): one confirmation.
    assert client.post(f"{path}/confirm", data=fields).status_code == 303
    confirmations = [
        r for r in desk.services.store.load(appointment) if r.event_type == "AppointmentConfirmed"
    ]
    assert [r.actor for r in confirmations] == ["patient"]
    today = desk.staff.get("/?day=2027-01-12").get_data(as_text=True)
    row = re.search(rf'data-appointment-id="{appointment}".*?</tr>', today, re.S).group(0)  # type: ignore[union-attr]
    assert 'data-patient-answer="confirmed"' in row and "confirmed by the patient" in row


def test_the_patient_cancels_with_a_reason_or_without(app, desk, visit):  # type: ignore[no-untyped-def]
    appointment, path = visit
    client = app.test_client()
    csrf = _csrf(client.get(path).get_data(as_text=True))
    done = _post(client, f"{path}/cancel", csrf, version="1", reason="I have to work")
    assert done.status_code == 303
    assert 'data-status="cancelled"' in client.get(done.headers["Location"]).get_data(as_text=True)
    last = desk.services.store.load(appointment)[-1]
    assert (last.event_type, last.actor, last.event.reason) == (
        "AppointmentCancelled",
        "patient",
        "I have to work",
    )
    detail = desk.staff.get(f"/appointments/{appointment}").get_data(as_text=True)
    assert "cancelled by the patient" in detail and "I have to work" in detail
    # A cancelled appointment offers nothing more; a new command on it is refused.
    again = _post(client, f"{path}/cancel", csrf, version=str(last.version))
    assert again.status_code == 409
    assert len(desk.services.store.load(appointment)) == last.version
    other = desk.clinic.book("2027-01-13 09:00")
    link = _link(app, desk.services, other)
    assert _post(client, f"{link}/cancel", version="1").status_code == 303  # no reason


def test_every_link_that_leads_nowhere_gets_the_same_answer(app, desk, visit, clock: Clock):  # type: ignore[no-untyped-def]
    appointment, path = visit
    client = app.test_client()
    links = patient_links(app)
    token = path.removeprefix("/p/")
    forged = token[:-3] + ("abc" if token[-3:] != "abc" else "xyz")
    unknown = links.make(uuid.uuid4(), 1)  # signed, but for no appointment
    beyond = links.make(appointment, 99)  # a version it never had
    # Signed with another key: a link from another installation, or a guess.
    from app.outbound.links import PatientLinks

    foreign = PatientLinks("not the secret", 30).make(appointment, 1)
    answers = [client.get(f"/p/{t}") for t in (forged, unknown, beyond, foreign, "x", token[:20])]
    # Nor can one act, with a valid form in hand.
    csrf = _csrf(client.get(path).get_data(as_text=True))
    answers.append(client.post(f"/p/{forged}/confirm", data={"csrf_token": csrf, "version": "1"}))
    clock.advance(days=31)  # past PATIENT_LINK_DAYS
    answers.append(client.get(path))
    bodies = {page_text(a) for a in answers}
    assert {a.status_code for a in answers} == {404}
    assert len(bodies) == 1 and INVALID in bodies.pop()
    assert len(desk.services.store.load(appointment)) == 1


def test_a_link_acts_on_its_own_appointment_only(app, desk, visit):  # type: ignore[no-untyped-def]
    appointment, path = visit
    other = desk.clinic.book("2027-01-13 09:00", patient=1)
    client = app.test_client()
    # Whatever the form says, the link's appointment is the one confirmed.
    done = _post(client, f"{path}/confirm", version="1", appointment_id=str(other))
    assert done.status_code == 303
    assert desk.services.store.load(other)[-1].event_type == "AppointmentCreated"
    assert desk.services.store.load(appointment)[-1].event_type == "AppointmentConfirmed"


def test_an_old_link_after_a_move_shows_the_new_time_and_acts_on_nothing(app, desk, visit):  # type: ignore[no-untyped-def]
    appointment, path = visit
    desk.services.bus.handle(
        c.RescheduleAppointment(
            appointment_id=appointment,
            starts_at=local("2027-01-14 15:00"),
            duration_minutes=30,
            reason="Doctor away",
            confirmed=False,
        )
    )
    client = app.test_client()
    csrf = _csrf(client.get(_link(app, desk.services, appointment)).get_data(as_text=True))
    text = page_text(client.get(path))
    assert "has moved since this link was sent" in text
    assert "Thursday 14 January 2027" in text and "15:00" in text
    assert "Confirm my appointment" not in text and "Cancel my appointment" not in text
    before = len(desk.services.store.load(appointment))
    refused = _post(client, f"{path}/confirm", csrf, version=str(before))
    assert refused.status_code == 409
    assert "has moved" in page_text(refused)
    assert len(desk.services.store.load(appointment)) == before
    # The reminder for the new time carries a link that works.
    fresh = _link(app, desk.services, appointment)
    assert _post(client, f"{fresh}/confirm", version=str(before)).status_code == 303


def test_a_page_left_open_while_the_desk_acted_gets_a_conflict(app, desk, visit):  # type: ignore[no-untyped-def]
    appointment, path = visit
    client = app.test_client()
    html = client.get(path).get_data(as_text=True)
    desk.services.bus.handle(c.CancelAppointment(appointment_id=appointment, reason="Duplicate"))
    refused = client.post(
        f"{path}/confirm",
        data={"csrf_token": _csrf(html), "version": "1", "command_id": str(uuid.uuid4())},
    )
    assert refused.status_code == 409
    text = page_text(refused)
    assert "Cancelled" in text and "Confirm my appointment" not in text
    assert desk.services.store.load(appointment)[-1].event_type == "AppointmentCancelled"


def test_markup_in_the_clinics_name_is_shown_as_text(app, desk, visit):  # type: ignore[no-untyped-def]
    _, path = visit
    desk.services.bus.handle(
        c.SetClinicContact(clinic_name='<script>alert("x")</script> Parc', address="<b>1 rue</b>")
    )
    html = app.test_client().get(path).get_data(as_text=True)
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html
    assert "<b>1 rue</b>" not in html


def test_too_many_requests_for_a_link_are_answered_429(app, desk, visit):  # type: ignore[no-untyped-def]
    _, path = visit
    saved = app.config["PATIENT_LIMIT_PER_LINK"]
    app.config["PATIENT_LIMIT_PER_LINK"] = "3 per minute"
    try:
        client = app.test_client()
        answers = [client.get(path).status_code for _ in range(4)]
    finally:
        app.config["PATIENT_LIMIT_PER_LINK"] = saved
    assert answers == [200, 200, 200, 429]


def test_the_page_speaks_the_patients_language(app, desk, visit):  # type: ignore[no-untyped-def]
    appointment, path = visit
    patient = desk.services.store.load(appointment)[0].event.patient_id
    desk.services.bus.handle(c.SetPatientReminders(patient_id=patient, language="fr"))
    client = app.test_client()
    html = client.get(path).get_data(as_text=True)
    assert '<html lang="fr">' in html and "Mardi 12 janvier 2027" in html
    assert '<html lang="en">' in client.get(path + "?lang=en").get_data(as_text=True)
