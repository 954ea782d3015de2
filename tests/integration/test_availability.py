"""Availability as a clinic lives it (issue 17): absences, one-off hours, closures, opening
hours and visit types refuse bookings in the same transaction as every other rule, on both
backends; an absence over booked appointments puts them on the call list, which the desk
works through; a booking racing an absence on PostgreSQL is never left inside it untold."""

from __future__ import annotations

import contextlib
import re
import threading
import uuid
from datetime import timedelta

import pytest

from app.commands import (
    CancelAbsence,
    CancelAppointment,
    ChangeAbsence,
    CloseClinic,
    CreateAppointment,
    DefineVisitType,
    RecordAbsence,
    RegisterDoctor,
    RescheduleAppointment,
    RetireVisitType,
    SetClinicHours,
    SetDayHours,
    SetWorkingHours,
    UndoAppointmentChange,
)
from app.domain.clinic import CLINIC_ID
from app.domain.errors import NotFoundError, OutsideWorkingHoursError, ValidationError
from app.queries import call_list

from ..clinic import WEEKDAYS, Clinic, local
from .desk import Desk
from .projecting import catch_up
from .test_concurrency import race
from .webclient import page_text

# The test clock is Monday 11 January 2027, 08:00 in the clinic.
WEEK_AFTER = "2027-01-18"  # the next Monday


def away(
    clinic: Clinic, start: str, end: str, reason: str = "holiday", note: str = ""
) -> uuid.UUID:
    """Record an absence of the clinic's doctor; its id."""
    absence_id = uuid.uuid4()
    clinic.bus.handle(
        RecordAbsence(
            doctor_id=clinic.doctor_id,
            absence_id=absence_id,
            starts_at=local(start),
            ends_at=local(end),
            reason=reason,
            note=note,
        )
    )
    return absence_id


def listed(services, doctor_id=None) -> list[uuid.UUID]:  # type: ignore[no-untyped-def]
    """The appointments on the call list, soonest first (after the projections catch up)."""
    catch_up(services.projector)
    found = call_list.entries(
        services.read_engine,
        now=services.bus.clock(),
        today=services.bus.clock().date(),
        tz=services.tz,
        doctor_id=doctor_id,
    )
    return [entry.appointment.appointment_id for entry in found]


