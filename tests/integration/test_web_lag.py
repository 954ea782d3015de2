"""Pages and commands while the read model lags: the app has a broker that no worker listens
to, so commands commit to the event store and the read model never moves until the test
projects. A refusal on a record that exists is never "no such appointment", and an `expect`
in an address waits only for a change that happened to a record the user may see."""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass
from uuid import UUID

import pytest

from app.commands import RegisterDoctor, SetWorkingHours
from app.queries.freshness import projected_version

from ..clinic import WEEKDAYS, Clinic, open_clinic
from .projecting import catch_up
from .webclient import Staff, page_text

TODAY = "2027-01-11"  # the clock fixture's Monday, 08:00 in the clinic
WAIT = 4.0  # READ_YOUR_WRITES_SECONDS here: long enough that a wait cannot pass unseen


@dataclass
class Lagging:
    app: object
    services: object
    clinic: Clinic
    other: Clinic  # another doctor's

    def unprojected(self, starts: str = f"{TODAY} 09:00", clinic: Clinic | None = None) -> UUID:
        """An appointment booked now: in the store, not in the read model."""
        appointment = (clinic or self.clinic).book(starts)
        assert projected_version(self.services.read_engine, "appointment", appointment) is None
        return appointment

    def projected(self, starts: str, clinic: Clinic | None = None) -> UUID:
        appointment = (clinic or self.clinic).book(starts)
        catch_up(self.services.projector)
        return appointment


@pytest.fixture
def lagging(brokered_app, clock):
    app = brokered_app(
        READ_YOUR_WRITES_SECONDS=WAIT,
        FRESHNESS_CACHE_SECONDS=3600,  # "shown as of…" is not what these tests compare
    )
    services = app.extensions["rendezvous"]
    services.bus.clock = services.projector.clock = clock
    clinic = open_clinic(services.bus)
    lee = services.bus.handle(RegisterDoctor(full_name="Dr Lee", specialty="Dermatology"))
    services.bus.handle(SetWorkingHours(doctor_id=lee.stream_id, hours=WEEKDAYS, slot_minutes=15))
    catch_up(services.projector)
    return Lagging(app, services, clinic, Clinic(services.bus, lee.stream_id, clinic.patient_ids))


def _timed(call):  # type: ignore[no-untyped-def]
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def _main(response) -> str:  # type: ignore[no-untyped-def]
    """The page's content region, without the per-request form tokens."""
    text = page_text(response)
    found = re.search(r"<main.*</main>", text, re.S)
    body = found.group(0) if found else text
    return re.sub(r'name="(csrf_token|command_id)" value="[^"]*"', "", body)


# -- 7: a refusal on an appointment not projected yet --


def test_a_stale_confirm_on_an_appointment_not_projected_yet_is_409_naming_what_changed(lagging):
    desk = Staff(lagging.app, "reception")
    appointment = lagging.unprojected()
    before = lagging.services.store.count()
    first = desk.post(f"/appointments/{appointment}/confirm", {"expected_version": "1"})
    assert first.status_code == 303  # the store has it: the command is taken
    again = desk.post(f"/appointments/{appointment}/confirm", {"expected_version": "1"})
    assert again.status_code == 409, page_text(again)
    page = page_text(again)
    assert "Changed meanwhile" in page and "confirmed" in page.lower()
    assert "There is no appointment" not in page
    # The same from a row, with htmx: into the message area, since there is no row to show.
    stale = desk.post(
        f"/appointments/{appointment}/cancel",
        {"expected_version": "1", "reason": "Asked", "context": "list"},
        htmx="list",
    )
    assert stale.status_code == 409
    assert stale.headers["HX-Retarget"] == "#flash"
    assert "Changed meanwhile" in page_text(stale)
    assert lagging.services.store.count() == before + 1  # only the first confirm wrote
    assert projected_version(lagging.services.read_engine, "appointment", appointment) is None


