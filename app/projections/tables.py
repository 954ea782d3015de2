"""Read-side tables: one table per screen's needs, plus the projector's checkpoints.

They live in the read database (`DATABASE_URL_READ`, by default the write database) and are
written only by projections. Every value is a function of the events alone (no wall-clock
time), so a replay produces the same rows and `flask projections verify` can compare them.
"""

from __future__ import annotations

import sqlalchemy as sa

from app.eventstore.tables import JSONData, UTCDateTime

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def trigram_index(table: sa.Table, column: str) -> None:
    """A PostgreSQL trigram index, so `ILIKE '%part%'` searches stay fast at any size."""
    sa.Index(
        f"ix_{table.name}_{column}_trgm",
        table.c[column],
        postgresql_using="gin",
        postgresql_ops={column: "gin_trgm_ops"},
    ).ddl_if(dialect="postgresql")


# -- the projector's own bookkeeping --

checkpoints = sa.Table(
    "projection_checkpoints",
    metadata,
    sa.Column("name", sa.String(60), primary_key=True),
    # Which version of the projection's code built its tables: a new version needs a rebuild.
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("tx_id", sa.BigInteger(), nullable=False),
    sa.Column("position", sa.BigInteger(), nullable=False),
    sa.Column("last_event_at", UTCDateTime, nullable=True),
    sa.Column("updated_at", UTCDateTime, nullable=True),
    # The event the projection failed on, how often, and why; parked once it gives up.
    sa.Column("failed_tx_id", sa.BigInteger(), nullable=True),
    sa.Column("failed_position", sa.BigInteger(), nullable=True),
    sa.Column("failed_event_type", sa.String(80), nullable=True),
    sa.Column("failures", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("last_error", sa.Text(), nullable=True),
    sa.Column("parked_at", UTCDateTime, nullable=True),
)

# Events an operator chose to pass over; `verify` passes over them too.
skipped_events = sa.Table(
    "projection_skipped_events",
    metadata,
    sa.Column("name", sa.String(60), primary_key=True),
    sa.Column("tx_id", sa.BigInteger(), primary_key=True),
    sa.Column("position", sa.BigInteger(), primary_key=True),
    sa.Column("event_type", sa.String(80), nullable=False),
    sa.Column("error", sa.Text(), nullable=False),
    sa.Column("skipped_at", UTCDateTime, nullable=False),
)

# -- directories --

patients = sa.Table(
    "rm_patients",
    metadata,
    sa.Column("patient_id", sa.Uuid(), primary_key=True),
    sa.Column("full_name", sa.String(200), nullable=False),
    # Lower case without accents: what a search is matched against. Text, because case
    # folding can lengthen a name ("ß" becomes "ss").
    sa.Column("name_key", sa.Text(), nullable=False),
    sa.Column("date_of_birth", sa.Date(), nullable=True),
    sa.Column("phone", sa.String(40), nullable=False),
    sa.Column("phone_digits", sa.String(40), nullable=False),
    sa.Column("email", sa.String(254), nullable=False),
    sa.Column("registered_at", UTCDateTime, nullable=False),
    sa.Column("changed_at", UTCDateTime, nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    # Set once the record is merged into another (the kept one): out of searches, its page
    # leads to the kept record's.
    sa.Column("merged_into", sa.Uuid(), nullable=True),
    # Reminders: the channels consented to ("email,sms", in that order), the one preferred,
    # the patient's language ("" for the clinic's).
    sa.Column("consents", sa.String(20), nullable=False, server_default=""),
    sa.Column("preferred_channel", sa.String(10), nullable=False, server_default="email"),
    sa.Column("language", sa.String(5), nullable=False, server_default=""),
    sa.Index(None, "name_key", "patient_id"),
    sa.Index(None, "phone_digits"),
    # The look-alike check at registration reads the patients born on a day.
    sa.Index(None, "date_of_birth"),
    # Every patient page lists the records merged into it.
    sa.Index(None, "merged_into"),
)
trigram_index(patients, "name_key")
trigram_index(patients, "phone_digits")

doctors = sa.Table(
    "rm_doctors",
    metadata,
    sa.Column("doctor_id", sa.Uuid(), primary_key=True),
    sa.Column("full_name", sa.String(200), nullable=False),
    sa.Column("name_key", sa.Text(), nullable=False),
    sa.Column("specialty", sa.String(120), nullable=False),
    sa.Column("slot_minutes", sa.Integer(), nullable=False),
    # {"mon": [["09:00", "12:30"], ...]} in clinic time; null until hours are set.
    sa.Column("hours", JSONData, nullable=True),
    sa.Column("registered_at", UTCDateTime, nullable=False),
    sa.Column("changed_at", UTCDateTime, nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Index(None, "name_key", "doctor_id"),
)

# -- appointments --

appointments = sa.Table(
    "rm_appointments",
    metadata,
    sa.Column("appointment_id", sa.Uuid(), primary_key=True),
    sa.Column("patient_id", sa.Uuid(), nullable=False),
    sa.Column("doctor_id", sa.Uuid(), nullable=False),
    sa.Column("patient_name", sa.String(200), nullable=False),
    sa.Column("patient_name_key", sa.Text(), nullable=False),
    sa.Column("patient_phone", sa.String(40), nullable=False),
    sa.Column("doctor_name", sa.String(200), nullable=False),
    sa.Column("doctor_specialty", sa.String(120), nullable=False),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("starts_at", UTCDateTime, nullable=False),
    sa.Column("ends_at", UTCDateTime, nullable=False),
    # The clinic-local day of starts_at, for day views and counters.
    sa.Column("local_day", sa.Date(), nullable=False),
    sa.Column("booked_at", UTCDateTime, nullable=False),
    sa.Column("booked_by", sa.String(120), nullable=False),
    sa.Column("changed_at", UTCDateTime, nullable=False),
    sa.Column("changed_by", sa.String(120), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("cancel_reason", sa.String(500), nullable=True),
    sa.Column("reschedules", sa.Integer(), nullable=False),
    sa.Column("checked_in_at", UTCDateTime, nullable=True),
    sa.Column("completed_at", UTCDateTime, nullable=True),
    # The visit type (motif) booked, if one was: named from rm_visit_types when shown.
    sa.Column("visit_type_id", sa.Uuid(), nullable=True),
    # One visit of a recurring series, and its number in it (from 1).
    sa.Column("series_id", sa.Uuid(), nullable=True),
    sa.Column("occurrence", sa.Integer(), nullable=True),
    # The patient's own answer from their page ("confirmed" | "cancelled"), until a move.
    sa.Column("patient_answer", sa.String(12), nullable=True),
    sa.Index(None, "series_id"),
    # Keyset pagination walks (starts_at, appointment_id), alone or after one equality filter.
    sa.Index(None, "starts_at", "appointment_id"),
    sa.Index(None, "status", "starts_at", "appointment_id"),
    sa.Index(None, "doctor_id", "starts_at", "appointment_id"),
    sa.Index(None, "patient_id", "starts_at", "appointment_id"),
)
trigram_index(appointments, "patient_name_key")

day_counts = sa.Table(
    "rm_day_counts",
    metadata,
    sa.Column("day", sa.Date(), primary_key=True),
    sa.Column("status", sa.String(20), primary_key=True),
    sa.Column("count", sa.Integer(), nullable=False),
)

# Every (doctor, day) an appointment was ever on, so the agenda of a past moment knows which
# streams to replay, including appointments moved away from that day since.
agenda_touches = sa.Table(
    "rm_agenda_touches",
    metadata,
    sa.Column("doctor_id", sa.Uuid(), primary_key=True),
    sa.Column("day", sa.Date(), primary_key=True),
    sa.Column("appointment_id", sa.Uuid(), primary_key=True),
)

# The appointments projection's own copy of names, so it never depends on another one's
# progress: a directory being rebuilt or parked cannot leave an appointment nameless.
parties = sa.Table(
    "rm_appointment_parties",
    metadata,
    sa.Column("party_id", sa.Uuid(), primary_key=True),
    sa.Column("full_name", sa.String(200), nullable=False),
    sa.Column("detail", sa.String(120), nullable=False),
    # A patient merged into another: a booking of theirs committed in the same moment as
    # the merge is shown under the kept record all the same.
    sa.Column("merged_into", sa.Uuid(), nullable=True),
)

# -- availability: what the booking rule reads, as the appointments projection keeps it --
# The appointments projection keeps its own copy of each doctor's availability and the
# clinic's days, at its own position: the call list is worked out from both together, so a
# booking and an absence committed at the same moment are judged in the order they were
# stored, whichever order that is.

doctor_availability = sa.Table(
    "rm_doctor_availability",
    metadata,
    sa.Column("doctor_id", sa.Uuid(), primary_key=True),
    sa.Column("full_name", sa.String(200), nullable=False),
    sa.Column("specialty", sa.String(120), nullable=False),
    # {"mon": [["09:00", "12:30"], ...]} in clinic time, {} until hours are set.
    sa.Column("hours", JSONData, nullable=False),
    # {"2027-03-13": [["09:00", "12:00"]]}: dates with their own hours ([]: not working).
    sa.Column("day_hours", JSONData, nullable=False),
    # [{"absence_id", "starts_at", "ends_at", "reason", "note"}], by start.
    sa.Column("absences", JSONData, nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
)

clinic_days = sa.Table(
    "rm_clinic_days",
    metadata,
    sa.Column("clinic_id", sa.Uuid(), primary_key=True),
    # The opening hours that bound every doctor's; null: no bound.
    sa.Column("hours", JSONData, nullable=True),
    # {"2027-12-25": "Christmas Day"}.
    sa.Column("closures", JSONData, nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
)

visit_types = sa.Table(
    "rm_visit_types",
    metadata,
    sa.Column("visit_type_id", sa.Uuid(), primary_key=True),
    sa.Column("label", sa.String(60), nullable=False),
    sa.Column("minutes", sa.Integer(), nullable=False),
    sa.Column("doctor_id", sa.Uuid(), nullable=True),
    sa.Column("specialty", sa.String(120), nullable=False),
    sa.Column("retired", sa.Boolean(), nullable=False),
    sa.Column("defined_at", UTCDateTime, nullable=False),
)

# Appointments needing a new time: pending or confirmed, no longer inside their doctor's
# effective hours (an absence, a closure, shorter hours recorded over them). A row leaves
# when the appointment is moved, cancelled or checked in, or the time is available again.
call_list = sa.Table(
    "rm_call_list",
    metadata,
    sa.Column("appointment_id", sa.Uuid(), primary_key=True),
    sa.Column("doctor_id", sa.Uuid(), nullable=False),
    sa.Column("starts_at", UTCDateTime, nullable=False),
    # When the appointment was found outside the hours: the event's time, not the clock's.
    sa.Column("listed_at", UTCDateTime, nullable=False),
    sa.Index(None, "starts_at", "appointment_id"),
    sa.Index(None, "doctor_id", "starts_at"),
)

# -- series and waitlist --

# A recurring series as planned; its visits are rows of rm_appointments (series_id).
series = sa.Table(
    "rm_series",
    metadata,
    sa.Column("series_id", sa.Uuid(), primary_key=True),
    sa.Column("patient_id", sa.Uuid(), nullable=False),
    sa.Column("doctor_id", sa.Uuid(), nullable=False),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("every_weeks", sa.Integer(), nullable=False),
    sa.Column("monthly", sa.Boolean(), nullable=False),
    # [{"occurrence", "appointment_id", "starts_at"}]: the visits the plan asked for.
    sa.Column("visits", JSONData, nullable=False),
    # The first visit a cancellation of the rest started from, if the course was stopped.
    sa.Column("cancelled_from", sa.Integer(), nullable=True),
    sa.Column("planned_at", UTCDateTime, nullable=False),
    sa.Column("planned_by", sa.String(120), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
)

# Patients waiting for an earlier time, in the order they joined (`joined_position`, the
# event's position in the store); `waiting` false once booked or taken off.
waitlist = sa.Table(
    "rm_waitlist",
    metadata,
    sa.Column("waitlist_id", sa.Uuid(), primary_key=True),
    sa.Column("patient_id", sa.Uuid(), nullable=False),
    sa.Column("doctor_id", sa.Uuid(), nullable=True),
    sa.Column("specialty", sa.String(120), nullable=False),
    sa.Column("from_day", sa.Date(), nullable=False),
    sa.Column("until_day", sa.Date(), nullable=False),
    sa.Column("part_of_day", sa.String(20), nullable=False),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("note", sa.String(200), nullable=False),
    sa.Column("joined_at", UTCDateTime, nullable=False),
    sa.Column("joined_by", sa.String(120), nullable=False),
    sa.Column("joined_position", sa.BigInteger(), nullable=False),
    sa.Column("waiting", sa.Boolean(), nullable=False),
    sa.Column("left_reason", sa.String(20), nullable=True),
    sa.Column("appointment_id", sa.Uuid(), nullable=True),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Index(None, "waiting", "joined_position"),
    sa.Index(None, "patient_id"),
)

# An appointment's timeline, a row per event, phrased for people: who, when, what changed
# (`changes`: [field, before, after] lists, the Doctor and Patient values as ids, named when
# read). The last columns hold the appointment as it stood after the event: what the next
# event's changes are worked out from.
timeline = sa.Table(
    "rm_appointment_timeline",
    metadata,
    sa.Column("appointment_id", sa.Uuid(), primary_key=True),
    sa.Column("version", sa.Integer(), primary_key=True),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
    sa.Column("actor", sa.Text(), nullable=False),
    sa.Column("summary", sa.String(120), nullable=False),
    sa.Column("changes", JSONData, nullable=False),
    sa.Column("status", sa.String(20), nullable=True),
    sa.Column("starts_at", UTCDateTime, nullable=True),
    sa.Column("ends_at", UTCDateTime, nullable=True),
    sa.Column("patient_id", sa.Uuid(), nullable=True),
    sa.Column("doctor_id", sa.Uuid(), nullable=True),
    sa.Column("title", sa.String(200), nullable=False),
)

# -- the operations page (/ops) --

# Rebuilds asked for on the operations page, and how far each has got: any web process can
# show one that a worker (or another web process) is carrying out.
REBUILD_ACTIVE_STATES = ("queued", "running")
REBUILD_ACTIVE = f"state IN {REBUILD_ACTIVE_STATES!r}"
rebuilds = sa.Table(
    "projection_rebuilds",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True),
    sa.Column("projection", sa.String(60), nullable=False),
    sa.Column("requested_by", sa.String(120), nullable=False),
    sa.Column("requested_at", UTCDateTime, nullable=False),
    sa.Column("started_at", UTCDateTime, nullable=True),
    sa.Column("finished_at", UTCDateTime, nullable=True),
    # Last sign of life from whoever carries it out: a row that stops moving is abandoned.
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("total", sa.BigInteger(), nullable=False),
    sa.Column("done", sa.BigInteger(), nullable=False),
    sa.Column("state", sa.String(10), nullable=False),
    sa.Column("error", sa.Text(), nullable=True),
    sa.CheckConstraint(
        "state IN ('queued', 'running', 'done', 'failed')", name="ck_projection_rebuilds_state"
    ),
    # At most one queued or running rebuild per projection, even for two admins clicking at
    # once: the second insert fails. (SQLite has partial indexes too.)
    sa.Index(
        "ix_projection_rebuilds_active",
        "projection",
        unique=True,
        postgresql_where=sa.text(REBUILD_ACTIVE),
        sqlite_where=sa.text(REBUILD_ACTIVE),
    ),
    sa.Index(None, "projection", "requested_at"),
)

# What the charts are drawn from: every OPS_SAMPLE_SECONDS, the cumulative metrics and each
# projection's checkpoint and lag, kept about two hours.
ops_samples = sa.Table(
    "ops_samples",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True),
    sa.Column("taken_at", UTCDateTime, nullable=False),
    sa.Column("payload", JSONData, nullable=False),
    sa.Index(None, "taken_at"),
)
