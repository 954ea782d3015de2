"""Reminders' rules (issue 20): which reminder is due when, which channel one goes by or
why none, consents as events on the patient's record, one outcome per reminder, and the
patient's confirm and cancel as commands no member of staff may send."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from app.commands import commands as c
from app.domain.errors import ForbiddenError, ValidationError
from app.domain.reminders import (
    Contact,
    Plan,
    Reminders,
    choose_channel,
    reminder_key,
    reminders_stream_id,
)
from app.domain.staff import Principal, Role

from ..clinic import Clinic, local

NOW = datetime(2027, 1, 11, 7, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("hours_ahead", "second", "due"),
    [
        (72, 0, None),  # too early
        (47, 0, "first"),
        (1, 0, "first"),  # booked late: the only reminder still goes
        (47, 2, "first"),
        (1.5, 2, "second"),  # within the second's hours, only the nearer one
        (-1, 2, None),  # passed
    ],
)
def test_the_reminder_due_depends_on_the_hours_left(hours_ahead, second, due):  # type: ignore[no-untyped-def]
    plan = Plan(first_hours=48, second_hours=second)
    assert plan.due_kind(NOW + timedelta(hours=hours_ahead), NOW) == due


def test_a_move_gives_a_reminder_a_new_key():
    appointment = uuid4()
    before = reminder_key(appointment, "first", NOW + timedelta(hours=30))
    after = reminder_key(appointment, "first", NOW + timedelta(hours=31))
    assert before != after
    # The same instant in another zone is the same reminder.
    same = (NOW + timedelta(hours=30)).astimezone(local("2027-01-11 08:00").tzinfo)
    assert reminder_key(appointment, "first", same) == before


def _contact(consents=("email", "sms"), preferred="email", email="a@b.fr", phone="+33612345678"):  # type: ignore[no-untyped-def]
    return Contact(email, phone, frozenset(consents), preferred)


def test_the_preferred_channel_goes_first_and_the_other_stands_in():
    both = ("email", "sms")
    assert choose_channel(_contact(), both, email_ok=True, phone_ok=True) == ("email", "a@b.fr")
    assert choose_channel(_contact(preferred="sms"), both, email_ok=True, phone_ok=True) == (
        "sms",
        "+33612345678",
    )
    # The clinic sends no text messages: the e-mail it is.
    assert choose_channel(_contact(preferred="sms"), ["email"], email_ok=True, phone_ok=True) == (
        "email",
        "a@b.fr",
    )
    # A landline cannot take a text: the e-mail the patient also agreed to.
    assert choose_channel(_contact(preferred="sms"), both, email_ok=True, phone_ok=False) == (
        "email",
        "a@b.fr",
    )


@pytest.mark.parametrize(
    ("contact", "available", "email_ok", "phone_ok", "why"),
    [
        (_contact(consents=()), ("email", "sms"), True, True, "no_consent"),
        (_contact(consents=("email",), email=""), ("email",), True, True, "no_address"),
        (_contact(consents=("email",)), ("email",), False, True, "invalid_email"),
        (_contact(consents=("sms",)), ("sms",), True, False, "invalid_phone"),
        (_contact(consents=("sms",)), ("email",), True, True, "no_channel"),
    ],
)
def test_no_message_without_consent_an_address_and_a_channel(  # type: ignore[no-untyped-def]
    contact, available, email_ok, phone_ok, why
):
    assert choose_channel(contact, available, email_ok=email_ok, phone_ok=phone_ok) == why


def test_consents_are_events_with_their_author(services, clinic: Clinic):  # type: ignore[no-untyped-def]
    patient = clinic.patient_ids[0]
    desk = Principal("desk-1", Role.RECEPTION)
    services.bus.handle(
        c.SetPatientReminders(patient_id=patient, consents=["sms"], preferred_channel="sms"),
        desk,
    )
    services.bus.handle(
        c.SetPatientReminders(patient_id=patient, consents=[], preferred_channel="sms"), desk
    )
    recorded = [(r.event_type, r.actor) for r in services.store.load(patient)][1:]
    assert recorded == [
        ("ConsentGiven", "desk-1"),
        ("ContactPreferenceSet", "desk-1"),
        ("ConsentWithdrawn", "desk-1"),
    ]


def test_consent_needs_the_address_and_a_known_channel(services, clinic: Clinic):  # type: ignore[no-untyped-def]
    patient = clinic.patient_ids[0]  # a phone, no e-mail address
    with pytest.raises(ValidationError) as refused:
        services.bus.handle(c.SetPatientReminders(patient_id=patient, consents=["email"]))
    assert "consents" in refused.value.errors
    with pytest.raises(ValidationError) as refused:
        services.bus.handle(
            c.SetPatientReminders(patient_id=patient, consents=["pigeon"], language="de")
        )
    assert set(refused.value.errors) == {"consents", "language"}
    assert len(services.store.load(patient)) == 1  # nothing written


def test_a_reminder_is_recorded_once_per_key(services, clinic: Clinic):  # type: ignore[no-untyped-def]
    appointment = clinic.book("2027-01-12 09:00")
    starts = local("2027-01-12 09:00")
    key = reminder_key(appointment, "first", starts)
    sent = {
        "appointment_id": appointment,
        "kind": "first",
        "key": key,
        "starts_at": starts,
        "channel": "email",
        "provider_id": "q1",
    }
    services.bus.handle(c.RecordReminderSent(**sent))
    # Recorded again (a recovered pass, under another command id): nothing new.
    again = services.bus.handle(c.RecordReminderSent(**sent))
    assert again.position is None
    stream = services.store.load(reminders_stream_id(appointment))
    assert [r.event_type for r in stream] == ["ReminderSent"]
    # The appointment's own version did not move: no open page of it is stale.
    assert len(services.store.load(appointment)) == 1
    assert Reminders.from_history(stream[0].stream_id, [r.event for r in stream]).outcomes == {
        key: "sent"
    }


def test_only_the_patient_page_speaks_as_the_patient(services, clinic: Clinic):  # type: ignore[no-untyped-def]
    appointment = clinic.book("2027-01-12 09:00")
    admin = Principal("admin-1", Role.ADMIN)
    for command in (
        c.ConfirmAsPatient(appointment_id=appointment),
        c.CancelAsPatient(appointment_id=appointment),
        c.RecordReminderSent(
            appointment_id=appointment,
            kind="first",
            key="k",
            starts_at=local("2027-01-12 09:00"),
            channel="email",
        ),
    ):
        with pytest.raises(ForbiddenError):
            services.bus.handle(command, admin)
    # The page itself (no one signed in) cancels, without a reason.
    services.bus.handle(c.CancelAsPatient(appointment_id=appointment))
    last = services.store.load(appointment)[-1]
    assert (last.event_type, last.actor, last.event.reason) == (
        "AppointmentCancelled",
        "patient",
        "",
    )
