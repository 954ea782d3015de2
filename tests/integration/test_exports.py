"""The calendar issue's exports on PostgreSQL, through the test client: the appointment
list as CSV, and a doctor's calendar feed with its secret link."""

from __future__ import annotations

import csv
import io
import re

from icalendar import Calendar

from .desk import TODAY
from .test_web_appointments import appointment_id
from .webclient import Staff, page_text

LINK = re.compile(r'id="feed-address"[^>]*value="([^"]+)"')


def booked(desk, starts: str = f"{TODAY}T09:00", **fields: str) -> str:
    response = desk.book(starts, **fields)
    assert response.status_code == 303, page_text(response)
    return appointment_id(response)


def rows_of(response) -> list[list[str]]:
    body = response.get_data().decode("utf-8")
    assert body.startswith("\ufeff"), "no BOM: Excel would garble the accents"
    return list(csv.reader(io.StringIO(body[1:])))


# -- CSV --


def test_the_csv_holds_every_matching_row_in_clinic_time(desk):
    first = booked(desk, title="=HYPERLINK(evil)")
    second = booked(desk, f"{TODAY}T10:00")
    desk.staff.post(f"/appointments/{second}/cancel", {"expected_version": "1", "reason": "Ill"})
    response = desk.staff.get(f"/appointments/export.csv?from={TODAY}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert (
        response.headers["Content-Disposition"] == f"attachment; filename=appointments-{TODAY}.csv"
    )
    header, *rows = rows_of(response)
    assert header == [
        "Date", "Start", "End", "Doctor", "Patient", "Phone", "Reason", "Status", "Appointment id",
    ]  # fmt: skip
    assert rows[0][:3] == [TODAY, "09:00", "09:15"]
    assert rows[0][6] == "'=HYPERLINK(evil)"  # never a formula in a spreadsheet
    assert (rows[0][7], rows[0][8]) == ("Pending", first)
    assert (rows[1][7], rows[1][8]) == ("Cancelled", second)
    only = rows_of(desk.staff.get(f"/appointments/export.csv?from={TODAY}&status=cancelled"))
    assert [row[8] for row in only[1:]] == [second]


def test_the_csv_is_in_the_readers_language(app, desk):
    booked(desk)
    french = Staff(app, locale="fr")
    header, row = rows_of(french.get(f"/appointments/export.csv?from={TODAY}"))
    assert header[0] == "Date" and header[4] == "Patient" and header[7] == "Statut"
    assert row[7] == "En attente"


def test_a_bad_filter_is_refused_with_a_message_and_no_file(desk):
    response = desk.staff.get("/appointments/export.csv?from=next-week")
    assert response.status_code == 422
    assert "is not a date (YYYY-MM-DD)" in page_text(response)
    assert "Content-Disposition" not in response.headers
    assert desk.staff.get("/appointments/export.csv?status=lost").status_code == 422


def test_a_doctor_exports_only_their_own(app, desk):
    booked(desk)
    from app.commands import RegisterDoctor

    other = desk.services.bus.handle(RegisterDoctor(full_name="Dr Lee", specialty="Skin"))
    doctor = Staff(app, "doctor", other.stream_id)
    _header, *rows = rows_of(doctor.get(f"/appointments/export.csv?from={TODAY}"))
    assert rows == []


# -- the feed --


def issue(staff: Staff, doctor_id) -> str:
    staff.get(f"/doctors/{doctor_id}")
    response = staff.post(f"/doctors/{doctor_id}/calendar-link", {})
    assert response.status_code == 200, page_text(response)
    found = LINK.search(page_text(response))
    assert found, "the new link is not shown"
    return found.group(1).replace("http://localhost", "")


def test_the_feed_needs_no_session_and_follows_changes(app, desk):
    appointment = booked(desk)
    address = issue(desk.staff, desk.clinic.doctor_id)
    phone = app.test_client()  # no session: a phone calendar
    response = phone.get(address)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = Calendar.from_ical(response.get_data())
    assert str(calendar["VERSION"]) == "2.0" and "PRODID" in calendar
    assert str(calendar["X-WR-CALNAME"]) == "Dr Ada Martin"
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Paris"]
    (event,) = calendar.walk("VEVENT")
    assert str(event["UID"]) == f"{appointment}@rendezvous"
    assert int(event["SEQUENCE"]) == 1 and str(event["STATUS"]) == "TENTATIVE"
    assert event["DTSTART"].params["TZID"] == "Europe/Paris"
    assert event["DTSTART"].dt.strftime("%Y-%m-%d %H:%M") == f"{TODAY} 09:00"
    assert str(event["SUMMARY"]) == "Patient 0"  # the name only: no reason on a phone
    desk.staff.post(
        f"/appointments/{appointment}/cancel", {"expected_version": "1", "reason": "Ill"}
    )
    (event,) = Calendar.from_ical(phone.get(address).get_data()).walk("VEVENT")
    assert int(event["SEQUENCE"]) == 2 and str(event["STATUS"]) == "CANCELLED"


def test_a_wrong_or_reset_token_is_a_plain_404(app, desk):
    address = issue(desk.staff, desk.clinic.doctor_id)
    phone = app.test_client()
    wrong = phone.get(address[:-8] + "xxxx.ics")
    unknown = phone.get(
        re.sub(r"feeds/[0-9a-f-]{36}", f"feeds/{desk.clinic.patient_ids[0]}", address)
    )
    for response in (wrong, unknown):
        assert response.status_code == 404
        assert response.get_data() == b"Not found\n"
    renewed = issue(desk.staff, desk.clinic.doctor_id)
    assert phone.get(address).status_code == 404
    assert phone.get(renewed).status_code == 200
    page = page_text(desk.staff.get(f"/doctors/{desk.clinic.doctor_id}"))
    assert "A subscription link exists since" in page and "Reset link" in page
    assert renewed.rsplit("/", 1)[1][:-4] not in page  # shown once, never again


def test_only_the_doctor_themselves_or_an_admin_manage_the_link(app, desk):
    from app.commands import RegisterDoctor

    other = desk.services.bus.handle(RegisterDoctor(full_name="Dr Lee", specialty="Skin"))
    own = Staff(app, "doctor", desk.clinic.doctor_id)
    assert "/calendar/feeds/" in issue(own, desk.clinic.doctor_id)
    stranger = Staff(app, "doctor", other.stream_id)
    # Another doctor's record is answered as an unknown one (docs/web.md), writing nothing.
    assert stranger.post(f"/doctors/{desk.clinic.doctor_id}/calendar-link", {}).status_code == 404
    reception = Staff(app, "reception")
    assert reception.post(f"/doctors/{desk.clinic.doctor_id}/calendar-link", {}).status_code == 403
    assert "Calendar subscription" not in page_text(
        reception.get(f"/doctors/{desk.clinic.doctor_id}")
    )
    assert desk.services.feeds.link(desk.clinic.doctor_id).issued_by == str(own.user.user_id)
