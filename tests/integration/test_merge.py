"""Two records of one patient merged into one (issue 18, item 6's stretch): an event on each
record in one transaction, the appointments shown under the kept record, the merged record
closed and its page leading to the kept one. The command on both backends; the pages on
PostgreSQL."""

from __future__ import annotations

import contextlib
import re
import threading
import uuid
from datetime import timedelta

import pytest

from app.commands import ChangePatientDetails, CreateAppointment, MergePatients, RegisterPatient
from app.domain.errors import ConflictError, InvalidTransitionError, ValidationError
from app.domain.events import AppointmentCreated, PatientMerged, PatientMergedInto
from app.eventstore import EventMetadata
from app.queries import directory as d
from app.queries.appointments import appointments_for_patient, count_for_patient

from ..clinic import local
from .desk import TODAY, Desk
from .projecting import catch_up
from .test_concurrency import race
from .webclient import Staff, page_text


def register(bus, name: str, born: str = "1985-03-12", phone: str = ""):  # type: ignore[no-untyped-def]
    return bus.handle(RegisterPatient(full_name=name, date_of_birth=born, phone=phone)).stream_id


def book(clinic, patient, starts: str):  # type: ignore[no-untyped-def]
    return clinic.bus.handle(
        CreateAppointment(
            patient_id=patient,
            doctor_id=clinic.doctor_id,
            starts_at=local(starts),
            duration_minutes=15,
            title="Check-up",
        )
    ).stream_id


def test_a_merge_writes_both_records_at_once_and_moves_the_appointments(services, clinic):
    bus = services.bus
    kept = register(bus, "Jeanne Dupont", phone="0690421178")
    twin = register(bus, "Jeanne Dupond")  # the typo that made the second record
    day = "2027-01-12"
    moved = [book(clinic, twin, f"{day} 09:00"), book(clinic, twin, f"{day} 10:00")]
    own = book(clinic, kept, f"{day} 11:00")
    before = services.store.count()

    result = bus.handle(MergePatients(patient_id=kept, merged_id=twin))
    catch_up(services.projector)

    on_kept, on_twin = services.store.load(kept)[-1], services.store.load(twin)[-1]
    assert on_kept.event == PatientMerged(merged_id=twin, merged_name="Jeanne Dupond")
    assert on_twin.event == PatientMergedInto(kept_id=kept, kept_name="Jeanne Dupont")
    assert on_kept.tx_id == on_twin.tx_id  # one transaction
    assert services.store.count() == before + 2
    assert (result.stream_id, result.version) == (kept, 2)
    engine = services.read_engine
    visits = appointments_for_patient(engine, kept, now=bus.clock())
    assert {a.appointment_id for a in visits.upcoming} == {*moved, own}
    assert {a.patient_name for a in visits.upcoming} == {"Jeanne Dupont"}
    assert {a.patient_phone for a in visits.upcoming} == {"06 90 42 11 78"}
    assert count_for_patient(engine, twin) == 0
    assert d.patient(engine, twin).merged_into == kept
    assert [p.patient_id for p in d.search_patients(engine, "jeanne")] == [kept]

    services.maintenance.rebuild("appointments")  # the events alone give the same rows
    services.maintenance.rebuild("patients")
    assert count_for_patient(engine, kept) == 3 and d.patient(engine, twin).merged_into == kept


def test_a_merged_record_takes_no_booking_no_change_and_no_second_merge(services, clinic):
    bus = services.bus
    kept, twin, third = (register(bus, n) for n in ("Ana Kept", "Ana Twin", "Ana Third"))
    bus.handle(MergePatients(patient_id=kept, merged_id=twin))
    before = services.store.count()
    with pytest.raises(InvalidTransitionError, match="merged into another"):
        book(clinic, twin, "2027-01-12 09:00")
    with pytest.raises(InvalidTransitionError):
        bus.handle(
            ChangePatientDetails(patient_id=twin, full_name="Ana", date_of_birth="1985-03-12")
        )
    with pytest.raises(InvalidTransitionError):
        bus.handle(MergePatients(patient_id=third, merged_id=twin))
    with pytest.raises(InvalidTransitionError):
        bus.handle(MergePatients(patient_id=twin, merged_id=third))
    with pytest.raises(ValidationError):
        bus.handle(MergePatients(patient_id=kept, merged_id=kept))
    assert services.store.count() == before