class TestTheBookingRule:
    def test_a_booking_into_an_absence_is_refused_in_words_and_writes_nothing(
        self, services, clinic
    ):
        away(clinic, "2027-01-18 00:00", "2027-01-23 00:00")
        before = services.store.count()
        with pytest.raises(OutsideWorkingHoursError) as refused:
            clinic.book("2027-01-20 10:00")
        assert refused.value.message == (
            "Dr Ada Martin is away from Monday 18 January 2027 to Friday 22 January 2027 (holiday)."
        )
        assert services.store.count() == before
        clinic.book("2027-01-25 10:00")  # the Monday after is bookable again

    def test_a_part_day_absence_leaves_the_rest_of_the_day(self, services, clinic):
        away(clinic, "2027-01-14 14:00", "2027-01-14 18:00", "training", "Échographie")
        clinic.book("2027-01-14 11:00")
        with pytest.raises(OutsideWorkingHoursError) as refused:
            clinic.book("2027-01-14 15:00")
        assert "(training: Échographie)" in refused.value.message

    def test_a_move_into_an_absence_is_refused_too(self, services, clinic):
        appointment = clinic.book("2027-01-12 10:00")
        away(clinic, "2027-01-13 00:00", "2027-01-14 00:00")
        with pytest.raises(OutsideWorkingHoursError):
            services.bus.handle(
                RescheduleAppointment(
                    appointment_id=appointment,
                    starts_at=local("2027-01-13 10:00"),
                    duration_minutes=30,
                )
            )

    def test_a_closure_and_the_opening_hours_bound_every_doctor(self, services, clinic):
        services.bus.handle(CloseClinic(days={"2027-01-15": "Inventaire"}))
        services.bus.handle(SetClinicHours(hours={"tue": [["10:00", "17:00"]]}))
        with pytest.raises(OutsideWorkingHoursError) as closed:
            clinic.book("2027-01-15 10:00")
        assert (
            closed.value.message == "The clinic is closed on Friday 15 January 2027 (Inventaire)."
        )
        with pytest.raises(OutsideWorkingHoursError) as early:
            clinic.book("2027-01-12 09:00")
        assert early.value.message == "The clinic is open only 10:00-17:00 on Tuesdays."
        clinic.book("2027-01-12 10:00")

    def test_one_off_hours_open_a_saturday_and_shorten_a_thursday(self, services, clinic):
        services.bus.handle(
            SetDayHours(doctor_id=clinic.doctor_id, day="2027-01-16", hours="09:00-12:00")
        )
        services.bus.handle(
            SetDayHours(doctor_id=clinic.doctor_id, day="2027-01-14", hours="14:00-16:00")
        )
        clinic.book("2027-01-16 09:00")
        with pytest.raises(OutsideWorkingHoursError) as refused:
            clinic.book("2027-01-14 10:00")
        assert refused.value.message == (
            "Dr Ada Martin works other hours on Thursday 14 January 2027: 14:00-16:00."
        )

    def test_an_undone_cancellation_does_not_take_a_time_the_doctor_is_now_away(
        self, services, clinic
    ):
        appointment = clinic.book("2027-01-20 10:00")
        services.bus.handle(CancelAppointment(appointment_id=appointment, reason="Flu"))
        away(clinic, "2027-01-20 00:00", "2027-01-21 00:00")
        with pytest.raises(OutsideWorkingHoursError):
            services.bus.handle(UndoAppointmentChange(appointment_id=appointment))


class TestVisitTypes:
    def test_a_booking_with_a_visit_type_takes_its_duration_and_names_it(self, services, clinic):
        kind = uuid.uuid4()
        services.bus.handle(
            DefineVisitType(
                visit_type_id=kind, label="First visit", minutes=30, doctor_id=str(clinic.doctor_id)
            )
        )
        booked = services.bus.handle(
            CreateAppointment(
                patient_id=clinic.patient_ids[0],
                doctor_id=clinic.doctor_id,
                starts_at=local("2027-01-12 09:00"),
                visit_type_id=kind,
                title="Back pain",
            )
        )
        created = services.store.load(booked.stream_id)[0].event
        assert created.visit_type_id == kind
        assert created.ends_at - created.starts_at == timedelta(minutes=30)

    def test_a_retired_type_or_another_doctor_s_is_refused(self, services, clinic):
        other = services.bus.handle(RegisterDoctor(full_name="Dr Lee", specialty="Dermatology"))
        services.bus.handle(SetWorkingHours(doctor_id=other.stream_id, hours=WEEKDAYS))
        theirs, retired = uuid.uuid4(), uuid.uuid4()
        services.bus.handle(
            DefineVisitType(
                visit_type_id=theirs, label="Mole check", minutes=20, specialty="Dermatology"
            )
        )
        services.bus.handle(DefineVisitType(visit_type_id=retired, label="Old", minutes=20))
        services.bus.handle(RetireVisitType(visit_type_id=retired))
        before = services.store.count()
        for kind, message in (
            (theirs, "is not a visit type of this doctor"),
            (retired, "no longer offered"),
        ):
            with pytest.raises(ValidationError) as refused:
                clinic.book("2027-01-12 09:00", visit_type_id=kind)
            assert message in refused.value.errors["visit_type_id"]
        with pytest.raises(NotFoundError):
            clinic.book("2027-01-12 09:00", visit_type_id=uuid.uuid4())
        assert services.store.count() == before


