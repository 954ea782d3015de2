"""Bad input at every form: random and malformed fields and query strings, bodies over the
limit, ids that are not UUIDs, markup in names, requests without a valid CSRF token.

Whatever is sent, the answer is never a 5xx nor a traceback, and a refused request (any
status from 400 on) writes nothing: the event count and the staff accounts are as they were.
Each property test builds its clinic once and sends every example to it; examples that
succeed change the clinic (later ones may then be refused, with a 409), never break it.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import quote, urljoin, urlsplit
from uuid import UUID, uuid4

import pytest
from flask import Flask
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from werkzeug.test import TestResponse

from app.commands import (
    BookSeries,
    CheckInAppointment,
    ConfirmAppointment,
    CreateAppointment,
    DefineVisitType,
    JoinWaitlist,
    RecordAbsence,
)
from app.commands.series import book_series
from app.outbound.sender import patient_links

from ..backends import dispose, make_app
from ..clinic import Clinic, local, open_clinic
from ..conftest import Clock
from .projecting import catch_up
from .webclient import PASSWORD, Staff, account, page_text

DAY = "2027-01-11"  # the clock fixture's Monday; the clinic opens at 09:00
TARGET = "fuzz-target"  # the account the admin forms act on (never the signed-in admin)
EXPIRED = "This form has expired"
WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# Hypothesis keeps failing examples in .hypothesis/ (which ignores itself in git) and
# replays them first on the next run.
FUZZ = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


# -- the clinic the forms are sent to --


@dataclass
class BusyDesk:
    """A clinic on the app, an admin at the front desk, and ids worth sending."""

    app: Flask
    staff: Staff
    clinic: Clinic
    appointments: dict[str, UUID]
    command_ids: list[UUID] = field(default_factory=list)
    absences: list[UUID] = field(default_factory=list)
    visit_types: list[UUID] = field(default_factory=list)
    series: list[UUID] = field(default_factory=list)
    waiting: list[UUID] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)  # patients' links to their appointments

    @property
    def services(self) -> Any:
        return self.app.extensions["rendezvous"]

    def state(self) -> tuple[int, list[Any]]:
        """What a refused request must leave as it was: the events and the accounts."""
        return self.services.store.count(), self.services.accounts.all()

    def ids(self) -> list[str]:
        known = [self.clinic.doctor_id, *self.clinic.patient_ids, *self.appointments.values()]
        return [str(i) for i in (*known, *self.command_ids)]


def _book(clinic: Clinic, starts: str) -> tuple[UUID, UUID]:
    result = clinic.bus.handle(
        CreateAppointment(
            patient_id=clinic.patient_ids[0],
            doctor_id=clinic.doctor_id,
            starts_at=local(starts),
            duration_minutes=15,
            title="Check-up",
        )
    )
    return result.stream_id, result.command_id


def _open_busy_desk(app: Flask, clock: Clock) -> BusyDesk:
    """Monday 08:00: a doctor, three patients, four appointments in different states; then
    the clock moves to 09:45, so that each action is possible on one of them."""
    services = app.extensions["rendezvous"]
    services.bus.clock = services.projector.clock = clock
    clinic = open_clinic(services.bus)
    pending, first_command = _book(clinic, f"{DAY} 11:00")
    past, _ = _book(clinic, f"{DAY} 09:00")
    arrived, _ = _book(clinic, f"{DAY} 09:30")
    tomorrow, _ = _book(clinic, "2027-01-12 09:00")
    for appointment in (past, arrived):
        clinic.bus.handle(ConfirmAppointment(appointment_id=appointment))
    clinic.bus.handle(CheckInAppointment(appointment_id=arrived))
    away = clinic.bus.handle(
        RecordAbsence(
            doctor_id=clinic.doctor_id,
            starts_at=local("2027-01-20 00:00"),
            ends_at=local("2027-01-22 00:00"),
            reason="holiday",
        )
    )
    absence = services.store.load(away.stream_id)[-1].event.absence_id
    kind = clinic.bus.handle(DefineVisitType(label="Vaccination", minutes=15))
    visit_type = services.store.load(kind.stream_id)[-1].event.visit_type_id
    series = book_series(
        services.bus,
        BookSeries(
            patient_id=clinic.patient_ids[1],
            doctor_id=clinic.doctor_id,
            starts_at=local("2027-01-13 15:00"),
            duration_minutes=15,
            title="Course",
            every_weeks=1,
            occurrences=3,
        ),
        None,
    ).series.stream_id
    waiting = clinic.bus.handle(
        JoinWaitlist(
            patient_id=clinic.patient_ids[2],
            doctor_id=clinic.doctor_id,
            until_day="2027-02-28",
            title="Earlier",
        )
    ).stream_id
    clock.set_local(f"{DAY} 09:45")
    catch_up(services.projector)
    account(app, "reception", username=TARGET)
    appointments = {"pending": pending, "past": past, "arrived": arrived, "tomorrow": tomorrow}
    links = patient_links(app)
    tokens = [
        links.make(appointment, len(services.store.load(appointment)))
        for appointment in (pending, tomorrow, past)
    ]
    return BusyDesk(
        app,
        Staff(app),
        clinic,
        appointments,
        [first_command],
        [absence],
        [visit_type],
        [series],
        [waiting],
        tokens,
    )


@pytest.fixture
def busy_desk(app: Flask, clocked_app_services: Any, clock: Clock) -> BusyDesk:
    """The desk at 09:45 on the Monday, with an appointment for each action."""
    return _open_busy_desk(app, clock)


@pytest.fixture
def roomy_app(pg_url, pg_engine):  # type: ignore[no-untyped-def]
    """The app with sign-in limits no test here reaches (the default: 5 failures a minute
    per account), and the admin account."""
    roomy = "10000 per minute"
    app = make_app(pg_url, LOGIN_LIMIT_PER_ACCOUNT=roomy, LOGIN_LIMIT_PER_ADDRESS=roomy)
    account(app, "admin")
    yield app
    dispose(app)


class Visitor(Staff):
    """Someone at the sign-in page: not signed in, with the page's CSRF token."""

    def __init__(self, app: Flask) -> None:
        self.client = app.test_client()
        self.token = ""
        self.get("/login")
        assert self.token, "no CSRF token on the sign-in page"


