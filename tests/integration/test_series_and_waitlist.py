"""Recurring series and the waitlist (issue 19), on both backends and through the pages:
each visit of a series goes through the booking guard and idempotency of a single booking,
a series stops from one visit on in one transaction, and a freed time reaches the first
patient waiting for it, who is booked in one click and leaves the list."""

from __future__ import annotations

import re
import uuid

import pytest
import sqlalchemy as sa

from app.commands import (
    BookSeries,
    CancelAppointment,
    CancelSeries,
    CloseClinic,
    ConfirmAppointment,
    CreateAppointment,
    JoinWaitlist,
    RecordAbsence,
)
from app.commands.series import book_series
from app.domain.errors import (
    AlreadyExistsError,
    InvalidTransitionError,
    SlotTakenError,
    ValidationError,
)
from app.domain.series import Repeat, plan_visits
from app.projections import tables as t
from app.queries import agenda
from app.queries import series as series_q
from app.queries import waitlist as waitlist_q
from app.queries.appointments import appointment_detail

from ..clinic import Clinic, local, open_clinic
from .projecting import catch_up
from .test_concurrency import race
from .webclient import page_text

# The test clock is Monday 11 January 2027, 08:00 in the clinic.


def series_command(clinic: Clinic, first: str = "2027-01-12 09:00", **fields) -> BookSeries:  # type: ignore[no-untyped-def]
    return BookSeries(
        patient_id=clinic.patient_ids[0],
        doctor_id=clinic.doctor_id,
        starts_at=local(first),
        duration_minutes=30,
        title="Physiotherapy",
        **{"every_weeks": 1, "occurrences": 6, **fields},
    )


def rows_of(services, series_id: uuid.UUID) -> dict[int, tuple[str, str]]:  # type: ignore[no-untyped-def]
    """Each booked visit of the series, by number: (status, local start)."""
    catch_up(services.projector)
    found = series_q.series(services.read_engine, series_id)
    assert found is not None
    return {
        n: (row.status.value, row.starts_at.astimezone(services.tz).strftime("%Y-%m-%d %H:%M"))
        for n, row in found.visits.items()
    }