class TestTheCallList:
    def test_an_absence_over_booked_appointments_lists_them_until_each_is_handled(
        self, services, clinic
    ):
        first = clinic.book("2027-01-19 09:00")
        second = clinic.book("2027-01-20 10:00", patient=1)
        outside = clinic.book("2027-01-25 09:00")
        away(clinic, "2027-01-18 00:00", "2027-01-23 00:00")
        assert listed(services) == [first, second]
        entry = call_list.entries(
            services.read_engine,
            now=services.bus.clock(),
            today=services.bus.clock().date(),
            tz=services.tz,
        )[0]
        assert "is away from Monday 18 January 2027" in str(entry.why)
        # The proposal is the doctor's next free time of the same length, after the absence.
        assert entry.same_doctor is not None and entry.same_doctor.starts_at >= local(
            "2027-01-25 09:30"
        )
        services.bus.handle(
            RescheduleAppointment(
                appointment_id=first,
                starts_at=entry.same_doctor.starts_at,
                duration_minutes=30,
                reason="Doctor absent",
            )
        )
        services.bus.handle(CancelAppointment(appointment_id=second, reason="Doctor absent"))
        assert listed(services) == []
        assert outside not in listed(services)

    def test_the_list_follows_the_absence_when_it_changes_or_is_cancelled(self, services, clinic):
        tuesday = clinic.book("2027-01-19 09:00")
        thursday = clinic.book("2027-01-21 09:00", patient=1)
        absence = away(clinic, "2027-01-18 00:00", "2027-01-20 00:00")
        assert listed(services) == [tuesday]
        services.bus.handle(
            ChangeAbsence(
                doctor_id=clinic.doctor_id,
                absence_id=absence,
                starts_at=local("2027-01-20 00:00"),
                ends_at=local("2027-01-22 00:00"),
                reason="holiday",
            )
        )
        assert listed(services) == [thursday]
        services.bus.handle(CancelAbsence(doctor_id=clinic.doctor_id, absence_id=absence))
        assert listed(services) == []

    def test_a_closure_and_shorter_weekly_hours_list_what_they_fall_on(self, services, clinic):
        friday = clinic.book("2027-01-15 09:00")
        afternoon = clinic.book("2027-01-12 16:00", patient=1)
        services.bus.handle(CloseClinic(days={"2027-01-15": "Inventaire"}))
        assert listed(services) == [friday]
        hours = {**WEEKDAYS, "tue": [["09:00", "12:00"]]}
        services.bus.handle(
            SetWorkingHours(doctor_id=clinic.doctor_id, hours=hours, slot_minutes=15)
        )
        assert listed(services) == [afternoon, friday]

    def test_a_rebuild_gives_the_same_list(self, services, clinic):
        booked = clinic.book("2027-01-19 09:00")
        away(clinic, "2027-01-18 00:00", "2027-01-23 00:00")
        assert listed(services) == [booked]
        services.maintenance.rebuild("appointments")
        assert listed(services) == [booked]


def test_a_booking_racing_an_absence_is_refused_or_listed_never_left_untold(
    pg_services, monkeypatch
):
    """Both commands read the doctor before either commits (held at the insert until both
    are there): the booking does not see the absence, and both commit. The call list, built
    from both in the order they were stored, lists the appointment either way."""
    from app.eventstore.store import StoreTransaction

    from ..clinic import open_clinic

    clinic = open_clinic(pg_services.bus)
    both_inside = threading.Barrier(2)
    held: list[str] = []
    # On PostgreSQL a command's rows go out in one pipeline (StoreTransaction._insert is
    # SQLite's path and a merge's): hold each command there, its events written, uncommitted.
    save = StoreTransaction._save_pipelined

    def save_then_wait(self, decision, rows, *rest):  # type: ignore[no-untyped-def]
        positions = save(self, decision, rows, *rest)
        if rows and rows[0]["event_type"] in ("AbsenceRecorded", "AppointmentCreated"):
            held.append(rows[0]["event_type"])
            # A generous bound: on a loaded two-core runner the other thread may take seconds
            # to reach its insert, and a broken barrier lets one commit before the other reads.
            with contextlib.suppress(threading.BrokenBarrierError):
                both_inside.wait(timeout=30)
        return positions

    monkeypatch.setattr(StoreTransaction, "_save_pipelined", save_then_wait)
    outcomes = race(
        [
            lambda: clinic.book("2027-01-19 10:00"),
            lambda: away(clinic, "2027-01-18 00:00", "2027-01-23 00:00"),
        ]
    )
    # Held until both were inside, neither saw the other: both stand, and the list tells.
    booked, absence = outcomes
    assert sorted(held) == ["AbsenceRecorded", "AppointmentCreated"], held
    assert not both_inside.broken, "one command never reached its insert while the other waited"
    assert not isinstance(booked, Exception) and not isinstance(absence, Exception), outcomes
    assert listed(pg_services) == [booked]