def check_answer(response: TestResponse, before: Any, after: Any, what: str) -> None:
    """Never a server error or a traceback; a refusal changes nothing."""
    status = response.status_code
    event(f"status {status}")  # pytest --hypothesis-show-statistics: how often each
    assert status < 500, f"{what}: {status}\n{page_text(response)[:2000]}"
    assert "Traceback" not in page_text(response), what
    if status >= 400:
        assert after == before, f"{what}: refused with {status}, but wrote"


# -- what is sent --

# Text that has broken parsers before: empty, NUL, huge numbers, dates at the ends of the
# calendar, markup, SQL, escapes, right-to-left marks, digits of other scripts.
NASTY = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\r\n",
    "\t",
    "\u202e",
    "\ufeff",
    "\u00a0",
    "🙂🙂",
    "\u0661\u0665",  # 15 in Arabic-Indic digits: int() reads it
    "-1",
    "0",
    "-0",
    "+15",
    " 15 ",
    "15.0",
    "1e309",
    "NaN",
    "inf",
    "0x1F",
    "9" * 50,
    "-" + "9" * 50,
    "9" * 5000,  # more digits than int() reads
    "2147483648",
    "True",
    "None",
    "[]",
    "0000-00-00",
    "2027-02-30",
    "2027-01-11T25:00",
    "2027-01-11T09:00+99:00",
    "2027-01-11T09:00Z",
    "2027-01-11T09:00:00+01:00",
    "2027-03-28T02:30",  # the clocks go forward in Paris
    "2027-10-31T02:30",  # and back
    "0001-01-01",
    "9999-12-31",
    "9999-12-31T23:59",
    "0001-01-01T00:00",
    "24:00-25:00",
    "09:00-",
    "9-12",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "{{ 7 * 7 }}",
    "' OR 1=1 --",
    "Robert'); DROP TABLE events;--",
    "%",
    "_",
    "\\",
    "%00",
    "../../etc/passwd",
    "//evil.example",
    "javascript:alert(1)",
    "appointment:not-a-uuid:1",
]

long_text = st.builds(
    lambda chunk, times: chunk * times,
    st.text(min_size=1, max_size=4),
    st.integers(min_value=200, max_value=1500),
)
numbers = st.one_of(
    st.integers().map(str),
    st.integers(min_value=-(10**60), max_value=10**60).map(str),
    st.floats().map(str),
)
moments = st.one_of(
    st.dates().map(str),
    st.datetimes().map(lambda d: d.isoformat(timespec="minutes")),
    st.datetimes().map(lambda d: d.isoformat()),
    st.times().map(lambda t: t.isoformat(timespec="minutes")),
)
near_uuids = st.uuids().flatmap(
    lambda u: st.sampled_from(
        [str(u).upper(), f"{{{u}}}", u.hex, str(u)[:-1], f"{u}0", f" {u} ", f"urn:uuid:{u}"]
    )
)
junk = st.one_of(
    st.text(),  # any code point but surrogates: control characters, NUL, every script
    st.text(st.characters(max_codepoint=0x7F)),
    st.sampled_from(NASTY),
    long_text,
    numbers,
    moments,
    st.uuids().map(str),
    near_uuids,
)

# Values a field expects, right and nearly right, so that some examples get further.
GOOD: dict[str, list[str]] = {
    "full_name": ["Ada Lovelace", "Zoë O'Brien-Núñez", "<b>Bold</b> & Co"],
    "date_of_birth": ["1980-02-03", DAY, "2027-01-12", "1890-01-01"],
    "phone": ["0612345678", "+33 6 12 34 56 78", "12345"],
    "email": ["ada@example.org", "ada@example", ""],
    "specialty": ["General practice", "Dermatology"],
    "slot_minutes": ["15", "20", "0", "-5", "1441"],
    "expected_version": ["1", "2", "3", "0", "-1"],
    "starts_at": [f"{DAY}T10:00", f"{DAY}T11:00", "2027-01-12T09:15", f"{DAY}T08:00"],
    "duration_minutes": ["15", "30", "0", "-15", "1440", "1441"],
    "title": ["Check-up", "Vaccination"],
    "reason": ["Asked by the patient", ""],
    "day": [DAY, "2027-01-12", "2027-02-30"],
    "view": ["day", "week"],
    "q": ["Patient", "0612"],
    "context": ["detail", "list", "queue", "agenda", "reschedule", "row"],
    "next": ["/patients", "/appointments?from=", "//evil.example", "https://evil.example/"],
    "username": ["new-user", TARGET, "test-admin", "a", "Ünïcode"],
    "password": [PASSWORD, "another long password", "short", "new-user"],
    "role": ["reception", "doctor", "admin", "Admin", "root"],
    "active": ["0", "1", "2", "true"],
    # Query strings.
    "status": ["pending", "confirmed", "cancelled", "PENDING", "deleted"],
    "from": ["", DAY, "2027-02-30"],
    "to": ["", DAY, "2027-01-01"],
    "after": ["", "abc", "2027-01-11T09:00:00+00:00|x"],
    "version": ["1", "2", "0", "-1", "99"],
    "cancel": ["1", "0"],
}
GOOD["password_repeat"] = GOOD["password"]
# Absences, one-off hours, closures and visit types (issue 17).
GOOD["ends_at"] = [f"{DAY}T12:00", "2027-01-13T00:00", "2027-01-12", "9999-12-31T00:00"]
GOOD["reason"] += ["holiday", "training", "sick", "other"]
GOOD["note"] = ["Congrès", "<script>x</script>", ""]
GOOD["hours"] = ["09:00-12:00", "14:00-16:00, 16:00-18:00", "12:00-09:00", ""]
GOOD["label"] = ["Noël", "Vaccination", "<b>x</b>", ""]
GOOD["minutes"] = ["15", "0", "10000", "480"]
GOOD["holiday"] = ["2027-12-25", "2026-01-01", "9999-12-31"]
for _day in WEEK:
    GOOD[f"hours_{_day}"] = ["09:00-12:00", "9:00-12:30, 14:00-18:00", "12:00-09:00", "0:00-24:00"]
