"""The baseline for `bench/project.py`: the same read models built by a plain psycopg loop.

No projector, no SQLAlchemy, no event classes: read the log in pages of (tx_id, position),
keep every row in dictionaries for the whole run, and after each page write the rows it
changed with one `INSERT ... SELECT FROM unnest(...) ON CONFLICT DO UPDATE` per table (the
fastest batched upsert psycopg offers short of COPY). It computes the same columns as the
real projections, so the bench can check that both produce identical tables.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import psycopg
from psycopg.types.json import Jsonb

from app import phones
from app.projections.keys import search_key

PAGE = """
SELECT position, tx_id, stream_id, event_type, version, data, metadata, recorded_at
FROM events WHERE (tx_id, position) > (%s, %s)
  AND tx_id < pg_snapshot_xmin(pg_current_snapshot())::text::bigint
ORDER BY tx_id, position LIMIT %s
"""

# table -> (columns, key columns, PostgreSQL types)
TABLES: dict[str, tuple[list[str], list[str], list[str]]] = {
    "rm_patients": (
        ["patient_id", "full_name", "name_key", "date_of_birth", "phone", "phone_digits",
         "email", "registered_at", "changed_at", "version", "consents", "preferred_channel",
         "language"],
        ["patient_id"],
        ["uuid", "varchar", "varchar", "date", "varchar", "varchar", "varchar",
         "timestamptz", "timestamptz", "int4", "varchar", "varchar", "varchar"],
    ),
    "rm_doctors": (
        ["doctor_id", "full_name", "name_key", "specialty", "slot_minutes", "hours",
         "registered_at", "changed_at", "version"],
        ["doctor_id"],
        ["uuid", "varchar", "varchar", "varchar", "int4", "jsonb", "timestamptz",
         "timestamptz", "int4"],
    ),
    "rm_appointment_parties": (
        ["party_id", "full_name", "detail"], ["party_id"], ["uuid", "varchar", "varchar"]
    ),
    "rm_appointments": (
        ["appointment_id", "patient_id", "doctor_id", "patient_name", "patient_name_key",
         "patient_phone", "doctor_name", "doctor_specialty", "title", "status", "starts_at",
         "ends_at", "local_day", "booked_at", "booked_by", "changed_at", "changed_by",
         "version", "cancel_reason", "reschedules", "checked_in_at", "completed_at",
         "patient_answer"],
        ["appointment_id"],
        ["uuid", "uuid", "uuid", "varchar", "varchar", "varchar", "varchar", "varchar",
         "varchar", "varchar", "timestamptz", "timestamptz", "date", "timestamptz", "varchar",
         "timestamptz", "varchar", "int4", "varchar", "int4", "timestamptz", "timestamptz",
         "varchar"],
    ),
    "rm_day_counts": (["day", "status", "count"], ["day", "status"], ["date", "varchar", "int4"]),
    "rm_agenda_touches": (
        ["doctor_id", "day", "appointment_id"],
        ["doctor_id", "day", "appointment_id"],
        ["uuid", "date", "uuid"],
    ),
}  # fmt: skip


def _upsert_sql(table: str) -> str:
    columns, keys, types = TABLES[table]
    arrays = ", ".join(f"%s::{kind}[]" for kind in types)
    others = [c for c in columns if c not in keys]
    action = (
        "DO UPDATE SET " + ", ".join(f"{c} = EXCLUDED.{c}" for c in others)
        if others
        else "DO NOTHING"
    )
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM unnest({arrays}) "
        f"ON CONFLICT ({', '.join(keys)}) {action}"
    )


class PlainProjector:
    """Every read model of the three projections, in one pass over the log."""

    def __init__(self, tz: ZoneInfo, region: str) -> None:
        self.tz, self.region = tz, region
        self.rows: dict[str, dict[Any, dict[str, Any]]] = {table: {} for table in TABLES}
        self.dirty: dict[str, set[Any]] = {table: set() for table in TABLES}
        self.deleted: set[tuple[date, str]] = set()

    def run(self, conninfo: str, read_conninfo: str, page: int, progress: Callable) -> int:
        seen, after = 0, (0, 0)
        with psycopg.connect(conninfo) as source, psycopg.connect(read_conninfo) as target:
            while rows := source.execute(PAGE, (*after, page)).fetchall():
                for row in rows:
                    self.apply(*row)
                self.write(target)
                target.commit()
                after = (rows[-1][1], rows[-1][0])
                seen += len(rows)
                progress(len(rows))
        return seen

    def put(self, table: str, key: Any, row: dict[str, Any]) -> None:
        self.rows[table][key] = row
        self.dirty[table].add(key)

    def count(self, day: date, status: str, amount: int) -> None:
        row = self.rows["rm_day_counts"].setdefault(
            (day, status), {"day": day, "status": status, "count": 0}
        )
        row["count"] += amount
        self.dirty["rm_day_counts"].add((day, status))

    def apply(self, position, tx_id, stream_id, kind, version, data, meta, at) -> None:  # type: ignore[no-untyped-def]
        if kind in ("PatientRegistered", "PatientDetailsChanged"):
            old = self.rows["rm_patients"].get(stream_id)
            phone = phones.display(data["phone"], self.region)
            self.put("rm_patients", stream_id, {
                "patient_id": stream_id, "full_name": data["full_name"],
                "name_key": search_key(data["full_name"]),
                "date_of_birth": date.fromisoformat(data["date_of_birth"]),
                "phone": phone, "phone_digits": phones.key(data["phone"], self.region),
                "email": data["email"], "registered_at": old["registered_at"] if old else at,
                "changed_at": at, "version": version,
                "consents": old["consents"] if old else "",
                "preferred_channel": old["preferred_channel"] if old else "email",
                "language": old["language"] if old else "",
            })  # fmt: skip
            party = self.rows["rm_appointment_parties"].get(stream_id)
            if party and (party["full_name"], party["detail"]) != (data["full_name"], phone):
                for appointment in self.rows["rm_appointments"].values():
                    if appointment["patient_id"] == stream_id:
                        appointment.update(
                            patient_name=data["full_name"],
                            patient_name_key=search_key(data["full_name"]),
                            patient_phone=phone,
                        )
                        self.dirty["rm_appointments"].add(appointment["appointment_id"])
            self.put("rm_appointment_parties", stream_id, {
                "party_id": stream_id, "full_name": data["full_name"], "detail": phone
            })  # fmt: skip
        elif kind in ("ConsentGiven", "ConsentWithdrawn", "ContactPreferenceSet"):
            patient = self.rows["rm_patients"][stream_id]
            if kind == "ContactPreferenceSet":
                patient.update(preferred_channel=data["preferred_channel"],
                               language=data["language"])  # fmt: skip
            else:
                consents = set(filter(None, patient["consents"].split(",")))
                if kind == "ConsentGiven":
                    consents.add(data["channel"])
                else:
                    consents.discard(data["channel"])
                patient["consents"] = ",".join(c for c in ("email", "sms") if c in consents)
            patient.update(changed_at=at, version=version)
            self.dirty["rm_patients"].add(stream_id)
        elif kind == "DoctorRegistered":
            self.put("rm_doctors", stream_id, {
                "doctor_id": stream_id, "full_name": data["full_name"],
                "name_key": search_key(data["full_name"]), "specialty": data["specialty"],
                "slot_minutes": data["slot_minutes"], "hours": None, "registered_at": at,
                "changed_at": at, "version": version,
            })  # fmt: skip
            self.put("rm_appointment_parties", stream_id, {
                "party_id": stream_id, "full_name": data["full_name"], "detail": data["specialty"]
            })  # fmt: skip
        elif kind == "WorkingHoursSet":
            doctor = self.rows["rm_doctors"][stream_id]
            doctor.update(hours=data["hours"], slot_minutes=data["slot_minutes"], changed_at=at,
                          version=version)  # fmt: skip
            self.dirty["rm_doctors"].add(stream_id)
        elif kind == "AppointmentCreated":
            starts = datetime.fromisoformat(data["starts_at"])
            day = starts.astimezone(self.tz).date()
            patient_id, doctor_id = UUID(data["patient_id"]), UUID(data["doctor_id"])
            patient = self.rows["rm_appointment_parties"][patient_id]
            doctor = self.rows["rm_appointment_parties"][doctor_id]
            actor = meta.get("actor", "")[:120]
            self.put("rm_appointments", stream_id, {
                "appointment_id": stream_id, "patient_id": patient_id, "doctor_id": doctor_id,
                "patient_name": patient["full_name"],
                "patient_name_key": search_key(patient["full_name"]),
                "patient_phone": patient["detail"], "doctor_name": doctor["full_name"],
                "doctor_specialty": doctor["detail"], "title": data["title"],
                "status": "pending", "starts_at": starts,
                "ends_at": datetime.fromisoformat(data["ends_at"]), "local_day": day,
                "booked_at": at, "booked_by": actor, "changed_at": at, "changed_by": actor,
                "version": version, "cancel_reason": None, "reschedules": 0,
                "checked_in_at": None, "completed_at": None, "patient_answer": None,
            })  # fmt: skip
            self.count(day, "pending", 1)
            self.put("rm_agenda_touches", (doctor_id, day, stream_id), {
                "doctor_id": doctor_id, "day": day, "appointment_id": stream_id
            })  # fmt: skip
        elif kind in STATUS_AFTER:
            row = self.rows["rm_appointments"][stream_id]
            before = (row["local_day"], row["status"])
            status = STATUS_AFTER[kind]
            # A move keeps the status the desk agreed with the patient (version 1 of the
            # event, without the field, always went back to pending).
            if kind == "AppointmentRescheduled" and not data.get("awaits_confirmation", True):
                status = row["status"]
            row.update(status=status, changed_at=at,
                       changed_by=meta.get("actor", "")[:120], version=version)  # fmt: skip
            if kind in ("AppointmentConfirmed", "AppointmentCancelled"):
                # The patient's own answer, from their page; the desk's clears it.
                by_patient = meta.get("actor") == "patient"
                row["patient_answer"] = STATUS_AFTER[kind] if by_patient else None
            if kind == "AppointmentCancelled":
                row["cancel_reason"] = data["reason"]
            elif kind == "AppointmentCheckedIn":
                row["checked_in_at"] = at
            elif kind == "AppointmentCompleted":
                row["completed_at"] = at
            elif kind == "AppointmentRescheduled":
                starts = datetime.fromisoformat(data["starts_at"])
                day = starts.astimezone(self.tz).date()
                row.update(starts_at=starts, ends_at=datetime.fromisoformat(data["ends_at"]),
                           local_day=day, reschedules=row["reschedules"] + 1,
                           patient_answer=None)  # fmt: skip
                doctor_id = UUID(data["doctor_id"]) if data.get("doctor_id") else None
                if doctor_id and doctor_id != row["doctor_id"]:
                    doctor = self.rows["rm_appointment_parties"][doctor_id]
                    row.update(doctor_id=doctor_id, doctor_name=doctor["full_name"],
                               doctor_specialty=doctor["detail"])  # fmt: skip
                touch = (row["doctor_id"], day, stream_id)
                self.put("rm_agenda_touches", touch, {
                    "doctor_id": row["doctor_id"], "day": day, "appointment_id": stream_id
                })  # fmt: skip
            self.dirty["rm_appointments"].add(stream_id)
            after = (row["local_day"], row["status"])
            if after != before:
                self.count(*before, -1)
                self.count(*after, 1)

    def write(self, conn: psycopg.Connection) -> None:
        for table, keys in self.dirty.items():
            if not keys:
                continue
            columns, _, _ = TABLES[table]
            rows = [self.rows[table][key] for key in keys]
            if table == "rm_day_counts":
                gone = [r for r in rows if r["count"] == 0]
                rows = [r for r in rows if r["count"] != 0]
                if gone:
                    conn.execute(
                        "DELETE FROM rm_day_counts WHERE (day, status) IN "
                        "(SELECT * FROM unnest(%s::date[], %s::varchar[]))",
                        ([r["day"] for r in gone], [r["status"] for r in gone]),
                    )
            if rows:
                arrays = [_column(rows, name) for name in columns]
                conn.execute(_upsert_sql(table), arrays)
            keys.clear()


def _column(rows: Iterable[dict[str, Any]], name: str) -> list[Any]:
    values = [row[name] for row in rows]
    if name == "hours":
        return [Jsonb(v) if v is not None else None for v in values]
    return values


STATUS_AFTER = {
    "AppointmentConfirmed": "confirmed",
    "AppointmentCancelled": "cancelled",
    "AppointmentRescheduled": "pending",
    "AppointmentCheckedIn": "checked_in",
    "AppointmentCompleted": "completed",
    "AppointmentMarkedNoShow": "no_show",
}
