"""First available (/calendar/first-available) on real PostgreSQL: across days, by
specialty, by part of the day and duration, the horizon's message, bad input, roles."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from app.commands import CreateAppointment, RegisterDoctor, SetWorkingHours
from app.queries.first_free import first_free

from ..clinic import local
from ..conftest import CLINIC_TZ
from .desk import TODAY, Desk
from .webclient import page_text

SHORT = {d: [["09:00", "10:00"], ["14:00", "15:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
PATH = "/calendar/first-available"


def _doctor(desk: Desk, name: str, specialty: str = "Dermatology") -> str:
    bus = desk.services.bus
    doctor = bus.handle(RegisterDoctor(full_name=name, specialty=specialty, slot_minutes=30))
    bus.handle(SetWorkingHours(doctor_id=doctor.stream_id, hours=SHORT, slot_minutes=30))
    return str(doctor.stream_id)


def _book_week(desk: Desk, doctor_id: str, monday: date) -> None:
    """Every slot of the doctor's week from `monday`."""
    for n in range(5):
        day = monday + timedelta(days=n)
        for clock in ("09:00", "09:30", "14:00", "14:30"):
            desk.services.bus.handle(
                CreateAppointment(
                    patient_id=desk.clinic.patient_ids[0],
                    doctor_id=doctor_id,
                    starts_at=local(f"{day} {clock}"),
                    duration_minutes=30,
                    title="Check-up",
                )
            )


@pytest.fixture
def booked(desk: Desk) -> str:
    doctor = _doctor(desk, "Dr Camille Martin")
    _book_week(desk, doctor, date.fromisoformat(TODAY))
    return doctor


def _items(html: str) -> list[str]:
    return [
        re.sub(r"<[^>]+>", "", li).strip()
        for li in re.findall(r"<li>(.*?)</li>", html, re.S)
        if "min)" in li
    ]


def test_a_week_fully_booked_gives_the_next_weeks_first_times(desk, booked):
    html = page_text(desk.staff.get(f"{PATH}?doctor_id={booked}&day={TODAY}&count=3"))
    assert _items(html) == [
        "Monday 18 January at 09:00 \N{EN DASH} Dr Camille Martin (30 min)",
        "Monday 18 January at 09:30 \N{EN DASH} Dr Camille Martin (30 min)",
        "Monday 18 January at 14:00 \N{EN DASH} Dr Camille Martin (30 min)",
    ]
    link = re.search(r'<a href="(/appointments/new\?[^"]+)">Monday 18 January at 09:00', html)
    assert link, "no booking link"
    form = page_text(desk.staff.get(link.group(1).replace("&amp;", "&")))
    assert re.search(r'name="starts_at" value="2027-01-18T09:00" required checked', form)
    assert re.search(r'name="duration_minutes" type="number" value="30"', form)


def test_a_specialty_merges_its_doctors_by_time_then_name(desk, booked):
    other = _doctor(desk, "Dr Bruno Aubert")
    _book_week(desk, other, date.fromisoformat(TODAY))
    html = page_text(desk.staff.get(f"{PATH}?specialty=Dermatology&day={TODAY}&count=3"))
    assert _items(html) == [
        "Monday 18 January at 09:00 \N{EN DASH} Dr Bruno Aubert (30 min)",
        "Monday 18 January at 09:00 \N{EN DASH} Dr Camille Martin (30 min)",
        "Monday 18 January at 09:30 \N{EN DASH} Dr Bruno Aubert (30 min)",
    ]


def test_the_afternoon_and_a_longer_visit(desk, booked):
    html = page_text(
        desk.staff.get(f"{PATH}?doctor_id={booked}&day={TODAY}&part=afternoon&minutes=60&count=2")
    )
    assert _items(html) == [
        "Monday 18 January at 14:00 \N{EN DASH} Dr Camille Martin (60 min)",
        "Tuesday 19 January at 14:00 \N{EN DASH} Dr Camille Martin (60 min)",
    ]
    html = page_text(desk.staff.get(f"{PATH}?doctor_id={booked}&day={TODAY}&part=morning&count=1"))
    assert _items(html) == ["Monday 18 January at 09:00 \N{EN DASH} Dr Camille Martin (30 min)"]


def test_nothing_in_the_horizon_says_so(desk):
    doctor = _doctor(desk, "Dr Nadia Roux")
    html = page_text(desk.staff.get(f"{PATH}?doctor_id={doctor}&day={TODAY}&minutes=90"))
    assert "No free time with Dr Nadia Roux in the 90 days from Monday 11 January." in html


def test_the_query_searches_across_chunks_in_few_queries(desk, booked):
    engine = desk.services.read_engine
    now = desk.services.bus.clock()
    found = first_free(
        engine,
        doctor_id=booked,
        from_day=date.fromisoformat(TODAY),
        tz=CLINIC_TZ,
        now=now,
        count=50,
        chunk_days=3,
    )
    assert len(found.times) == 50
    assert found.times[0].starts_at == local("2027-01-18 09:00")
    assert found.times == sorted(found.times, key=lambda f: f.starts_at)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("day=2027-01-11", "Choose a doctor or a specialty."),
        ("doctor_id=00000000-0000-0000-0000-000000000000", "There is no such doctor."),
        ("doctor_id=nonsense", "There is no such doctor."),
        ("specialty=Astrology", "No doctor has that specialty."),
        ("specialty=Dermatology&minutes=300", "The duration must be between 5 and 240 minutes."),
        ("specialty=Dermatology&minutes=ten", "The duration must be between 5 and 240 minutes."),
        ("specialty=Dermatology&day=11/01/2027", "Write the day as a date"),
        ("specialty=Dermatology&part=evening", "Choose any time, the morning or the afternoon."),
    ],
)
def test_bad_input_is_422_with_its_message_and_writes_nothing(desk, booked, query, message):
    before = desk.events()
    response = desk.staff.get(f"{PATH}?{query}")
    assert response.status_code == 422
    html = page_text(response)
    assert message in html
    assert "min)</a>" not in html  # no search ran
    assert desk.events() == before


def test_the_booking_form_links_to_the_search(desk, booked):
    html = page_text(
        desk.staff.get(
            f"/appointments/new?doctor_id={booked}&day={TODAY}&duration_minutes=45&duration_for={booked}"
        )
    )
    assert f"/calendar/first-available?doctor_id={booked}&amp;day={TODAY}&amp;minutes=45" in html
    assert "Find the next free time" in html


def test_the_search_reads_both_backends(services, clinic):  # type: ignore[no-untyped-def]
    """On SQLite (`make run`) times come back naive: the search still compares them."""
    from .projecting import catch_up

    clinic.book("2027-01-11T09:00", minutes=15)
    catch_up(services.projector)
    found = first_free(
        services.read_engine,
        doctor_id=clinic.doctor_id,
        from_day=date(2027, 1, 11),
        tz=CLINIC_TZ,
        now=services.bus.clock(),
        count=1,
    )
    assert [t.starts_at for t in found.times] == [local("2027-01-11T09:15")]