GOOD["anyway"] = ["1", "0", "yes"]  # "Register anyway", past the look-alike patients
GOOD["merged_version"] = GOOD["expected_version"]
# Series and the waitlist (issue 19).
GOOD["every_weeks"] = ["1", "2", "month", "0", "27", "-1"]
GOOD["occurrences"] = ["6", "52", "53", "10000", "1", "0"]
GOOD["until"] = ["2027-02-15", "2027-01-01", "2030-01-01", DAY]
GOOD["visit_2"] = GOOD["visit_3"] = ["skip", "planned", "2027-01-19T16:00", "2027-01-19T03:00"]
GOOD["from_occurrence"] = ["1", "2", "3", "0", "99"]
GOOD["whom"] = ["specialty:General practice", "specialty:", "doctor:", "doctor:x", "x"]
GOOD["from_day"] = [DAY, "2027-02-01", "2026-01-01"]
GOOD["until_day"] = ["2027-02-28", "2027-01-01", "2029-01-01", DAY]
GOOD["part_of_day"] = ["any", "morning", "afternoon", "evening"]
# Reminders and the patient's page (issue 20).
GOOD["consents"] = ["email", "sms", "", "pigeon"]
GOOD["preferred_channel"] = ["email", "sms", "fax"]
GOOD["language"] = ["", "fr", "en", "de"]
GOOD["name"] = ["Clinique du Parc", "<b>Parc</b>", ""]
GOOD["address"] = ["12 rue des Lilas, 75011 Paris", ""]
GOOD["what_to_bring"] = ["Your health card", ""]
GOOD["version"] = ["1", "2", "0", "99"]
GOOD["lang"] = ["fr", "en", "de"]
IDS = (
    "command_id", "patient_command_id", "patient_id", "doctor_id", "use_patient", "merged_id",
)  # fmt: skip
# What htmx names as the element it will swap (the app renders some as fragments).
TARGETS = [
    "appointment", "results", "patient-results", "patient-picker", "slots", "slot-list",
    "agenda", "day-board", "flash", "page", "appt-row", "x\x00y",
]  # fmt: skip


def value_for(name: str, busy_desk: BusyDesk) -> st.SearchStrategy[Any]:
    """Text for the field `name`: mostly junk, often a value it expects."""
    good = list(GOOD.get(name, []))
    if name in IDS or name.endswith("_id"):
        good += busy_desk.ids()
    one = st.one_of(st.sampled_from(good), junk) if good else junk
    # A field sent twice: the app reads the first.
    return st.one_of(one, one, one, st.lists(one, min_size=2, max_size=3))


def fields_for(names: tuple[str, ...], busy_desk: BusyDesk, made_up: bool = True, size: int = 8):
    """Some of the endpoint's real fields, with random values, and a few made-up fields."""
    if not names and not made_up:
        return st.just({})  # a form with no fields of its own
    keys: st.SearchStrategy[str] = st.sampled_from(names) if names else st.nothing()
    if made_up:
        keys = keys | keys | st.text(min_size=1, max_size=20).filter(lambda k: k != "csrf_token")
    return st.lists(keys, max_size=size, unique=True).flatmap(
        lambda chosen: st.fixed_dictionaries({k: value_for(k, busy_desk) for k in chosen})
    )


# Forms that would be accepted, for examples that change a field or two of one.
names = st.text(st.characters(categories=["L", "M", "N", "P", "S", "Zs"]), max_size=60).filter(
    str.strip
)
births = st.dates(date(1900, 1, 1), date(2027, 1, 10)).map(str)
free_times = st.sampled_from(
    [f"{d}T{h:02}:{m:02}" for d in (DAY, "2027-01-12") for h in (14, 15, 16, 17) for m in (0, 30)]
)
details = {"full_name": names, "date_of_birth": births, "phone": st.just("0612345678")}
usernames = st.from_regex(r"[a-z0-9][a-z0-9._-]{1,31}", fullmatch=True)
passwords = st.text(min_size=12, max_size=40).filter(str.strip)
VALID: dict[str, Callable[[BusyDesk], dict[str, st.SearchStrategy[Any]]]] = {
    "/patients": lambda busy_desk: details,
    "/patients/{patient}": lambda busy_desk: details,
    "/doctors": lambda busy_desk: {"full_name": names, "specialty": names},
    "/doctors/{doctor}/hours": lambda busy_desk: {
        "hours_mon": st.just("09:00-12:00, 14:00-18:00"),
        "hours_tue": st.just("9:00-12:00"),
        "slot_minutes": st.sampled_from(["15", "20", "30"]),
    },
    "/appointments": lambda busy_desk: {
        "patient_id": st.sampled_from([str(p) for p in busy_desk.clinic.patient_ids]),
        "doctor_id": st.just(str(busy_desk.clinic.doctor_id)),
        "starts_at": free_times,
        "duration_minutes": st.just("15"),
        "title": names,
    },
    "/appointments/new/patient": lambda busy_desk: details,
    "/appointments/series": lambda busy_desk: {
        "patient_id": st.sampled_from([str(p) for p in busy_desk.clinic.patient_ids]),
        "doctor_id": st.just(str(busy_desk.clinic.doctor_id)),
        "starts_at": free_times, "duration_minutes": st.just("15"), "title": names,
        "every_weeks": st.sampled_from(["1", "2", "month"]),
        "occurrences": st.sampled_from(["2", "3"])},
    "/appointments/series/{series}/cancel": lambda busy_desk: {
        "from_occurrence": st.sampled_from(["1", "2", "3"]), "reason": names},
    "/waitlist": lambda busy_desk: {
        "patient_id": st.sampled_from([str(p) for p in busy_desk.clinic.patient_ids]),
        "whom": st.just(f"doctor:{busy_desk.clinic.doctor_id}"),
        "until_day": st.just("2027-02-28"), "title": names},
    "/waitlist/{waiting}/book": lambda busy_desk: {
        "doctor_id": st.just(str(busy_desk.clinic.doctor_id)),
        "starts_at": free_times, "duration_minutes": st.just("15")},
    "/appointments/{appointment}/cancel": lambda busy_desk: {"reason": names},
    "/appointments/{appointment}/reschedule": lambda busy_desk: {
        "starts_at": free_times, "duration_minutes": st.just("15")},
    "/admin/users": lambda busy_desk: {
        "username": usernames, "full_name": names, "role": st.just("reception"),
        "password": st.just(PASSWORD), "password_repeat": st.just(PASSWORD)},
    "/admin/users/{account}/active": lambda busy_desk: {"active": st.sampled_from(["0", "1"])},
    "/admin/users/{account}/password": lambda busy_desk: {"password": passwords},
}  # fmt: skip