def test_a_merge_on_a_record_changed_since_it_was_seen_is_a_conflict(services):
    bus = services.bus
    kept, twin = register(bus, "Léo Kept"), register(bus, "Léo Twin")
    bus.handle(ChangePatientDetails(patient_id=twin, full_name="Léo T", date_of_birth="1985-03-12"))
    before = services.store.count()
    with pytest.raises(ConflictError):
        bus.handle(MergePatients(patient_id=kept, merged_id=twin, merged_version=1))
    assert services.store.count() == before


def test_a_booking_committed_with_the_merge_is_shown_under_the_kept_record(services, clinic):
    """The booking checked the record before the merge committed, and wrote after it."""
    bus = services.bus
    kept, twin = register(bus, "Mia Kept"), register(bus, "Mia Twin")
    bus.handle(MergePatients(patient_id=kept, merged_id=twin))
    starts = local("2027-01-12 09:00")
    late = uuid.uuid4()
    services.store.append(
        late,
        0,
        [AppointmentCreated(twin, clinic.doctor_id, starts, starts + timedelta(minutes=15), "x")],
        stream_type="appointment",
        metadata=EventMetadata("test", "race", "race"),
    )
    catch_up(services.projector)
    [row] = appointments_for_patient(services.read_engine, kept, now=bus.clock()).upcoming
    assert (row.appointment_id, row.patient_name) == (late, "Mia Kept")


# -- the pages --


def merge_page_ids(page: str) -> list[str]:
    listed = re.search(r'id="merge-candidates".*?</ul>', page, re.S)
    return re.findall(r'data-patient-id="([0-9a-f-]+)"', listed.group(0)) if listed else []


def test_an_admin_merges_a_look_alike_and_its_old_address_leads_to_the_kept_record(
    desk: Desk,
) -> None:
    bus = desk.services.bus
    kept = register(bus, "Jeanne Dupont", phone="0690421178")
    twin = register(bus, "DUPONT Jeanne")
    other = register(bus, "Someone Else", born="1970-01-01")
    booked = book(desk.clinic, twin, f"{TODAY} 09:00")
    catch_up(desk.services.projector)

    page = page_text(desk.staff.get(f"/patients/{kept}/merge"))
    assert merge_page_ids(page) == [str(twin)]  # found by name and birth, not asked for
    found = page_text(desk.staff.get(f"/patients/{kept}/merge?q=someone"))
    assert merge_page_ids(found) == [str(other)]

    review = page_text(desk.staff.get(f"/patients/{kept}/merge?merged_id={twin}"))
    button = re.search(r"Merge into[^<]*", review).group(0)
    assert button == "Merge into Jeanne Dupont's record, with 1 appointment"
    command = re.search(r'name="command_id" value="([^"]+)"', review).group(1)
    form = {"merged_id": str(twin), "merged_version": "1", "expected_version": "1"}
    response = desk.staff.post(f"/patients/{kept}/merge", {**form, "command_id": command})
    assert response.status_code == 303
    assert response.headers["Location"].startswith(f"/patients/{kept}")
    catch_up(desk.services.projector)
    shown = page_text(desk.staff.get(response.headers["Location"]))
    assert "was merged into this one, with its appointments" in shown
    assert f'data-appointment-id="{booked}"' in shown
    merged = re.search(r'id="merged-records"[^>]*>.*?</ul>', shown, re.S).group(0)
    assert f'data-patient-id="{twin}"' in merged and "DUPONT Jeanne" in merged

    old = desk.staff.get(f"/patients/{twin}")
    assert old.status_code == 303 and old.headers["Location"] == f"/patients/{kept}"
    followed = page_text(desk.staff.get(old.headers["Location"]))
    assert "record was merged into Jeanne Dupont" in followed


def test_a_merge_form_left_open_while_the_record_changed_merges_nothing(desk: Desk) -> None:
    bus = desk.services.bus
    kept, twin = register(bus, "Paul Kept"), register(bus, "Paul Twin")
    catch_up(desk.services.projector)
    bus.handle(
        ChangePatientDetails(patient_id=twin, full_name="Paul T", date_of_birth="1985-03-12")
    )
    before = desk.events()
    response = desk.staff.post(
        f"/patients/{kept}/merge",
        {"merged_id": str(twin), "merged_version": "1", "expected_version": "1"},
    )
    assert response.status_code == 409
    assert "Changed meanwhile" in page_text(response)
    assert desk.events() == before


def test_reception_may_not_merge(desk: Desk, app) -> None:  # type: ignore[no-untyped-def]
    bus = desk.services.bus
    kept, twin = register(bus, "Eva Kept"), register(bus, "Eva Twin")
    before = desk.events()
    reception = Staff(app, "reception")
    response = reception.post(f"/patients/{kept}/merge", {"merged_id": str(twin)})
    assert response.status_code == 403
    assert desk.events() == before


