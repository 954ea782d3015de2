"""Patient and doctor directories, each its own projection."""

from __future__ import annotations

from app import phones
from app.domain.events import (
    ConsentGiven,
    ConsentWithdrawn,
    ContactPreferenceSet,
    DoctorRegistered,
    PatientDetailsChanged,
    PatientMerged,
    PatientMergedInto,
    PatientRegistered,
    WorkingHoursSet,
)
from app.domain.reminders import CHANNELS
from app.eventstore import RecordedEvent

from . import tables as t
from .keys import search_key
from .projection import Projection, stream_row
from .view import View

# Version 2: phone numbers shown in the national form and matched by national digits.
# Version 3: consents to reminders, the preferred channel and language.
patients = Projection("patients", version=3, tables=(t.patients,))
doctors = Projection("doctors", version=1, tables=(t.doctors,))


def _patient_details(
    event: PatientRegistered | PatientDetailsChanged, region: str
) -> dict[str, object]:
    # Events keep the number as it was recorded (E.164 since issue 15, as typed before):
    # the row holds how pages show it and the digits a search matches.
    return {
        "full_name": event.full_name,
        "name_key": search_key(event.full_name),
        "date_of_birth": event.date_of_birth,
        "phone": phones.display(event.phone, region),
        "phone_digits": phones.key(event.phone, region),
        "email": event.email,
    }


@patients.on(PatientRegistered)
def on_patient_registered(view: View, record: RecordedEvent) -> None:
    event = record.event
    assert isinstance(event, PatientRegistered)
    view.put(
        t.patients,
        {
            "patient_id": record.stream_id,
            **_patient_details(event, view.region),
            "registered_at": record.recorded_at,
            "changed_at": record.recorded_at,
            "version": record.version,
            "merged_into": None,
            "consents": "",
            "preferred_channel": "email",
            "language": "",
        },
    )


@patients.on(PatientMerged, loads=stream_row(t.patients))
def on_patient_merged(view: View, record: RecordedEvent) -> None:
    view.update(t.patients, record.stream_id, changed_at=record.recorded_at, version=record.version)


@patients.on(PatientMergedInto, loads=stream_row(t.patients))
def on_patient_merged_into(view: View, record: RecordedEvent) -> None:
    event = record.event
    assert isinstance(event, PatientMergedInto)
    view.update(
        t.patients,
        record.stream_id,
        merged_into=event.kept_id,
        changed_at=record.recorded_at,
        version=record.version,
    )


@patients.on(PatientDetailsChanged, loads=stream_row(t.patients))
def on_patient_details_changed(view: View, record: RecordedEvent) -> None:
    event = record.event
    assert isinstance(event, PatientDetailsChanged)
    view.update(
        t.patients,
        record.stream_id,
        **_patient_details(event, view.region),
        changed_at=record.recorded_at,
        version=record.version,
    )


@patients.on(ConsentGiven, loads=stream_row(t.patients))
@patients.on(ConsentWithdrawn, loads=stream_row(t.patients))
def on_consent_changed(view: View, record: RecordedEvent) -> None:
    event = record.event
    assert isinstance(event, ConsentGiven | ConsentWithdrawn)
    row = view.require(t.patients, record.stream_id)
    consents = set(filter(None, row["consents"].split(",")))
    if isinstance(event, ConsentGiven):
        consents.add(event.channel)
    else:
        consents.discard(event.channel)
    view.update(
        t.patients,
        record.stream_id,
        consents=",".join(channel for channel in CHANNELS if channel in consents),
        changed_at=record.recorded_at,
        version=record.version,
    )


@patients.on(ContactPreferenceSet, loads=stream_row(t.patients))
def on_contact_preference_set(view: View, record: RecordedEvent) -> None:
    event = record.event
    assert isinstance(event, ContactPreferenceSet)
    view.update(
        t.patients,
        record.stream_id,
        preferred_channel=event.preferred_channel,
        language=event.language,
        changed_at=record.recorded_at,
        version=record.version,
    )


@doctors.on(DoctorRegistered)
def on_doctor_registered(view: View, record: RecordedEvent) -> None:
    event = record.event
    assert isinstance(event, DoctorRegistered)
    view.put(
        t.doctors,
        {
            "doctor_id": record.stream_id,
            "full_name": event.full_name,
            "name_key": search_key(event.full_name),
            "specialty": event.specialty,
            "slot_minutes": event.slot_minutes,
            "hours": None,
            "registered_at": record.recorded_at,
            "changed_at": record.recorded_at,
            "version": record.version,
        },
    )


@doctors.on(WorkingHoursSet, loads=stream_row(t.doctors))
def on_working_hours_set(view: View, record: RecordedEvent) -> None:
    event = record.event
    assert isinstance(event, WorkingHoursSet)
    view.update(
        t.doctors,
        record.stream_id,
        hours=event.hours,
        slot_minutes=event.slot_minutes,
        changed_at=record.recorded_at,
        version=record.version,
    )