# -- the form endpoints --

PATIENT = ("full_name", "date_of_birth", "phone", "email", "command_id")
BOOKING = ("patient_id", "doctor_id", "day", "starts_at", "duration_minutes", "title", "q")
ACTION = ("expected_version", "command_id", "context", "next", "day")
HOURS = tuple(f"hours_{d}" for d in WEEK)
SERIES = ("every_weeks", "occurrences", "until", "visit_2", "visit_3", "confirmed")
WAIT = ("patient_id", "whom", "from_day", "until_day", "part_of_day", "title", "note")


@dataclass(frozen=True)
class Form:
    method: str
    path: str  # {patient}, {doctor}, {appointment}, {account}: filled in per example
    fields: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.method} {self.path}"

    def data(self, busy_desk: BusyDesk) -> st.SearchStrategy[dict[str, Any]]:
        """Random fields; or a form that would be accepted, with a field or two changed."""
        random = fields_for(self.fields, busy_desk)
        valid = VALID.get(self.path, lambda busy_desk: {})(busy_desk)
        nearly = st.builds(
            lambda form, changes: {**form, **changes},
            st.fixed_dictionaries(valid),
            fields_for(self.fields, busy_desk, made_up=False, size=2),
        )
        return random | nearly


FORMS = [
    Form("POST", "/patients", (*PATIENT, "anyway")),
    Form("POST", "/patients/{patient}", (*PATIENT, "expected_version")),
    Form(
        "POST",
        "/patients/{patient}/merge",
        ("merged_id", "merged_version", "expected_version", "command_id"),
    ),
    Form("POST", "/doctors", ("full_name", "specialty", "slot_minutes", "command_id")),
    Form(
        "POST",
        "/doctors/{doctor}/hours",
        (*HOURS, "slot_minutes", "expected_version", "command_id", "day", "view"),
    ),
    Form(
        "POST",
        "/doctors/{doctor}/absences",
        ("starts_at", "ends_at", "reason", "note", "command_id", "day", "view"),
    ),
    Form(
        "POST",
        "/doctors/{doctor}/absences/{absence}",
        ("starts_at", "ends_at", "reason", "note", "command_id"),
    ),
    Form("POST", "/doctors/{doctor}/absences/{absence}/cancel", ("command_id",)),
    Form("POST", "/doctors/{doctor}/day-hours", ("day", "hours", "command_id")),
    Form("POST", "/doctors/{doctor}/day-hours/clear", ("day", "command_id")),
    Form("POST", "/settings/closures", ("day", "label", "holiday", "command_id")),
    Form("POST", "/settings/closures/{day}/reopen", ("command_id",)),
    Form("POST", "/settings/hours", (*HOURS, "expected_version", "command_id")),
    Form(
        "POST",
        "/settings/visit-types",
        ("label", "minutes", "doctor_id", "specialty", "command_id"),
    ),
    Form("POST", "/settings/visit-types/{visit_type}/retire", ("command_id",)),
    Form(
        "POST",
        "/appointments",
        (*BOOKING, "command_id", "visit_type_id", *PATIENT[:4], *SERIES),
    ),
    Form("POST", "/appointments/series", (*BOOKING, "command_id", "visit_type_id", *SERIES)),
    Form(
        "POST",
        "/appointments/series/{series}/cancel",
        ("from_occurrence", "reason", "expected_version", "command_id"),
    ),
    Form(
        "POST",
        "/patients/{patient}/reminders",
        ("consents", "preferred_channel", "language", "expected_version", "command_id"),
    ),
    Form("POST", "/settings/contact", ("name", "address", "phone", "what_to_bring", "command_id")),
    Form("POST", "/p/{token}/confirm", ("version", "command_id")),
    Form("POST", "/p/{token}/cancel", ("version", "command_id", "reason")),
    Form("POST", "/ops/reminders/{reminder}/retry", ()),
    Form("POST", "/waitlist", (*WAIT, "command_id")),
    Form("POST", "/waitlist/{waiting}/remove", ("expected_version", "command_id")),
    Form(
        "POST",
        "/waitlist/{waiting}/book",
        ("doctor_id", "starts_at", "duration_minutes", "command_id"),
    ),
    Form(
        "POST",
        "/appointments/new/patient",
        (*PATIENT[:4], "patient_command_id", "anyway", "use_patient", *BOOKING),
    ),
    Form("POST", "/appointments/{appointment}/confirm", ACTION),
    Form("PUT", "/appointments/{appointment}/confirm", ACTION),
    Form("POST", "/appointments/{appointment}/cancel", (*ACTION, "reason")),
    Form(
        "POST",
        "/appointments/{appointment}/reschedule",
        (*ACTION, "starts_at", "duration_minutes", "reason"),
    ),
    Form("POST", "/appointments/{appointment}/check-in", ACTION),
    Form("POST", "/appointments/{appointment}/complete", ACTION),
    Form("POST", "/appointments/{appointment}/no-show", ACTION),
    Form(
        "POST",
        "/admin/users",
        ("username", "full_name", "role", "doctor_id", "password", "password_repeat"),
    ),
    Form("POST", "/admin/users/{account}/active", ("active",)),
    Form("POST", "/admin/users/{account}/password", ("password",)),
    # Rebuild is left out: each accepted example would start one in a thread.
    Form("POST", "/ops/projections/{projection}/retry", ()),
    Form("POST", "/ops/projections/{projection}/skip", ("position",)),
]


