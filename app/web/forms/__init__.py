"""Forms: request fields in, a command out, or every field's message at once.

The commands coerce their own fields (ids, numbers, dates) with the messages people read,
and the domain checks the rest; a form adds only what a browser sends differently from the
command's shape (a clinic-local time, hours written as text, an empty field meaning "the
usual"). When one field is refused early, a form still runs the other checks, so a page
shows every message at once rather than one per submission.
"""

from . import availability, reminders
from .appointments import (
    SERIES_FIELDS,
    appointment_command,
    book_series,
    cancel_series,
    create_appointment,
    join_waitlist,
)
from .fields import command_id, parse_day, parse_local, uuid_or_none, with_local_time
from .people import (
    HOURS_FIELDS,
    PATIENT_FIELDS,
    change_patient,
    hours_text,
    merge_patients,
    parse_week,
    register_doctor,
    register_patient,
    set_hours,
)

__all__ = [
    "HOURS_FIELDS",
    "PATIENT_FIELDS",
    "SERIES_FIELDS",
    "appointment_command",
    "availability",
    "book_series",
    "cancel_series",
    "change_patient",
    "command_id",
    "create_appointment",
    "hours_text",
    "join_waitlist",
    "merge_patients",
    "parse_day",
    "parse_local",
    "parse_week",
    "register_doctor",
    "register_patient",
    "reminders",
    "set_hours",
    "uuid_or_none",
    "with_local_time",
]
