"""Patient and doctor directories: search by name or phone, and one entry by id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app import phones
from app.metrics import timed
from app.projections import tables as t
from app.projections.keys import name_tokens, search_key

from .agenda import DoctorRow
from .appointments import like_pattern
from .rows import row_to

MIN_PHONE_DIGITS = 3  # fewer would match half the directory


@dataclass(frozen=True)
class PatientRow:
    patient_id: UUID
    full_name: str
    date_of_birth: date | None
    phone: str
    email: str
    registered_at: datetime
    changed_at: datetime
    version: int
    merged_into: UUID | None = None  # the kept record, once this one is merged into it
    consents: str = ""  # reminders: "email,sms", the channels consented to
    preferred_channel: str = "email"
    language: str = ""  # "" for the clinic's

    @property
    def consented(self) -> list[str]:
        return [channel for channel in self.consents.split(",") if channel]

    @classmethod
    def from_row(cls, row: Any) -> PatientRow:
        return row_to(cls, row)


@timed("patient_search")
def search_patients(
    engine: Engine, text: str, *, limit: int = 20, region: str = "FR"
) -> list[PatientRow]:
    """Patients whose name contains `text` (any case, any accents) or whose phone contains
    its national digits, however written ("+33 6 90 42", "06 90 42", "690 42": see
    app/phones.py; `region` is CLINIC_REGION); alphabetical. An empty search lists the
    first `limit` patients."""
    p = t.patients
    query = sa.select(p).where(p.c.merged_into.is_(None))
    key, number = search_key(text), phones.search_digits(text, region)
    if key:
        matches = [p.c.name_key.like(like_pattern(key), escape="\\")]
        if len(number) >= MIN_PHONE_DIGITS:
            matches.append(p.c.phone_digits.like(like_pattern(number), escape="\\"))
        query = query.where(sa.or_(*matches))
    query = query.order_by(p.c.name_key, p.c.patient_id).limit(limit)
    with engine.connect() as conn:
        return [PatientRow.from_row(row) for row in conn.execute(query).mappings()]


@dataclass(frozen=True)
class LookAlike:
    """A registered patient who may be the one being registered, and why."""

    patient: PatientRow
    same_name_and_birth: bool
    same_phone: bool


LOOK_ALIKES_SHOWN = 10


@timed("patient_look_alikes")
def look_alikes(
    engine: Engine,
    full_name: str,
    date_of_birth: date | None,
    phone_key: str,
    *,
    besides: UUID | None = None,
) -> list[LookAlike]:
    """Registered patients with the same name (however typed: see `name_tokens`) and date
    of birth, or the same phone number (`phone_key` as `phones.key` gives it; "" for
    none), other than `besides`: those first, then alphabetical; at most LOOK_ALIKES_SHOWN.
    Records merged into another are left out: the kept one stands for them."""
    p = t.patients
    found = []
    if date_of_birth is not None:
        found.append(p.c.date_of_birth == date_of_birth)
    if len(phone_key) >= MIN_PHONE_DIGITS:
        found.append(p.c.phone_digits == phone_key)
    if not found:
        return []
    # Born the same day: tens of patients in a large directory, whose names are compared
    # here, as the SQL cannot reorder words.
    query = (
        sa.select(p)
        .where(sa.or_(*found), p.c.merged_into.is_(None))
        .order_by(p.c.name_key, p.c.patient_id)
    )
    name = name_tokens(full_name)
    alike = []
    with engine.connect() as conn:
        for row in conn.execute(query).mappings():
            if row["patient_id"] == besides:
                continue
            same_person = row["date_of_birth"] == date_of_birth and (
                name_tokens(row["full_name"]) == name
            )
            same_phone = bool(phone_key) and row["phone_digits"] == phone_key
            if same_person or same_phone:
                alike.append(LookAlike(PatientRow.from_row(row), same_person, same_phone))
    alike.sort(key=lambda a: not a.same_name_and_birth)  # stable: alphabetical within
    return alike[:LOOK_ALIKES_SHOWN]


def merged_into(engine: Engine, kept_id: UUID) -> list[PatientRow]:
    """The records merged into this one, the latest merge first."""
    p = t.patients
    query = sa.select(p).where(p.c.merged_into == kept_id).order_by(p.c.changed_at.desc())
    with engine.connect() as conn:
        return [PatientRow.from_row(row) for row in conn.execute(query).mappings()]


@timed("patient_detail")
def patient(engine: Engine, patient_id: UUID) -> PatientRow | None:
    query = sa.select(t.patients).where(t.patients.c.patient_id == patient_id)
    with engine.connect() as conn:
        row = conn.execute(query).mappings().first()
    return PatientRow.from_row(row) if row is not None else None


@timed("doctor_directory")
def list_doctors(engine: Engine, text: str = "") -> list[DoctorRow]:
    """Every doctor (a clinic has tens, not thousands), alphabetical, optionally by name."""
    d = t.doctors
    query = sa.select(d).order_by(d.c.name_key, d.c.doctor_id)
    if key := search_key(text):
        query = query.where(d.c.name_key.like(like_pattern(key), escape="\\"))
    with engine.connect() as conn:
        return [DoctorRow.from_row(row) for row in conn.execute(query).mappings()]


@dataclass(frozen=True)
class DoctorChoice:
    """A doctor as a picker lists them: no working hours to decode."""

    doctor_id: UUID
    full_name: str
    specialty: str
    slot_minutes: int


@timed("doctor_choices")
def doctor_choices(engine: Engine) -> list[DoctorChoice]:
    """Every doctor, alphabetical, for the filters and the booking form's doctor list."""
    d = t.doctors
    query = sa.select(d.c.doctor_id, d.c.full_name, d.c.specialty, d.c.slot_minutes).order_by(
        d.c.name_key, d.c.doctor_id
    )
    with engine.connect() as conn:
        return [DoctorChoice(*row) for row in conn.execute(query)]


def doctors_signature(engine: Engine) -> tuple[Any, ...]:
    """Changes whenever a doctor is registered or changed (or the table is emptied and
    filled again): for caches of the doctor list."""
    d = t.doctors
    query = sa.select(
        sa.func.count(), sa.func.max(d.c.changed_at), sa.func.max(sa.cast(d.c.doctor_id, sa.String))
    )
    with engine.connect() as conn:
        return tuple(conn.execute(query).one())
