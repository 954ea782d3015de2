"""The calendar on PostgreSQL: the day grid's free cells and blocks, the week's capacity,
the printed day sheet, and a doctor's own column."""

from __future__ import annotations

import contextlib
import re
import uuid
from datetime import date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.commands import (
    CancelAppointment,
    ConfirmAppointment,
    CreateAppointment,
    RegisterDoctor,
    SetWorkingHours,
)

from ..conftest import CLINIC_TZ
from .desk import TODAY, Desk
from .projecting import catch_up

FREE = re.compile(r'data-free-start="([^"]+)" data-doctor-id="([^"]+)"')
BLOCK = re.compile(r'data-appointment-id="([^"]+)" data-status="([^"]+)"')


def local(day: str, clock: str) -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=CLINIC_TZ)


def grid(desk: Desk, query: str = f"day={TODAY}") -> str:
    catch_up(desk.services.projector)
    response = desk.staff.get(f"/calendar?{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


def free_starts(html: str, doctor: uuid.UUID) -> list[str]:
    return [start for start, of in FREE.findall(html) if of == str(doctor)]


class TestDayGrid:
    def test_free_cells_are_the_doctor_s_slots_minus_what_is_booked(self, desk: Desk):
        booked = desk.clinic.book(f"{TODAY}T09:30", minutes=30)
        html = grid(desk)
        starts = free_starts(html, desk.clinic.doctor_id)
        # 15-minute slots from 09:00 to 12:00 and 14:00 to 18:00, the clock at 08:00.
        assert starts[:3] == [f"{TODAY}T09:00", f"{TODAY}T09:15", f"{TODAY}T10:00"]
        assert f"{TODAY}T09:30" not in starts and f"{TODAY}T09:45" not in starts
        assert f"{TODAY}T12:00" not in starts and f"{TODAY}T14:00" in starts
        assert len(starts) == 12 + 16 - 2
        assert (str(booked), "pending") in BLOCK.findall(html)
        # A free cell books that time with the doctor, for the doctor's slot length.
        link = re.search(rf'data-free-start="{TODAY}T09:00"[^>]* href="([^"]+)"', html)
        assert link, "the first free cell is not a link"
        asked = parse_qs(urlsplit(link.group(1).replace("&amp;", "&")).query)
        assert asked["doctor_id"] == [str(desk.clinic.doctor_id)] and asked["day"] == [TODAY]
        assert asked["starts_at"] == [f"{TODAY}T09:00"] and asked["duration_minutes"] == ["15"]
        # Rows run from the earliest start to the latest end, lunch shaded as off.
        assert ">09:00</th>" in html and ">17:45</th>" in html and ">18:00</th>" not in html
        assert 'class="off"' in html

    def test_a_cancelled_appointment_frees_its_time_and_is_counted_aside(self, desk: Desk):
        booked = desk.clinic.book(f"{TODAY}T10:00", minutes=15)
        desk.services.bus.handle(CancelAppointment(appointment_id=booked, reason="Ill"))
        html = grid(desk)
        assert f"{TODAY}T10:00" in free_starts(html, desk.clinic.doctor_id)
        assert str(booked) not in html
        assert "1 cancelled or missed" in html

    def test_a_block_is_labelled_by_status_not_by_colour_alone(self, desk: Desk):
        booked = desk.clinic.book(f"{TODAY}T11:00", minutes=45)
        desk.services.bus.handle(ConfirmAppointment(appointment_id=booked))
        html = grid(desk)
        block = html[html.index(f'data-appointment-id="{booked}"') :][:800]
        assert 'data-status="confirmed"' in block and "Confirmed" in block
        assert "11:00\u201311:45" in block and "Patient 0" in block
        # Three rows of 15 minutes.
        cell = html[: html.index(f'data-appointment-id="{booked}"')]
        assert cell[cell.rindex("<td") :].startswith('<td rowspan="3" class="booked">')

    def test_filters_narrow_the_columns_to_a_specialty_or_a_doctor(self, desk: Desk):
        bus = desk.services.bus
        other = bus.handle(RegisterDoctor(full_name="Dr Zoé Petit", specialty="Paediatrics"))
        bus.handle(
            SetWorkingHours(
                doctor_id=other.stream_id, hours={"mon": [["13:00", "15:00"]]}, slot_minutes=30
            )
        )
        html = grid(desk)
        assert f'data-doctor-id="{other.stream_id}"' in html
        assert ">13:00</th>" in html  # a row the other doctor alone works, from 09:00 on
        only = grid(desk, f"day={TODAY}&specialty=Paediatrics")
        assert free_starts(only, other.stream_id)[0] == f"{TODAY}T13:00"
        assert not free_starts(only, desk.clinic.doctor_id)
        assert ">09:00</th>" not in only  # the rows follow the doctors shown
        one = grid(desk, f"day={TODAY}&doctor_id={desk.clinic.doctor_id}")
        assert free_starts(one, desk.clinic.doctor_id) and not free_starts(one, other.stream_id)

    def test_a_day_nobody_works_says_so(self, desk: Desk):
        html = grid(desk, "day=2027-01-16")  # a Saturday
        assert "works on" in html and "data-free-start" not in html

    def test_the_past_offers_no_free_cell(self, desk: Desk):
        html = grid(desk, "day=2027-01-04")  # a week before the clock
        assert "data-free-start" not in html

    def test_a_bad_day_or_doctor_shows_today_for_everyone(self, desk: Desk):
        html = grid(desk, "day=2027-02-31&doctor_id=nope&page=x")
        assert free_starts(html, desk.clinic.doctor_id)[0] == f"{TODAY}T09:00"

    def test_htmx_navigation_gets_the_grid_alone(self, desk: Desk):
        response = desk.staff.get(
            f"/calendar?day={TODAY}", headers={"HX-Request": "true", "HX-Target": "calendar"}
        )
        html = response.get_data(as_text=True)
        assert html.lstrip().startswith('<section id="calendar"') or 'id="calendar"' in html
        assert "<html" not in html and "data-free-start" in html


class TestWeekCapacity:
    def test_cells_count_booked_and_free_slots_per_day(self, desk: Desk):
        desk.clinic.book(f"{TODAY}T09:00", minutes=30)  # two 15-minute slots
        desk.clinic.book("2027-01-12T14:00", minutes=15)
        cancelled = desk.clinic.book("2027-01-12T15:00", minutes=15)
        desk.services.bus.handle(CancelAppointment(appointment_id=cancelled, reason="Moved"))
        catch_up(desk.services.projector)
        html = desk.staff.get(f"/calendar/week?start={TODAY}").get_data(as_text=True)
        doctor = desk.clinic.doctor_id

        def cell(day: str) -> tuple[str, str]:
            attrs = rf'data-doctor-id="{doctor}" data-day="{day}" data-free="(\d+)"'
            found = re.search(attrs + r' data-booked="(\d+)"', html)
            assert found, day
            return found.group(1), found.group(2)

        assert cell(TODAY) == ("26", "1")  # 28 slots, two taken by one appointment
        assert cell("2027-01-12") == ("27", "1")  # the cancelled one frees its slot
        assert cell("2027-01-16") == ("0", "0") and "not working" in html  # Saturday
        footer = re.search(rf'<td data-day="{TODAY}" data-free="(\d+)">', html)
        assert footer and footer.group(1) == "26"
        assert f"/calendar?day={TODAY}&amp;doctor_id={doctor}" in html

    def test_the_week_starts_on_monday_unless_asked(self, desk: Desk):
        # The clock's day is a Monday; a Wednesday asked for starts the seven days there.
        html = desk.staff.get("/calendar/week").get_data(as_text=True)
        assert re.findall(r'<th scope="col"[^>]*>([^<]+)</th>', html)[1].startswith("Mon")
        assert f'data-day="{TODAY}"' in html and 'data-day="2027-01-17"' in html
        html = desk.staff.get("/calendar/week?start=2027-01-13").get_data(as_text=True)
        assert 'data-day="2027-01-19"' in html and f'data-day="{TODAY}"' not in html


class TestDaySheet:
    def test_prints_each_doctor_with_phone_birth_reason_and_status(self, desk: Desk):
        booked = desk.clinic.book(f"{TODAY}T09:00", minutes=15)
        catch_up(desk.services.projector)
        html = desk.staff.get(f"/calendar?day={TODAY}&print=1").get_data(as_text=True)
        row = html[html.index(f'data-appointment-id="{booked}"') :][:700]
        assert "09:00\u201309:15" in row and "Patient 0" in row and "06 12 34 56 78" in row
        assert "3 Feb 1980" in row or "03 Feb 1980" in row
        assert "Check-up" in row and "Pending" in row
        assert 'class="sheet-page"' in html


class TestADoctor:
    def test_sees_their_own_column_whatever_the_filters(self, app, desk: Desk):
        from .webclient import Staff

        bus = desk.services.bus
        other = bus.handle(RegisterDoctor(full_name="Dr Zoé Petit", specialty="Paediatrics"))
        bus.handle(
            SetWorkingHours(
                doctor_id=other.stream_id, hours={"mon": [["09:00", "10:00"]]}, slot_minutes=30
            )
        )
        catch_up(desk.services.projector)
        doctor = Staff(app, "doctor", doctor_id=desk.clinic.doctor_id)
        html = doctor.get(f"/calendar?day={TODAY}&doctor_id={other.stream_id}").get_data(
            as_text=True
        )
        assert f'data-doctor-id="{desk.clinic.doctor_id}"' in html
        assert f'data-doctor-id="{other.stream_id}"' not in html
        # Free times shown, not offered: a doctor does not book.
        assert "data-free-start" in html and "/appointments/new?" not in html


class TestAGridKeptBetweenRequests:
    """Grids and weeks are kept while the read models are unchanged (app/web/calendar.py):
    never once they have changed, nor for another minute, language or right to book."""

    def test_a_change_shows_at_once(self, desk: Desk):
        first = grid(desk)
        assert f"{TODAY}T10:00" in free_starts(first, desk.clinic.doctor_id)
        booked = desk.clinic.book(f"{TODAY}T10:00", minutes=15)
        html = grid(desk)
        assert (str(booked), "pending") in BLOCK.findall(html)
        assert f"{TODAY}T10:00" not in free_starts(html, desk.clinic.doctor_id)
        desk.services.bus.handle(ConfirmAppointment(appointment_id=booked))
        assert (str(booked), "confirmed") in BLOCK.findall(grid(desk))
        week = desk.staff.get(f"/calendar/week?start={TODAY}").get_data(as_text=True)
        assert f'data-day="{TODAY}" data-free="27" data-booked="1"' in week
        desk.services.bus.handle(CancelAppointment(appointment_id=booked, reason="Ill"))
        catch_up(desk.services.projector)
        week = desk.staff.get(f"/calendar/week?start={TODAY}").get_data(as_text=True)
        assert f'data-day="{TODAY}" data-free="28" data-booked="0"' in week

    def test_time_passing_takes_the_free_cells_it_leaves_behind(self, desk: Desk, clock):
        assert f"{TODAY}T09:00" in free_starts(grid(desk), desk.clinic.doctor_id)
        clock.set_local(f"{TODAY} 09:00:30")  # nothing written since: the same read models
        starts = free_starts(grid(desk), desk.clinic.doctor_id)
        assert f"{TODAY}T09:00" not in starts and starts[0] == f"{TODAY}T09:15"

    def test_each_language_and_right_to_book_has_its_own(self, app, desk: Desk):
        from .webclient import Staff

        english = grid(desk)
        assert "free: book with" in english
        french = Staff(app, "admin", locale="fr").get(f"/calendar?day={TODAY}")
        assert "libre\u00a0: réserver avec" in french.get_data(as_text=True)
        doctor = Staff(app, "doctor", doctor_id=desk.clinic.doctor_id)
        html = doctor.get(f"/calendar?day={TODAY}").get_data(as_text=True)
        assert "data-free-start" in html and "/appointments/new?" not in html
        assert "/appointments/new?" in grid(desk)

    def test_text_from_the_records_is_escaped(self, desk: Desk):
        from app.commands import RegisterPatient

        patient = desk.services.bus.handle(
            RegisterPatient(
                full_name="<b>Eve</b> & Co", date_of_birth="1980-02-03", phone="0612345679"
            )
        )
        desk.services.bus.handle(
            CreateAppointment(
                patient_id=patient.stream_id,
                doctor_id=desk.clinic.doctor_id,
                starts_at=local(TODAY, "11:00"),
                duration_minutes=15,
                title='"Quoted" <i>reason</i>',
            )
        )
        html = grid(desk)
        assert "&lt;b&gt;Eve&lt;/b&gt; &amp; Co" in html and "<b>Eve" not in html
        assert "&lt;i&gt;reason&lt;/i&gt;" in html and "<i>reason" not in html


# -- the grid and the booking check agree --

BOOKINGS = st.lists(
    st.tuples(st.integers(0, 8 * 12), st.integers(2, 12)),  # 5-minute steps from 09:00
    max_size=10,
)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    slot=st.sampled_from([15, 20, 30]),
    afternoon=st.sampled_from(["14:00", "14:10", "13:30"]),
    bookings=BOOKINGS,
)
def test_every_free_cell_can_be_booked_and_every_block_is_refused_again(
    desk: Desk, slot: int, afternoon: str, bookings: list[tuple[int, int]]
) -> None:
    """Whatever the bookings (on any 5-minute boundary, of any length), a free cell of the
    grid is a time the booking check accepts for the doctor's slot length, and the time of
    every block is a time it refuses."""
    from app.domain.errors import DomainError, SlotTakenError
    from app.queries.calendar import day_grid, doctors_for

    services, clinic = desk.services, desk.clinic
    bus = services.bus
    doctor = bus.handle(RegisterDoctor(full_name=f"Dr {uuid.uuid4().hex[:6]}", specialty="GP"))
    hours = {"mon": [["09:00", "12:00"], [afternoon, "17:00"]]}
    bus.handle(SetWorkingHours(doctor_id=doctor.stream_id, hours=hours, slot_minutes=slot))
    day = date.fromisoformat(TODAY)
    for step, length in bookings:
        # Taken or outside the hours: the grid is drawn from what was accepted.
        with contextlib.suppress(DomainError):
            bus.handle(
                CreateAppointment(
                    patient_id=clinic.patient_ids[0],
                    doctor_id=doctor.stream_id,
                    starts_at=local(TODAY, "09:00") + timedelta(minutes=5 * step),
                    duration_minutes=5 * length,
                    title="Visit",
                )
            )
    catch_up(services.projector)
    doctors = doctors_for(services.read_engine, doctor_id=doctor.stream_id).doctors
    grid = day_grid(services.read_engine, doctors, day, tz=services.tz, now=bus.clock())
    cells = [cell for cell in grid.columns[0].cells if cell is not None]
    blocks = [a for cell in cells if cell.kind == "booked" for a in cell.appointments]
    free = [cell for cell in cells if cell.kind == "free"]
    for appointment in blocks:
        with pytest.raises(SlotTakenError):
            bus.handle(
                CreateAppointment(
                    patient_id=clinic.patient_ids[1],
                    doctor_id=doctor.stream_id,
                    starts_at=appointment.starts_at,
                    duration_minutes=appointment.duration_minutes,
                    title="Again",
                )
            )
    for cell in free:
        bus.handle(
            CreateAppointment(
                patient_id=clinic.patient_ids[1],
                doctor_id=doctor.stream_id,
                starts_at=cell.starts_at,
                duration_minutes=slot,
                title="From a free cell",
            )
        )