class TestBookingASeries:
    def test_six_weekly_visits_book_around_a_taken_time_and_say_why(self, services, clinic):
        clinic.book("2027-01-26 09:00", patient=1)  # the third Tuesday is taken
        outcome = book_series(services.bus, series_command(clinic), None)
        assert [v.occurrence for v in outcome.booked] == [1, 2, 4, 5, 6]
        refused = next(v for v in outcome.visits if not v.booked)
        assert refused.occurrence == 3
        assert isinstance(refused.refusal, SlotTakenError)
        assert "Patient 1" in refused.refusal.message
        assert rows_of(services, outcome.series.stream_id) == {
            1: ("pending", "2027-01-12 09:00"),
            2: ("pending", "2027-01-19 09:00"),
            4: ("pending", "2027-02-02 09:00"),
            5: ("pending", "2027-02-09 09:00"),
            6: ("pending", "2027-02-16 09:00"),
        }

    def test_a_series_sent_twice_books_each_visit_once(self, services, clinic):
        command = series_command(clinic, occurrences=3)
        first = book_series(services.bus, command, None)
        events = services.store.count()
        again = book_series(services.bus, command, None)
        assert services.store.count() == events
        assert again.series.replayed
        assert [v.appointment_id for v in again.booked] == [v.appointment_id for v in first.booked]

    def test_a_proposed_alternative_is_booked_instead_of_the_planned_time(self, services, clinic):
        clinic.book("2027-01-19 09:00", patient=1)
        command = series_command(
            clinic, occurrences=3, changes={2: local("2027-01-19 10:00").isoformat()}
        )
        outcome = book_series(services.bus, command, None)
        assert len(outcome.booked) == 3
        assert rows_of(services, outcome.series.stream_id)[2] == ("pending", "2027-01-19 10:00")

    def test_a_visit_left_out_is_not_booked_and_is_said_to_be(self, services, clinic):
        outcome = book_series(
            services.bus, series_command(clinic, occurrences=3, changes={2: None}), None
        )
        assert [v.occurrence for v in outcome.booked] == [1, 3]
        assert [v.occurrence for v in outcome.visits if not v.booked] == [2]

    def test_absences_and_closures_refuse_their_visits_only(self, services, clinic):
        services.bus.handle(CloseClinic(days={"2027-01-19": "Inventaire"}))
        services.bus.handle(
            RecordAbsence(
                doctor_id=clinic.doctor_id,
                starts_at=local("2027-01-26 00:00"),
                ends_at=local("2027-01-27 00:00"),
                reason="training",
            )
        )
        catch_up(services.projector)
        visits = plan_visits(local("2027-01-12 09:00"), services.tz, Repeat(1), count=4)
        preview = series_q.preview(
            services.read_engine,
            visits,
            doctor_id=clinic.doctor_id,
            schedule=agenda.doctor(services.read_engine, clinic.doctor_id).schedule,
            minutes=30,
            tz=services.tz,
            now=services.bus.clock(),
        )
        assert [v.conflict for v in preview] == [None, "closure", "absence", None]
        # The alternative of each stays in its own week, on a day the doctor works.
        assert preview[1].alternative is not None
        assert (
            preview[1].alternative.starts_at.astimezone(services.tz).date().isoformat()
            == "2027-01-20"
        )
        outcome = book_series(services.bus, series_command(clinic, occurrences=4), None)
        assert [v.occurrence for v in outcome.booked] == [1, 4]
        reasons = {v.occurrence: v.refusal.message for v in outcome.visits if v.refusal}
        assert reasons[2] == "The clinic is closed on Tuesday 19 January 2027 (Inventaire)."
        assert "is away" in reasons[3]

    @pytest.mark.parametrize(
        ("fields", "field", "words"),
        [
            ({"occurrences": 10000}, "occurrences", "at most 52 visits (you asked for 10000)"),
            ({"occurrences": None, "until": "2027-01-05"}, "until", "must come after the first"),
            ({"every_weeks": 0}, "every_weeks", "from 1 to 26"),
            ({"occurrences": None}, "occurrences", "Give a number of visits or a last day"),
            ({"occurrences": 1}, "occurrences", "at least 2 visits"),
            ({"occurrences": None, "until": "2029-01-01"}, "until", "at most"),
        ],
    )
    def test_bad_input_gets_a_clear_message_and_writes_nothing(
        self, services, clinic, fields, field, words
    ):
        before = services.store.count()
        with pytest.raises(ValidationError) as refused:
            book_series(services.bus, series_command(clinic, **fields), None)
        assert words in refused.value.errors[field]
        assert services.store.count() == before


class TestStoppingASeries:
    def test_cancelling_from_a_visit_cancels_it_and_the_later_ones_and_frees_them(
        self, services, clinic
    ):
        outcome = book_series(services.bus, series_command(clinic, occurrences=5), None)
        series_id = outcome.series.stream_id
        services.bus.handle(
            CancelSeries(series_id=series_id, from_occurrence=3, reason="Course ended early")
        )
        statuses = {n: status for n, (status, _) in rows_of(services, series_id).items()}
        assert statuses == {
            1: "pending",
            2: "pending",
            3: "cancelled",
            4: "cancelled",
            5: "cancelled",
        }
        clinic.book("2027-02-02 09:00", patient=1)  # visit 4's time is free again
        with pytest.raises(ValidationError) as nothing_left:
            services.bus.handle(CancelSeries(series_id=series_id, from_occurrence=4, reason="x"))
        assert "nothing to cancel" in nothing_left.value.errors["from_occurrence"]