def url_for_example(path: str, busy_desk: BusyDesk, data: st.DataObject) -> str:
    places: dict[str, str] = {}
    if "{patient}" in path:
        places["patient"] = str(data.draw(st.sampled_from(busy_desk.clinic.patient_ids)))
    if "{doctor}" in path:
        places["doctor"] = str(busy_desk.clinic.doctor_id)
    if "{appointment}" in path:
        appointments = list(busy_desk.appointments.values())
        places["appointment"] = str(data.draw(st.sampled_from(appointments)))
    if "{absence}" in path:
        places["absence"] = str(data.draw(st.sampled_from([*busy_desk.absences, uuid4()])))
    if "{visit_type}" in path:
        places["visit_type"] = str(data.draw(st.sampled_from([*busy_desk.visit_types, uuid4()])))
    if "{series}" in path:
        places["series"] = str(data.draw(st.sampled_from([*busy_desk.series, uuid4()])))
    if "{waiting}" in path:
        places["waiting"] = str(data.draw(st.sampled_from([*busy_desk.waiting, uuid4()])))
    if "{token}" in path:
        forged = st.sampled_from(busy_desk.tokens).map(lambda t: t[:-2] + "xx")
        places["token"] = quote(
            data.draw(st.sampled_from(busy_desk.tokens) | forged | junk, label="token"), safe=""
        )
    if "{reminder}" in path:
        places["reminder"] = quote(data.draw(st.text(min_size=1), label="reminder"), safe="")
    if "{day}" in path:
        places["day"] = quote(data.draw(st.sampled_from(GOOD["day"]) | junk), safe="")
    if "{account}" in path:
        # Mostly the target; the signed-in admin (who may not disable themself), or a name
        # that is no account.
        account_names = st.sampled_from([TARGET, TARGET, TARGET, "test-admin"]) | st.text(
            min_size=1
        )
        places["account"] = quote(data.draw(account_names, label="account"), safe="")
    if "{projection}" in path:
        names = st.sampled_from(["patients", "doctors", "appointments"]) | st.text(min_size=1)
        places["projection"] = quote(data.draw(names, label="projection"), safe="")
    return path.format(**places)


@pytest.mark.parametrize("form", FORMS, ids=str)
@FUZZ
@given(data=st.data())
def test_no_form_input_gives_a_server_error_or_a_partial_write(busy_desk, form, data):
    url = url_for_example(form.path, busy_desk, data)
    fields = data.draw(form.data(busy_desk), label="form")
    htmx = data.draw(st.none() | st.sampled_from(TARGETS), label="htmx")
    multipart = data.draw(st.booleans(), label="multipart")
    kwargs = {"content_type": "multipart/form-data"} if multipart else {}
    before = busy_desk.state()
    response = busy_desk.staff.post(url, fields, method=form.method, htmx=htmx, **kwargs)
    check_answer(response, before, busy_desk.state(), f"{form.method} {url} {fields!r} htmx={htmx}")


# -- query strings: the search and filter forms, and the links pages build --

QUERIES = {
    "/": ("day",),
    "/appointments": ("status", "doctor_id", "patient_id", "from", "to", "q", "after"),
    "/appointments/{appointment}": ("version",),
    "/appointments/{appointment}/row": ("context", "cancel"),
    "/appointments/{appointment}/reschedule": ("day",),
    "/appointments/new": (*BOOKING, *PATIENT, "patient_command_id"),
    "/appointments/new/patients": ("q", "patient_id"),
    "/appointments/new/slots": BOOKING,
    "/patients": ("q",),
    "/patients/{patient}": (),
    "/patients/{patient}/merge": ("q", "merged_id"),
    "/doctors": (),
    "/doctors/{doctor}": ("day", "view"),
    "/doctors/{doctor}/absences/{absence}": (),
    "/call-list": ("doctor_id",),
    "/appointments/series/{series}": ("from", "cancelled"),
    "/p/{token}": ("lang", "done"),
    "/waitlist": ("doctor_id",),
    "/waitlist/new": ("patient_id", "whom", "q", "doctor_id", "from_day", "until_day"),
    "/settings": (),
    "/admin/users": (),
    "/login": ("next",),
    "/ops": (),
    "/ops/charts": (),
    "/ops/projections/{projection}": (),
}


def expectations(busy_desk: BusyDesk) -> st.SearchStrategy[str]:
    """`expect=kind:id:version`, as a redirect after a command writes it, and nearly."""
    kinds = st.sampled_from(
        ["appointment", "patient", "doctor", "availability", "clinic", "series", "waitlist", ""]
    )
    versions = st.sampled_from(["1", "0", "-1", "99", "9" * 50, "x"])
    ids = st.sampled_from(busy_desk.ids()) | junk
    return st.builds(lambda *parts: ":".join(parts), kinds, ids, versions) | junk


@pytest.mark.parametrize("path", QUERIES, ids=str)
@FUZZ
@given(data=st.data())
def test_no_query_string_gives_a_server_error(busy_desk, path, data):
    url = url_for_example(path, busy_desk, data)
    query = data.draw(fields_for(QUERIES[path], busy_desk), label="query")
    if data.draw(st.booleans()):
        query["expect"] = data.draw(expectations(busy_desk), label="expect")
    htmx = data.draw(st.none() | st.sampled_from(TARGETS), label="htmx")
    headers = {"HX-Request": "true", "HX-Target": htmx} if htmx else {}
    before = busy_desk.state()
    response = busy_desk.staff.client.get(url, query_string=query, headers=headers)
    check_answer(response, before, busy_desk.state(), f"GET {url} {query!r} htmx={htmx}")
    assert busy_desk.state() == before, f"GET {url} {query!r} wrote"


# -- signing in --


@FUZZ
@given(data=st.data())
def test_no_sign_in_input_gives_a_server_error(roomy_app, data):
    services = roomy_app.extensions["rendezvous"]
    fields = data.draw(
        st.fixed_dictionaries(
            {},
            optional={
                "username": st.sampled_from(["test-admin", "TEST-ADMIN ", "nobody"]) | junk,
                "password": st.sampled_from([PASSWORD, "wrong password"]) | junk,
                "next": st.sampled_from(GOOD["next"]) | junk,
                "remember": junk,
            },
        ),
        label="form",
    )
    htmx = data.draw(st.none() | st.just("page"), label="htmx")
    visitor = Visitor(roomy_app)  # a fresh one: a right password starts a new session
    before = services.store.count(), services.accounts.all()
    response = visitor.post("/login", fields, htmx=htmx)
    after = services.store.count(), services.accounts.all()
    check_answer(response, before, after, f"POST /login {fields!r} htmx={htmx}")
    # 400: a NUL character, which no browser form sends.
    assert response.status_code in (303, 400, 401, 413, 422), response.status_code