def test_an_action_from_a_row_not_projected_yet_leads_to_its_updating_page(lagging):
    desk = Staff(lagging.app, "reception")
    appointment = lagging.unprojected()
    done = desk.post(
        f"/appointments/{appointment}/confirm",
        {"expected_version": "1", "context": "list"},
        method="PUT",
        htmx="list",
    )
    assert done.status_code == 204
    target = done.headers["HX-Redirect"]
    assert target.startswith(f"/appointments/{appointment}?expect=appointment")
    assert "Appointment saved" in page_text(desk.get(target))


def test_the_reschedule_form_of_a_just_booked_appointment_says_updating(lagging):
    desk = Staff(lagging.app, "reception")
    appointment = lagging.unprojected()
    response = desk.get(f"/appointments/{appointment}/reschedule")
    assert response.status_code == 200
    assert "Appointment saved" in page_text(response) and "updating" in page_text(response)
    catch_up(lagging.services.projector)
    form = page_text(desk.get(f"/appointments/{appointment}/reschedule"))
    assert 'name="starts_at"' in form
    unknown = uuid.uuid4()
    assert desk.get(f"/appointments/{unknown}/reschedule").status_code == 404
    refused = desk.post(f"/appointments/{unknown}/confirm", {"expected_version": "1"})
    assert refused.status_code == 404
    assert "There is no appointment with that id." in page_text(refused)


# -- 10: `expect` is no oracle and no worker trap --


def test_an_expectation_of_an_unknown_record_or_version_answers_as_a_met_one(lagging):
    desk = Staff(lagging.app, "reception")
    shown = lagging.projected(f"{TODAY} 10:00")
    for page in ("/", "/appointments", f"/appointments/{shown}"):
        answers = []
        for expect in (f"appointment:{shown}:1", f"appointment:{uuid.uuid4()}:1",
                       f"appointment:{shown}:99", f"patient:{shown}:1"):  # fmt: skip
            response, took = _timed(lambda: desk.get(f"{page}?expect={expect}"))  # noqa: B023
            assert took < WAIT, f"{page} waited for {expect}"
            answers.append((response.status_code, _main(response)))
        assert all(answer == answers[0] for answer in answers), page
        assert "updating" not in answers[0][1]
    row = page_text(
        desk.htmx_get(f"/appointments/{shown}/row?expect=appointment:{shown}:99", "row")
    )
    assert "every 1s" not in row  # no poll for a version that never happened


def test_a_page_waits_only_for_the_record_it_shows_and_once(lagging):
    desk = Staff(lagging.app, "reception")
    shown = lagging.projected(f"{TODAY} 10:00")
    elsewhere = lagging.unprojected(f"{TODAY} 11:00")
    # A page of one appointment does not wait for another one.
    response, took = _timed(
        lambda: desk.get(f"/appointments/{shown}?expect=appointment:{elsewhere}:1")
    )
    assert took < WAIT and "updating" not in page_text(response)
    # A real change, not projected yet, of a record the user may see: one bounded wait,
    # however many times the address names it.
    many = "&".join(f"expect=appointment:{elsewhere}:1" for _ in range(20))
    response, took = _timed(lambda: desk.get(f"/appointments?{many}"))
    assert WAIT <= took < 2 * WAIT
    assert "Your change is saved; updating" in page_text(response)


def test_a_doctor_learns_nothing_from_expecting_another_doctors_appointment(lagging):
    doctor = Staff(lagging.app, "doctor", lagging.clinic.doctor_id)
    theirs = lagging.unprojected(f"{TODAY} 10:00", clinic=lagging.other)
    unknown = uuid.uuid4()
    for page in ("/", "/appointments"):
        answers = []
        for record in (theirs, unknown):
            response, took = _timed(lambda: doctor.get(f"{page}?expect=appointment:{record}:1"))  # noqa: B023
            assert took < WAIT, f"{page} waited for another doctor's appointment"
            answers.append((response.status_code, _main(response)))
        assert answers[0] == answers[1], page
    # Their appointment's own page: refused before any wait, as an unknown id is.
    catch_up(lagging.services.projector)
    for record in (theirs, unknown):
        response, took = _timed(
            lambda: doctor.get(f"/appointments/{record}?expect=appointment:{record}:1")  # noqa: B023
        )
        assert response.status_code == 404 and took < WAIT