class TestTheWaitlist:
    def join(self, clinic: Clinic, patient: int = 0, **fields):  # type: ignore[no-untyped-def]
        return clinic.bus.handle(
            JoinWaitlist(
                patient_id=clinic.patient_ids[patient],
                doctor_id=fields.pop("doctor_id", clinic.doctor_id),
                until_day=fields.pop("until_day", "2027-02-28"),
                title="Earlier check-up",
                **fields,
            )
        )

    def test_a_freed_time_lists_who_fits_it_in_the_order_they_joined(self, services, clinic):
        appointment = clinic.book("2027-01-20 15:00", patient=0)
        self.join(clinic, 1, part_of_day="afternoon")
        self.join(clinic, 2)
        self.join(clinic, 0, part_of_day="morning", doctor_id=None, specialty="General practice")
        services.bus.handle(ConfirmAppointment(appointment_id=appointment))
        services.bus.handle(CancelAppointment(appointment_id=appointment, reason="Patient ill"))
        catch_up(services.projector)
        row = appointment_detail(services.read_engine, appointment)
        assert row is not None
        fitting = waitlist_q.freed(
            services.read_engine, row, tz=services.tz, now=services.bus.clock()
        )
        # Patient 0 cancelled it (and wants mornings): patients 1 then 2, as they joined.
        assert [f.patient_id for f in fitting] == [clinic.patient_ids[1], clinic.patient_ids[2]]

    def test_booking_from_the_waitlist_takes_the_patient_off_in_the_same_transaction(
        self, services, clinic
    ):
        entry = self.join(clinic, 1).stream_id
        booked = services.bus.handle(
            CreateAppointment(
                patient_id=clinic.patient_ids[1],
                doctor_id=clinic.doctor_id,
                starts_at=local("2027-01-13 10:00"),
                duration_minutes=30,
                title="Earlier check-up",
                waitlist_id=entry,
            )
        )
        catch_up(services.projector)
        assert waitlist_q.waiting(services.read_engine) == []
        with services.read_engine.connect() as conn:
            left = (
                conn.execute(sa.select(t.waitlist).where(t.waitlist.c.waitlist_id == entry))
                .mappings()
                .one()
            )
        assert (left["left_reason"], left["appointment_id"]) == ("booked", booked.stream_id)
        before = services.store.count()
        with pytest.raises(InvalidTransitionError):
            services.bus.handle(
                CreateAppointment(
                    patient_id=clinic.patient_ids[1],
                    doctor_id=clinic.doctor_id,
                    starts_at=local("2027-01-14 10:00"),
                    duration_minutes=30,
                    title="Earlier check-up",
                    waitlist_id=entry,
                )
            )
        assert services.store.count() == before  # nor the appointment, refused with it

    @pytest.mark.parametrize(
        ("fields", "field", "words"),
        [
            ({"until_day": "2027-01-04"}, "until_day", "That range is over"),
            ({"from_day": "2027-02-10", "until_day": "2027-02-01"}, "until_day", "comes before"),
            ({"doctor_id": None}, "doctor_id", "Choose a doctor or a specialty"),
            ({"part_of_day": "evening"}, "part_of_day", "morning, the afternoon"),
        ],
    )
    def test_bad_input_gets_a_clear_message_and_writes_nothing(
        self, services, clinic, fields, field, words
    ):
        before = services.store.count()
        with pytest.raises(ValidationError) as refused:
            self.join(clinic, **fields)
        assert words in refused.value.errors[field]
        assert services.store.count() == before

    def test_a_patient_already_waiting_for_the_doctor_is_refused(self, services, clinic):
        self.join(clinic)
        before = services.store.count()
        with pytest.raises(AlreadyExistsError) as refused:
            self.join(clinic, until_day="2027-03-31")
        assert refused.value.message.startswith(
            "Patient 0 is already on the waitlist for Dr Ada Martin"
        )
        assert services.store.count() == before


# -- races: the first on both backends, the others on PostgreSQL --


def test_a_series_racing_single_bookings_of_its_times_never_double_books(services):
    """Each of several single bookings aims at one of the series' times as the series is
    booked: every time ends up held once, and the series says which visits it lost. On
    PostgreSQL the exclusion constraint decides; on SQLite, one writer at a time."""
    clinic = open_clinic(services.bus)
    singles = ["2027-01-19 09:00", "2027-02-02 09:15", "2027-02-16 09:00"]
    outcomes = race(
        [
            lambda: book_series(services.bus, series_command(clinic), None),
            *(lambda at=at: clinic.book(at, patient=1) for at in singles),
        ]
    )
    series_outcome = outcomes[0]
    assert not isinstance(series_outcome, Exception), outcomes
    lost = {v.occurrence for v in series_outcome.visits if not v.booked}
    for visit in series_outcome.visits:
        if not visit.booked:
            assert isinstance(visit.refusal, SlotTakenError)
    for single in outcomes[1:]:
        assert isinstance(single, uuid.UUID | SlotTakenError), single
    # Visits 2, 4 and 6 are the times the singles aimed at: each is held by exactly one.
    assert lost <= {2, 4, 6}
    singles_won = sum(isinstance(o, uuid.UUID) for o in outcomes[1:])
    assert singles_won == len(lost)
    catch_up(services.projector)
    with services.read_engine.connect() as conn:
        held = (
            conn.execute(
                sa.select(t.appointments.c.starts_at).where(
                    t.appointments.c.doctor_id == clinic.doctor_id,
                    t.appointments.c.status.in_(("pending", "confirmed")),
                )
            )
            .scalars()
            .all()
        )
    assert len(held) == 6 - len(lost) + singles_won