# Addresses that have led off site somewhere: schemes, protocol-relative, backslashes (read
# as "/"), tabs and newlines (dropped by browsers), CR/LF (header injection). Without NUL,
# which is refused with 400 before anything reads the request (see the cases below), and
# without surrogates, which no request can carry.
NEXT_PREFIXES = ["/", "//", "///", "/\\", "\\\\", "/\t/", "/\r\n", "http:", "https://",
                 "javascript:", " /", "/%2F", "/\x7f", "/\u2028"]  # fmt: skip
texts = st.text(st.characters(codec="utf-8", exclude_characters="\x00"))
next_addresses = st.one_of(
    texts,
    st.tuples(st.sampled_from(NEXT_PREFIXES), texts).map("".join),
    st.sampled_from(["/\r\nX: y", "/patients", "/appointments?from=", "/é?q=ü"]),
)


def leads_to_this_site(location: str) -> bool:
    """Whether a browser on clinic.example, following `location`, stays there."""
    if not location.startswith("/") or "\\" in location:
        return False
    if any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in location):
        return False
    return urlsplit(urljoin("https://clinic.example/login", location)).netloc == "clinic.example"


@FUZZ
@given(target=next_addresses)
def test_no_next_address_gives_a_server_error_or_leads_off_site(roomy_app, target):
    visitor = Visitor(roomy_app)
    shown = visitor.client.get("/login", query_string={"next": target})
    assert shown.status_code == 200, f"GET /login next={target!r}: {shown.status_code}"
    signed_in = visitor.post(
        "/login", {"username": "test-admin", "password": PASSWORD, "next": target}
    )
    assert signed_in.status_code == 303, f"POST /login next={target!r}: {signed_in.status_code}"
    assert leads_to_this_site(signed_in.headers["Location"]), (target, signed_in.headers)
    # Signed in already, the sign-in page sends on at once.
    again = visitor.client.get("/login", query_string={"next": target})
    assert again.status_code == 303, f"GET /login next={target!r}: {again.status_code}"
    assert leads_to_this_site(again.headers["Location"]), (target, again.headers)


# -- a body over the limit --


def test_a_body_over_the_limit_gets_413_and_writes_nothing(busy_desk):
    limit = busy_desk.app.config["MAX_CONTENT_LENGTH"]
    assert limit, "no MAX_CONTENT_LENGTH configured"
    form = {"full_name": "x" * (limit + 1), "date_of_birth": "1980-02-03", "phone": "0612345678"}
    for htmx in (None, "page"):
        before = busy_desk.state()
        response = busy_desk.staff.post("/patients", form, htmx=htmx)
        assert response.status_code == 413, response.status_code
        assert busy_desk.state() == before
        text = page_text(response)
        assert "Traceback" not in text
        assert "too large" in text.lower(), text[:2000]  # a page for people
    # Just under the limit the form is read, and refused for the name's length.
    form["full_name"] = "x" * (limit - 1000)
    before = busy_desk.state()
    response = busy_desk.staff.post("/patients", form)
    assert response.status_code == 422
    assert "too long" in page_text(response)
    assert busy_desk.state() == before


# -- ids that are not UUIDs --

ID_ROUTES = [
    ("GET", "/appointments/{}"),
    ("GET", "/appointments/{}/row"),
    ("GET", "/appointments/{}/reschedule"),
    ("GET", "/patients/{}"),
    ("GET", "/doctors/{}"),
    ("POST", "/patients/{}"),
    ("POST", "/doctors/{}/hours"),
    *[
        ("POST", f"/appointments/{{}}/{action}")
        for action in ("confirm", "cancel", "reschedule", "check-in", "complete", "no-show")
    ],
    ("PUT", "/appointments/{}/confirm"),
]


def _not_a_uuid(text: str) -> bool:
    try:
        UUID(text)
    except ValueError:
        return True
    return False


# Not UUIDs; nor "new", which with what follows it is a real page (/appointments/new).
not_uuids = st.one_of(st.text(min_size=1), near_uuids, st.sampled_from(NASTY[1:])).filter(
    lambda x: _not_a_uuid(x) and x.split("/")[0] not in ("new", ".", "..")
)


@settings(FUZZ, max_examples=120)
@given(x=not_uuids, route=st.sampled_from(ID_ROUTES), htmx=st.none() | st.just("appointment"))
def test_ids_that_are_not_uuids_get_404(busy_desk, x, route, htmx):
    method, path = route
    url = path.format(quote(x, safe=""))
    before = busy_desk.state()
    if method == "GET":
        headers = {"HX-Request": "true", "HX-Target": htmx} if htmx else {}
        response = busy_desk.staff.client.get(url, headers=headers)
    else:
        form = {"reason": "Asked by the patient", "command_id": str(uuid.uuid4())}
        response = busy_desk.staff.post(url, form, method=method, htmx=htmx)
    # A NUL character is refused before routing looks at the id.
    expected = 400 if "\x00" in x else 404
    assert response.status_code == expected, f"{method} {url}: {response.status_code}"
    assert "Traceback" not in page_text(response)
    assert busy_desk.state() == before


# -- markup in names, titles and reasons --

PATIENT_NAME = '<script>alert(1)</script> & "Bob"'
DOCTOR_NAME = "<b>Dr</b>"
TITLE = "<img src=x onerror=alert(1)>"
REASON = "<i>late</i>"
RAW = (PATIENT_NAME, "<script>alert(1)", DOCTOR_NAME, "<u>Skin</u>", TITLE, REASON)


def _made(response: TestResponse, kind: str) -> UUID:
    assert response.status_code == 303, page_text(response)[:2000]
    found = re.search(rf"/{kind}/([0-9a-f-]{{36}})", response.headers["Location"])
    assert found, response.headers["Location"]
    return UUID(found.group(1))


