"""The appointment forms: booking, and the actions on one appointment."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from app.commands import commands as c
from app.domain.errors import ValidationError
from app.domain.messages import Message
from app.domain.series import step_id

from .fields import Fields, command_id, parse_local, uuid_or_none, with_local_time


def create_appointment(form: Fields) -> c.CreateAppointment:
    """The booking form's appointment."""
    names = ("patient_id", "doctor_id", "duration_minutes", "title", "confirmed", "visit_type_id")
    fields = {k: form.get(k, "") for k in names}
    return with_local_time(
        c.CreateAppointment, starts_at=form.get("starts_at"), **fields, **command_id(form)
    )


def appointment_command(
    command: type[c.AppointmentCommand], appointment_id: UUID, form: Fields, extra: tuple[str, ...]
) -> c.AppointmentCommand:
    """An action on one appointment: the version the user saw, and the action's own fields."""
    fields: dict[str, Any] = {
        "expected_version": form.get("expected_version") or None,
        **command_id(form),
        **{name: form.get(name, "") for name in extra},
    }
    return with_local_time(command, appointment_id=appointment_id, **fields)


# What a series form carries beyond a booking's: how it recurs and how long.
SERIES_FIELDS = ("every_weeks", "occurrences", "until")


def book_series(form: Fields) -> c.BookSeries:
    """The series form: the booking's fields, `every_weeks` (a number of weeks, or "month"
    for the same weekday each month), `occurrences` or `until`, and per visit `visit_<n>`:
    another start (clinic-local) or "skip"."""
    names = ("patient_id", "doctor_id", "duration_minutes", "title", "confirmed", "visit_type_id")
    fields: dict[str, Any] = {k: form.get(k, "") for k in names}
    every = (form.get("every_weeks") or "").strip()
    monthly = every == "month" or form.get("monthly") == "1"
    errors: dict[str, Message] = {}
    changes: dict[int, datetime | None] = {}
    for key in form:
        number = key.removeprefix("visit_")
        if number == key or not number.isdigit():
            continue
        chosen = (form.get(key) or "").strip()
        if chosen in ("", "planned"):
            continue
        try:
            changes[int(number)] = None if chosen == "skip" else parse_local(chosen, "visits")
        except ValidationError as exc:
            errors.update(exc.said_errors)
    sent = uuid_or_none(form.get("command_id"))
    series = {"series_id": step_id(sent, "series")} if sent else {}
    try:
        built = with_local_time(
            c.BookSeries,
            starts_at=form.get("starts_at"),
            every_weeks=None if monthly else every,
            monthly=monthly,
            occurrences=form.get("occurrences", ""),
            until=form.get("until", ""),
            changes=changes,
            **fields,
            **series,
            **command_id(form),
        )
    except ValidationError as exc:
        raise ValidationError({**exc.said_errors, **errors}) from None
    if errors:
        raise ValidationError(errors)
    return built


def cancel_series(series_id: UUID, form: Fields) -> c.CancelSeries:
    # Text as sent: the command coerces each field with the message the page shows.
    fields: dict[str, Any] = {
        "from_occurrence": form.get("from_occurrence", ""),
        "reason": form.get("reason", ""),
        "expected_version": form.get("expected_version") or None,
    }
    return c.CancelSeries(series_id=series_id, **fields, **command_id(form))


def join_waitlist(form: Fields) -> c.JoinWaitlist:
    """The waitlist form: `whom` is "doctor:<id>" or "specialty:<name>"."""
    kind, _, value = (form.get("whom") or "").partition(":")
    fields: dict[str, Any] = {
        "patient_id": form.get("patient_id", ""),
        "doctor_id": value if kind == "doctor" else None,
        "specialty": value if kind == "specialty" else "",
        "from_day": form.get("from_day", ""),
        "until_day": form.get("until_day", ""),
        "part_of_day": form.get("part_of_day") or "any",
        "title": form.get("title", ""),
        "note": form.get("note", ""),
    }
    return c.JoinWaitlist(**fields, **command_id(form))