def test_stopping_a_series_while_a_visit_is_confirmed_elsewhere_loses_nothing(pg_services):
    """Whichever commits first, the visit ends cancelled with the series, and the history
    holds the confirmation before the cancellation, or the confirmation was refused in
    words: never a lost write, never a half-cancelled series."""
    clinic = open_clinic(pg_services.bus)
    for attempt in range(6):
        outcome = book_series(
            pg_services.bus,
            series_command(
                clinic,
                f"2027-0{2 + attempt // 3}-0{1 + attempt % 3} 09:00",
                occurrences=4,
                confirmed=False,
            ),
            None,
        )
        series_id = outcome.series.stream_id
        third = next(v.appointment_id for v in outcome.visits if v.occurrence == 3)
        cancelled, confirmed = race(
            [
                lambda series_id=series_id: pg_services.bus.handle(
                    CancelSeries(series_id=series_id, from_occurrence=2, reason="Stopped")
                ),
                lambda third=third: pg_services.bus.handle(
                    ConfirmAppointment(appointment_id=third)
                ),
            ]
        )
        assert not isinstance(cancelled, Exception), cancelled
        history = [r.event_type for r in pg_services.store.load(third)]
        if isinstance(confirmed, Exception):
            assert isinstance(confirmed, InvalidTransitionError), confirmed
            assert history == ["AppointmentCreated", "AppointmentCancelled"]
        else:
            assert history == ["AppointmentCreated", "AppointmentConfirmed", "AppointmentCancelled"]
        statuses = {n: s for n, (s, _) in rows_of(pg_services, series_id).items()}
        assert statuses == {1: "pending", 2: "cancelled", 3: "cancelled", 4: "cancelled"}


def test_two_desks_adding_the_same_patient_to_a_doctors_waitlist_add_one(pg_services):
    clinic = open_clinic(pg_services.bus)
    join = lambda: pg_services.bus.handle(  # noqa: E731
        JoinWaitlist(
            patient_id=clinic.patient_ids[0],
            doctor_id=clinic.doctor_id,
            until_day="2027-02-28",
            title="Earlier",
        )
    )
    outcomes = race([join, join])
    assert sum(isinstance(o, AlreadyExistsError) for o in outcomes) == 1, outcomes
    catch_up(pg_services.projector)
    assert len(waitlist_q.waiting(pg_services.read_engine)) == 1


# -- the pages --