def test_markup_in_names_titles_and_reasons_is_shown_escaped(busy_desk):
    staff = busy_desk.staff
    patient = _made(
        staff.post(
            "/patients",
            # A phone of its own: the clinic's patients share one, and would look alike.
            {"full_name": PATIENT_NAME, "date_of_birth": "1980-02-03", "phone": "0698765400"},
        ),
        "patients",
    )
    doctor = _made(
        staff.post("/doctors", {"full_name": DOCTOR_NAME, "specialty": "<u>Skin</u>"}), "doctors"
    )
    hours = {f"hours_{d}": "09:00-12:00, 14:00-18:00" for d in WEEK[:5]}
    response = staff.post(f"/doctors/{doctor}/hours", {**hours, "slot_minutes": "15"})
    assert response.status_code == 303, page_text(response)[:2000]

    def book(starts: str) -> UUID:
        form = {
            "patient_id": str(patient),
            "doctor_id": str(doctor),
            "starts_at": starts,
            "duration_minutes": "15",
            "title": TITLE,
            "command_id": str(uuid.uuid4()),
        }
        return _made(staff.post("/appointments", form), "appointments")

    kept, cancelled = book(f"{DAY}T10:00"), book(f"{DAY}T10:30")
    response = staff.post(f"/appointments/{cancelled}/cancel", {"reason": REASON})
    assert response.status_code == 303, page_text(response)[:2000]
    catch_up(busy_desk.services.projector)

    patient_shown = "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;Bob&#34;"
    doctor_shown = "&lt;b&gt;Dr&lt;/b&gt;"
    title_shown = "&lt;img src=x onerror=alert(1)&gt;"
    reason_shown = "&lt;i&gt;late&lt;/i&gt;"
    pages = {
        f"/patients/{patient}": (patient_shown, title_shown),
        f"/doctors/{doctor}?day={DAY}": (doctor_shown, patient_shown, title_shown),
        f"/appointments/{kept}": (patient_shown, doctor_shown, title_shown),
        f"/appointments/{cancelled}": (patient_shown, doctor_shown, reason_shown),
        f"/appointments/{kept}/row": (patient_shown, title_shown),
        "/appointments?from=": (patient_shown, doctor_shown, title_shown),
        f"/?day={DAY}": (patient_shown, doctor_shown),
        "/patients?q=script": (patient_shown,),
        "/doctors": (doctor_shown, "&lt;u&gt;Skin&lt;/u&gt;"),
    }
    for url, shown in pages.items():
        response = staff.client.get(url)
        assert response.status_code == 200, url
        text = page_text(response)
        for raw in RAW:
            assert raw not in text, f"{url} shows {raw!r} unescaped"
        for escaped in shown:
            assert escaped in text, f"{url} does not show {escaped!r}"


# -- CSRF --


def _csrf_forms(busy_desk: BusyDesk) -> list[tuple[str, str, dict[str, str]]]:
    """Every form endpoint with a form it accepts, in an order in which each one does."""
    clinic, appts = busy_desk.clinic, busy_desk.appointments
    patient, doctor = clinic.patient_ids[1], clinic.doctor_id
    # Phones of their own: the clinic's patients share one, and would look alike.
    person = {"full_name": "Eve Example", "date_of_birth": "1980-02-03", "phone": "0698765401"}
    book = {"patient_id": str(patient), "doctor_id": str(doctor), "duration_minutes": "15"}
    return [
        ("POST", "/patients", person),
        ("POST", f"/patients/{patient}", {**person, "full_name": "Eve Changed"}),
        ("POST", "/doctors", {"full_name": "Dr Who", "specialty": "Time"}),
        ("POST", "/appointments", {**book, "starts_at": f"{DAY}T14:00", "title": "Check-up"}),
        ("POST", "/appointments/new/patient", {
            **person, "full_name": "Fay Example", "phone": "0698765402"}),
        ("POST", f"/appointments/{appts['pending']}/confirm", {}),
        ("POST", f"/appointments/{appts['pending']}/check-in", {}),
        ("POST", f"/appointments/{appts['arrived']}/complete", {}),
        ("POST", f"/appointments/{appts['past']}/no-show", {}),
        ("PUT", f"/appointments/{appts['tomorrow']}/confirm", {}),
        ("POST", f"/appointments/{appts['tomorrow']}/reschedule", {
            "starts_at": "2027-01-12T10:00", "duration_minutes": "15"}),
        ("POST", f"/appointments/{appts['tomorrow']}/cancel", {"reason": "Asked by the patient"}),
        ("POST", f"/doctors/{doctor}/hours", {"hours_mon": "09:00-12:00", "slot_minutes": "15"}),
        ("POST", "/admin/users", {
            "username": "new-reception", "role": "reception", "full_name": "New Reception",
            "password": PASSWORD, "password_repeat": PASSWORD}),
        ("POST", f"/admin/users/{TARGET}/password", {"password": "another long password"}),
        ("POST", f"/admin/users/{TARGET}/active", {"active": "0"}),
    ]  # fmt: skip


def _without_a_valid_token(staff: Staff, other: Staff, method: str, url: str, form: dict):  # type: ignore[no-untyped-def]
    """The same request, refused: no token, an empty one, a made-up one, another session's
    token, and a made-up one in htmx's header."""
    assert other.token and other.token != staff.token
    send = staff.client.open
    yield "no token", send(url, method=method, data=form)
    for name, token in (("empty", ""), ("made-up", "x" * 40), ("another session's", other.token)):
        yield f"{name} token", send(url, method=method, data={**form, "csrf_token": token})
    headers = {"HX-Request": "true", "HX-Target": "page", "X-CSRFToken": "x" * 40}
    yield "made-up htmx header", send(url, method=method, data=form, headers=headers)


def test_forms_without_a_valid_csrf_token_get_400_and_change_nothing(busy_desk):
    staff, other = busy_desk.staff, Staff(busy_desk.app, "reception")
    staff.get("/")
    other.get("/")
    for method, url, form in _csrf_forms(busy_desk):
        before = busy_desk.state()
        for how, response in _without_a_valid_token(staff, other, method, url, form):
            what = f"{method} {url} with {how}"
            assert response.status_code == 400, f"{what}: {response.status_code}"
            assert EXPIRED in page_text(response), what
            assert busy_desk.state() == before, f"{what} wrote"
        # With the token the same form goes through: it was refused for the token alone.
        response = staff.post(url, form, method=method)
        assert response.status_code in (200, 303), f"{method} {url}: {response.status_code}"
        assert busy_desk.state() != before, f"{method} {url} wrote nothing with the token"
    # Signing out needs the token too: without it, still signed in.
    for how, response in _without_a_valid_token(staff, other, "POST", "/logout", {}):
        assert response.status_code == 400, how
    assert staff.client.get("/").status_code == 200