def test_many_bookings_racing_absences_are_each_refused_or_listed(pg_services):
    """Unforced races, many times over: whatever the interleaving, no appointment stays
    inside an absence off the list."""
    from ..clinic import open_clinic

    clinic = open_clinic(pg_services.bus)
    days = [f"2027-02-{d:02d}" for d in (1, 2, 3, 4, 5, 8, 9, 10, 11, 12)]
    booked = []
    for day in days:
        outcomes = race(
            [
                lambda day=day: clinic.book(f"{day} 10:00"),
                lambda day=day: away(clinic, f"{day} 00:00", f"{day} 23:00"),
            ]
        )
        assert not isinstance(outcomes[1], Exception), outcomes
        if isinstance(outcomes[0], Exception):
            assert isinstance(outcomes[0], OutsideWorkingHoursError), outcomes
        else:
            booked.append(outcomes[0])
    assert sorted(listed(pg_services)) == sorted(booked)


# -- the pages --


def _absence_form(start: str, end: str, **extra: str) -> dict[str, str]:
    return {
        "starts_at": start,
        "ends_at": end,
        "reason": "holiday",
        "command_id": str(uuid.uuid4()),
        **extra,
    }


def test_an_absence_from_the_doctor_s_page_leads_to_the_call_list(desk: Desk):
    clinic = desk.clinic
    first = clinic.book("2027-01-19 09:00")
    second = clinic.book("2027-01-20 10:00", patient=1)
    response = desk.staff.post(
        f"/doctors/{clinic.doctor_id}/absences",
        _absence_form(f"{WEEK_AFTER}T00:00", "2027-01-23T00:00"),
    )
    assert response.status_code == 303
    assert response.headers["Location"].startswith(f"/call-list?doctor_id={clinic.doctor_id}")
    page = desk.staff.client.get(response.headers["Location"])
    text = page_text(page)
    assert "2 appointments need a new time." in text
    rows = re.findall(r'data-appointment-id="([0-9a-f-]{36})"', text)
    assert rows == [str(first), str(second)]
    assert "Dr Ada Martin is away from Monday 18 January 2027 to Friday 22 January 2027" in text
    # Today says how many wait.
    assert 'data-waiting="2"' in page_text(desk.staff.client.get("/"))


def test_bad_absences_are_refused_with_a_message_and_write_nothing(desk: Desk):
    clinic = desk.clinic
    url = f"/doctors/{clinic.doctor_id}/absences"
    desk.staff.post(url, _absence_form(f"{WEEK_AFTER}T00:00", "2027-01-23T00:00"))
    cases = [
        (
            _absence_form("2027-01-26T12:00", "2027-01-26T09:00"),
            "The absence must end after it starts.",
        ),
        (
            _absence_form("9999-01-26T09:00", "9999-01-27T09:00"),
            "Choose a date between the years 1900 and 2999.",
        ),
        (
            _absence_form("2027-01-22T14:00", "2027-01-26T00:00"),
            "is already away from Monday 18 January 2027",
        ),
        (
            _absence_form("2027-01-26T09:00", "2027-01-27T09:00", reason="other", note="<b>x</b>"),
            "cannot contain &lt; or &gt;",
        ),
    ]
    for form, message in cases:
        before = desk.events()
        response = desk.staff.post(url, form)
        assert response.status_code == 422, form
        assert message in page_text(response), form
        assert desk.events() == before