def test_a_kept_record_merged_in_turn_takes_every_appointment_along(services, clinic):
    bus = services.bus
    first, second, last = (register(bus, n) for n in ("Noé One", "Noé Two", "Noé Three"))
    booked = book(clinic, first, "2027-01-12 09:00")
    bus.handle(MergePatients(patient_id=second, merged_id=first))
    bus.handle(MergePatients(patient_id=last, merged_id=second))
    catch_up(services.projector)
    [row] = appointments_for_patient(services.read_engine, last, now=bus.clock()).upcoming
    assert (row.appointment_id, row.patient_name) == (booked, "Noé Three")
    with pytest.raises(InvalidTransitionError):  # no way back: no cycle of merges
        bus.handle(MergePatients(patient_id=first, merged_id=last))


def test_two_merges_of_the_same_records_in_opposite_roles_give_one_merge_and_a_conflict(
    pg_services, monkeypatch
):
    """A merged into B while B is merged into A, each past its first stream's new row before
    the other writes: without one order of locks, PostgreSQL's deadlock (a 503); with it,
    the later merge sees its records changed (a 409), and one merge stands."""
    from app.eventstore.store import StoreTransaction

    bus = pg_services.bus
    first, second = register(bus, "Ivy One"), register(bus, "Ivy Two")
    both_inside = threading.Barrier(2)
    insert = StoreTransaction._insert

    def insert_then_wait(self, stream_id, expected_version, rows):  # type: ignore[no-untyped-def]
        positions = insert(self, stream_id, expected_version, rows)
        if rows and rows[0]["event_type"] == "PatientMergedInto":
            # The other merge gets here too unless it waits for this one's locks.
            with contextlib.suppress(threading.BrokenBarrierError):
                both_inside.wait(timeout=2)
        return positions

    monkeypatch.setattr(StoreTransaction, "_insert", insert_then_wait)
    outcomes = race(
        [
            lambda: bus.handle(
                MergePatients(
                    patient_id=first, merged_id=second, expected_version=1, merged_version=1
                )
            ),
            lambda: bus.handle(
                MergePatients(
                    patient_id=second, merged_id=first, expected_version=1, merged_version=1
                )
            ),
        ]
    )
    refused = [o for o in outcomes if isinstance(o, Exception)]
    assert len(refused) == 1 and isinstance(refused[0], ConflictError), outcomes
    merged = [pg_services.store.load(p)[-1].event for p in (first, second)]
    assert sum(isinstance(e, PatientMergedInto) for e in merged) == 1
    assert sum(isinstance(e, PatientMerged) for e in merged) == 1


def test_a_booking_form_for_a_merged_record_books_for_the_kept_one(desk: Desk) -> None:
    bus = desk.services.bus
    kept, twin = register(bus, "Rose Kept"), register(bus, "Rose Twin")
    bus.handle(MergePatients(patient_id=kept, merged_id=twin))
    catch_up(desk.services.projector)
    page = page_text(desk.staff.get(f"/appointments/new?patient_id={twin}"))  # an old link
    assert f'name="patient_id" value="{kept}" checked' in page
    assert f'value="{twin}"' not in page
    assert "Rose Twin's record was merged into Rose Kept's: Rose Kept is selected." in page


def test_the_kept_record_shows_how_to_reach_the_patient_by_the_merged_record(
    desk: Desk,
) -> None:
    """The kept record's details stay as they were: the merged record's phone and email,
    perhaps the newer ones, stay on its page for the desk to copy over."""
    bus = desk.services.bus
    kept = register(bus, "Zoé Kept")
    twin = bus.handle(
        RegisterPatient(
            full_name="Zoé Twin", date_of_birth="1985-03-12", phone="0690421178",
            email="zoe@example.org",
        )
    ).stream_id  # fmt: skip
    bus.handle(MergePatients(patient_id=kept, merged_id=twin))
    catch_up(desk.services.projector)
    page = page_text(desk.staff.get(f"/patients/{kept}"))
    merged = re.search(r'id="merged-records"[^>]*>.*?</ul>', page, re.S).group(0)
    assert "06 90 42 11 78" in merged and "zoe@example.org" in merged


def test_a_refused_merge_form_with_odd_fields_is_answered_not_crashed(desk: Desk) -> None:
    kept = register(desk.services.bus, "Odd Kept")
    catch_up(desk.services.projector)
    before = desk.events()
    response = desk.staff.post(
        f"/patients/{kept}/merge",
        {"merged_id": "not-an-id", "status": "1", "kept": "x", "refusal": "y"},
    )
    assert response.status_code == 422
    assert desk.events() == before