def series_form(desk, **fields: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {
        "patient_id": str(desk.clinic.patient_ids[0]),
        "doctor_id": str(desk.clinic.doctor_id),
        "starts_at": "2027-01-12T09:00",
        "duration_minutes": "30",
        "title": "Physiotherapy",
        "confirmed": "1",
        "every_weeks": "1",
        "occurrences": "6",
        "command_id": str(uuid.uuid4()),
        **fields,
    }


class TestSeriesPages:
    def test_the_booking_form_with_repeat_previews_every_visit_and_books_nothing(self, desk):
        desk.clinic.book("2027-01-26 09:00", patient=1)
        before = desk.events()
        page = desk.staff.post("/appointments", series_form(desk))
        assert page.status_code == 200
        assert desk.events() == before
        html = page.get_data(as_text=True)
        assert len(re.findall(r'data-occurrence="\d+"', html)) == 6
        assert 'data-occurrence="3" data-conflict="taken"' in html
        assert 'name="visit_3"' in html and "data-proposal" in html
        assert "Book the series (6 visits)" in page_text(page)

    def test_posting_the_series_books_it_once_and_lists_each_visit(self, desk):
        desk.clinic.book("2027-01-26 09:00", patient=1)
        form = series_form(desk)
        page = desk.staff.post("/appointments/series", form)
        assert page.status_code == 200
        text = page_text(page)
        assert "5 of 6 visits booked." in text
        assert (
            "Not booked: That time is no longer free" in text or "Not booked: Dr Ada Martin" in text
        )
        events = desk.events()
        again = desk.staff.post("/appointments/series", form)
        assert again.status_code == 200 and desk.events() == events

    def test_the_answer_stands_before_the_read_model_shows_the_series(self, desk, monkeypatch):
        """With projections behind (a busy worker), the booking still says what it did."""
        from app.web import series as series_pages

        monkeypatch.setattr(series_pages.q, "series", lambda engine, series_id: None)
        monkeypatch.setitem(desk.staff.client.application.config, "READ_YOUR_WRITES_SECONDS", 0.05)
        page = desk.staff.post("/appointments/series", series_form(desk, occurrences="3"))
        assert page.status_code == 200
        text = page_text(page)
        assert "3 of 3 visits booked." in text
        assert text.count("Saved; updating…") == 3
        assert "Physiotherapy" in text and "Dr Ada Martin" in text

    def test_a_series_of_ten_thousand_visits_is_refused_with_the_cap(self, desk):
        before = desk.events()
        page = desk.staff.post("/appointments/series", series_form(desk, occurrences="10000"))
        assert page.status_code == 422
        assert "A series has at most 52 visits (you asked for 10000)" in page_text(page)
        assert desk.events() == before

    @pytest.mark.parametrize(
        ("fields", "words"),
        [
            ({"every_weeks": "0"}, "from 1 to 26"),
            ({"occurrences": "", "until": "2027-01-01"}, "must come after the first visit"),
            ({"doctor_id": str(uuid.uuid4())}, "No doctor with that id is registered."),
        ],
    )
    def test_a_preview_of_bad_input_is_the_form_again_with_the_message(self, desk, fields, words):
        before = desk.events()
        page = desk.staff.post("/appointments", series_form(desk, **fields))
        assert page.status_code == 422
        assert words in page_text(page)
        assert "Book appointment" in page_text(page)  # the booking form, as sent
        assert desk.events() == before

    def test_the_rest_of_a_series_is_cancelled_from_its_page(self, desk):
        desk.staff.post("/appointments/series", series_form(desk, occurrences="4"))
        catch_up(desk.services.projector)
        with desk.services.read_engine.connect() as conn:
            series_id = conn.execute(sa.select(t.series.c.series_id)).scalar_one()
        page = desk.staff.get(f"/appointments/series/{series_id}?from=3")
        assert page.status_code == 200
        assert '<option value="3" selected>' in page.get_data(as_text=True)
        done = desk.staff.post(
            f"/appointments/series/{series_id}/cancel",
            {"from_occurrence": "3", "reason": "Course ended", "command_id": str(uuid.uuid4())},
        )
        assert done.status_code == 303
        shown = desk.staff.get(done.headers["Location"])
        assert "Visits from number 3 on are cancelled." in page_text(shown)
        statuses = [r[0] for _, r in sorted(rows_of(desk.services, series_id).items())]
        assert statuses == ["confirmed", "confirmed", "cancelled", "cancelled"]


class TestWaitlistPages:
    def test_a_cancellation_offers_the_time_to_the_first_waiting_patient_in_one_click(self, desk):
        clinic = desk.clinic
        appointment = clinic.book("2027-01-20 15:00", patient=0)
        for patient in (1, 2):
            form = {
                "patient_id": str(clinic.patient_ids[patient]),
                "whom": f"doctor:{clinic.doctor_id}",
                "until_day": "2027-02-28",
                "part_of_day": "any",
                "title": "Earlier check-up",
                "command_id": str(uuid.uuid4()),
            }
            assert desk.staff.post("/waitlist", form).status_code == 303
        listing = desk.staff.get("/waitlist").get_data(as_text=True)
        ids = re.findall(r'<tr data-patient-id="([0-9a-f-]+)"', listing)
        assert ids == [str(clinic.patient_ids[1]), str(clinic.patient_ids[2])]
        desk.services.bus.handle(CancelAppointment(appointment_id=appointment, reason="Ill"))
        catch_up(desk.services.projector)
        detail = desk.staff.get(f"/appointments/{appointment}").get_data(as_text=True)
        offered = re.findall(r'<li data-patient-id="([0-9a-f-]+)"', detail)
        assert offered == [str(clinic.patient_ids[1]), str(clinic.patient_ids[2])]
        action = re.search(
            r'<form class="inline" method="post" action="(/waitlist/[^"]+/book)"', detail
        )
        assert action is not None
        fields = dict(
            re.findall(
                r'name="(doctor_id|starts_at|duration_minutes|command_id)" value="([^"]*)"',
                detail[action.start() :],
            )
        )
        booked = desk.staff.post(action.group(1), fields)
        assert booked.status_code == 303
        shown = desk.staff.get(booked.headers["Location"])
        assert "Booked from the waitlist" in page_text(shown)
        catch_up(desk.services.projector)
        remaining = re.findall(
            r'<tr data-patient-id="([0-9a-f-]+)"',
            desk.staff.get("/waitlist").get_data(as_text=True),
        )
        assert remaining == [str(clinic.patient_ids[2])]
        # The time is taken now: the cancelled appointment offers it no more.
        again = desk.staff.get(f"/appointments/{appointment}").get_data(as_text=True)
        assert "waitlist-offer" not in again

    def wait(self, desk, patient: int = 1) -> None:  # type: ignore[no-untyped-def]
        form = {
            "patient_id": str(desk.clinic.patient_ids[patient]),
            "whom": f"doctor:{desk.clinic.doctor_id}",
            "until_day": "2027-02-28",
            "title": "Earlier",
            "command_id": str(uuid.uuid4()),
        }
        assert desk.staff.post("/waitlist", form).status_code == 303

    def test_a_cancellation_from_a_list_row_goes_to_the_page_that_offers_the_time(self, desk):
        appointment = desk.clinic.book("2027-01-20 15:00", patient=0)
        self.wait(desk)
        catch_up(desk.services.projector)
        cancel = {"reason": "Ill", "context": "list", "command_id": str(uuid.uuid4())}
        answer = desk.staff.post(f"/appointments/{appointment}/cancel", cancel, htmx="appt-row")
        assert answer.status_code == 204
        assert answer.headers["HX-Redirect"].startswith(f"/appointments/{appointment}?expect=")
        assert answer.headers["HX-Redirect"].endswith("#waitlist-offer")
        # Without JavaScript too, whatever page the form came from.
        other = desk.clinic.book("2027-01-21 15:00", patient=0)
        catch_up(desk.services.projector)
        plain = {"reason": "Ill", "next": "/", "command_id": str(uuid.uuid4())}
        answer = desk.staff.post(f"/appointments/{other}/cancel", plain)
        assert answer.status_code == 303
        assert answer.headers["Location"].startswith(f"/appointments/{other}?expect=")
        shown = desk.staff.get(answer.headers["Location"]).get_data(as_text=True)
        assert 'id="waitlist-offer"' in shown and "Appointment cancelled." in shown

    def test_a_time_the_doctor_is_away_is_not_offered(self, desk):
        appointment = desk.clinic.book("2027-01-20 15:00", patient=0)
        self.wait(desk)
        desk.services.bus.handle(
            RecordAbsence(
                doctor_id=desk.clinic.doctor_id,
                starts_at=local("2027-01-20 00:00"),
                ends_at=local("2027-01-21 00:00"),
                reason="sick",
            )
        )
        catch_up(desk.services.projector)
        # Cancelled from the call list, "doctor absent": nobody is offered that time.
        cancel = {"reason": "Doctor absent", "next": "/call-list", "command_id": str(uuid.uuid4())}
        answer = desk.staff.post(f"/appointments/{appointment}/cancel", cancel)
        assert answer.status_code == 303 and answer.headers["Location"].startswith("/call-list")
        catch_up(desk.services.projector)
        page = desk.staff.get(f"/appointments/{appointment}").get_data(as_text=True)
        assert "waitlist-offer" not in page

    def test_a_second_wait_for_the_same_doctor_is_refused_in_words(self, desk):
        form = {
            "patient_id": str(desk.clinic.patient_ids[0]),
            "whom": f"doctor:{desk.clinic.doctor_id}",
            "until_day": "2027-02-28",
            "title": "Earlier",
        }
        assert (
            desk.staff.post("/waitlist", {**form, "command_id": str(uuid.uuid4())}).status_code
            == 303
        )
        before = desk.events()
        again = desk.staff.post("/waitlist", {**form, "command_id": str(uuid.uuid4())})
        assert again.status_code == 409
        assert "is already on the waitlist for Dr Ada Martin" in page_text(again)
        assert desk.events() == before