def test_bad_visit_types_are_refused_with_a_message_and_write_nothing(desk: Desk):
    for minutes, label, message in (
        ("0", "Vaccination", "A visit lasts between 5 and 480 minutes."),
        ("10000", "Vaccination", "A visit lasts between 5 and 480 minutes."),
        ("15", "<script>alert(1)</script>", "The label cannot contain &lt; or &gt;."),
    ):
        before = desk.events()
        response = desk.staff.post(
            "/settings/visit-types",
            {"label": label, "minutes": minutes, "command_id": str(uuid.uuid4())},
        )
        assert response.status_code == 422, (minutes, label)
        assert message in page_text(response), page_text(response)[:3000]
        assert desk.events() == before


def test_the_public_holidays_are_offered_and_closed_only_when_confirmed(desk: Desk):
    page = page_text(desk.staff.client.get("/settings"))
    offered = re.findall(r'name="holiday" value="(\d{4}-\d{2}-\d{2})"', page)
    assert "2027-05-01" in offered and "2027-12-25" in offered
    assert all("2027-01-11" <= day < "2028-01-11" for day in offered)
    assert desk.services.store.load(CLINIC_ID) == []  # nothing closed silently
    form = {"holiday": ["2027-05-01", "2027-12-25"], "command_id": str(uuid.uuid4())}
    form["label_2027-05-01"], form["label_2027-12-25"] = "Fête du Travail", "Noël"
    response = desk.staff.post("/settings/closures", form)
    assert response.status_code == 303
    page = page_text(desk.staff.client.get("/settings"))
    assert 'data-closure="2027-12-25"' in page and 'data-closure="2027-05-01"' in page
    still_offered = re.findall(r'name="holiday" value="(\d{4}-\d{2}-\d{2})"', page)
    assert "2027-05-01" not in still_offered and "2027-12-25" not in still_offered
    assert "2027-11-11" in still_offered


def test_another_time_chosen_from_the_call_list_comes_back_to_it(desk: Desk):
    clinic = desk.clinic
    booked = clinic.book("2027-01-19 09:00")
    desk.staff.post(
        f"/doctors/{clinic.doctor_id}/absences",
        _absence_form(f"{WEEK_AFTER}T00:00", "2027-01-23T00:00"),
    )
    back = f"/call-list?doctor_id={clinic.doctor_id}"
    form = page_text(
        desk.staff.client.get(
            f"/appointments/{booked}/reschedule",
            query_string={"next": back, "reason": "Doctor absent", "day": "2027-01-26"},
        )
    )
    assert f'name="next" value="{back}"' in form.replace("&amp;", "&")
    assert 'value="Doctor absent"' in form
    response = desk.staff.post(
        f"/appointments/{booked}/reschedule",
        {
            "starts_at": "2027-01-26T10:00",
            "duration_minutes": "30",
            "reason": "Doctor absent",
            "next": back,
            "context": "reschedule",
            "expected_version": "1",
            "command_id": str(uuid.uuid4()),
        },
    )
    assert response.status_code == 303
    assert response.headers["Location"].startswith(back)
    assert "data-appointment-id" not in page_text(desk.staff.client.get(back))


def test_an_absence_given_as_days_alone_covers_them_whole(desk: Desk):
    clinic = desk.clinic
    response = desk.staff.post(
        f"/doctors/{clinic.doctor_id}/absences",
        {**_absence_form("2027-01-18", "2027-01-22")},
    )
    assert response.status_code == 303
    [recorded] = [
        r.event
        for r in desk.services.store.load(clinic.doctor_id)
        if r.event_type == "AbsenceRecorded"
    ]
    assert (recorded.starts_at, recorded.ends_at) == (
        local("2027-01-18 00:00"),
        local("2027-01-23 00:00"),
    )