def test_signing_in_without_a_valid_csrf_token_gets_400(roomy_app):
    visitor, other = Visitor(roomy_app), Visitor(roomy_app)
    form = {"username": "test-admin", "password": PASSWORD}
    for how, response in _without_a_valid_token(visitor, other, "POST", "/login", form):
        assert response.status_code == 400, how
        assert EXPIRED in page_text(response), how
    # Not signed in by any of them; with the token, signed in.
    assert visitor.client.get("/").status_code == 303
    assert visitor.post("/login", form).status_code == 303
    assert visitor.client.get("/").status_code == 200


# -- inputs the app answered with a 500 until the property tests above found them --
# Each case is the smallest reproduction found. A NUL character (which PostgreSQL cannot
# store in text) or a form part without a name is refused with 400 before anything reads
# the request; a day at an end of the calendar (whose day before or week after would
# overflow) is treated as no day given.

NAMELESS_PART = b"--fuzz\r\nContent-Disposition: form-data\r\n\r\nvalue\r\n--fuzz--\r\n"


@dataclass(frozen=True)
class Case:
    what: str
    method: str
    path: str  # {doctor}, {appointment}: the busy_desk's
    form: dict[str, str] | None = None
    htmx: bool = False

    def __str__(self) -> str:
        return self.what


FIRST, LAST = "0001-01-01", "9999-12-31"
HOURS_PATH, RESCHEDULE = "/doctors/{doctor}/hours", "/appointments/{appointment}/reschedule"
SLOTS = "/appointments/new/slots?doctor_id={doctor}&day="
NEW_ACCOUNT = {
    "username": "new-user",
    "full_name": "a\x00b",
    "role": "reception",
    "password": PASSWORD,
    "password_repeat": PASSWORD,
}
CASES = [
    # psycopg refused NUL in a text parameter (DataError) where a name or a search was looked
    # up as typed: Accounts.find, the users insert, search_patients, list_appointments.
    Case("NUL in the account of the path", "POST", "/admin/users/a%00b/active", {"active": "1"}),
    Case("NUL in the account, password", "POST", "/admin/users/%00/password", {"password": "x"}),
    Case("NUL in a new account's name", "POST", "/admin/users", NEW_ACCOUNT),
    Case("NUL in the booking form's search", "POST", "/appointments", {"q": "\x00"}),
    Case("NUL in the search, new patient", "POST", "/appointments/new/patient", {"q": "\x00"}),
    Case("NUL in the patient search", "GET", "/patients?q=%00"),
    Case("NUL in the appointment search", "GET", "/appointments?q=%00"),
    Case("NUL in the booking's patient search", "GET", "/appointments/new/patients?q=%00"),
    # OverflowError (date value out of range) for a day at an end of the calendar: the
    # previous/next day links, the week's bounds, local_bounds, free_slots_for_day.
    Case("last day, refused hours", "POST", HOURS_PATH, {"day": LAST, "slot_minutes": "0"}),
    Case("first day, refused hours", "POST", HOURS_PATH, {"day": FIRST, "slot_minutes": "0"}),
    Case(
        "first day, refused reschedule", "POST", RESCHEDULE, {"context": "reschedule", "day": FIRST}
    ),
    Case("last day, Today", "GET", "/?day=9999-12-31"),
    Case("first day, Today", "GET", "/?day=0001-01-01"),
    Case("last day, agenda", "GET", "/doctors/{doctor}?day=9999-12-31"),
    Case("first day, agenda", "GET", "/doctors/{doctor}?day=0001-01-01"),
    Case("last day, week", "GET", "/doctors/{doctor}?day=9999-12-31&view=week"),
    Case("last day, list from", "GET", "/appointments?from=9999-12-31"),
    Case("first day, list to", "GET", "/appointments?to=0001-01-01"),
    Case("first day, reschedule page", "GET", f"{RESCHEDULE}?day={FIRST}"),
    Case("first day, free slots", "GET", SLOTS + FIRST),
    # Found on a fresh clone: a time on the first day overflowed converting it to UTC.
    Case(
        "first day, booking time",
        "POST",
        "/appointments",
        {"doctor_id": "{doctor}", "duration_minutes": "15", "starts_at": "0001-1-1T0:0"},
    ),
    Case("first day, reschedule time", "POST", RESCHEDULE, {"starts_at": "0001-01-01T00:00"}),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_inputs_that_once_gave_a_500_are_refused_or_ignored(busy_desk, case):
    pending = busy_desk.appointments["pending"]
    url = case.path.format(doctor=busy_desk.clinic.doctor_id, appointment=pending)
    before = busy_desk.state()
    if case.method == "GET":
        response = busy_desk.staff.client.get(url)
    else:
        response = busy_desk.staff.post(url, case.form or {}, method=case.method)
    text = page_text(response)
    assert "Traceback" not in text
    if "NUL" in case.what:
        assert response.status_code == 400, f"{case.method} {url}: {response.status_code}"
        assert "not allowed (NUL)" in text
    elif case.method == "GET":
        assert response.status_code == 200, f"{case.method} {url}: {response.status_code}"
    else:
        # A form to correct (the day was only where to come back to).
        assert response.status_code == 422, f"{case.method} {url}: {response.status_code}"
    assert busy_desk.state() == before


def test_nul_in_the_username_at_sign_in_is_a_refusal(roomy_app):
    # It was a 500: DataError in Accounts.find, before anyone signed in.
    response = Visitor(roomy_app).post("/login", {"username": "\x00", "password": "x" * 12})
    assert response.status_code == 400, response.status_code


def test_a_nameless_multipart_part_is_a_refusal_not_a_500(busy_desk, roomy_app):
    # A multipart part without a name gives the form a None key; Flask-WTF's
    # CSRFProtect._get_csrf_token, looking for a prefixed token among the keys when there
    # is no csrf_token field, called None.endswith: a 500 on any POST, before sign-in.
    multipart = {"content_type": "multipart/form-data; boundary=fuzz", "data": NAMELESS_PART}
    response = Visitor(roomy_app).client.post("/login", **multipart)
    assert response.status_code == 400, response.status_code
    # Signed in, the token in htmx's header (as htmx sends it): refused the same way.
    staff = busy_desk.staff
    staff.get("/")
    headers = {"HX-Request": "true", "HX-Target": "page", "X-CSRFToken": staff.token}
    before = busy_desk.state()
    response = staff.client.post("/patients", headers=headers, **multipart)
    assert response.status_code == 400, response.status_code
    assert "a field without a name" in page_text(response)
    assert busy_desk.state() == before
