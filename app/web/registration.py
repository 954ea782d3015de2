"""Registering a patient who may be registered already.

The directory and the booking form both register patients, and a desk that does not find
"Jeanne Dupont" at once (a typo, the names the other way round, a maiden name) registers her
a second time: two records, half the history in each. So before a registration runs, the
registered patients with the same name and date of birth, or the same phone number, are
looked up in the directory's read model; if there are any, nothing is registered and the
form shows them, to use one of them or to register anyway (the form's `anyway` field).

The look-up is advice, not a rule: it reads a read model, so two desks registering the same
person in the same second both get through: an admin merges those afterwards
(`/patients/<id>/merge`). The domain has no rule to break; the command runs as before once
the desk chooses.
"""

from __future__ import annotations

from dataclasses import dataclass

from app import phones
from app.commands import CommandResult
from app.commands import commands as c
from app.commands.handlers import checked_patient_details
from app.extensions import services
from app.queries import directory as d
from app.queries.freshness import already_run

from . import formatting as fmt
from . import forms
from .forms.fields import Fields
from .kit.outcomes import Refusal, attempt

ANYWAY = "anyway"  # the form field (value "1") of "Register anyway"


@dataclass(frozen=True)
class LookAlikes:
    """Nothing registered: these patients may be the one, and the desk chooses."""

    found: list[d.LookAlike]
    status: int = 409  # the directory holds what conflicts with the request, until chosen


class _Found(Exception):
    def __init__(self, found: list[d.LookAlike]) -> None:
        self.found = found


def register(form: Fields, key: str = "command_id") -> CommandResult | Refusal | LookAlikes:
    """Register the patient the form describes, unless registered patients look like them
    and the desk has not said to register anyway. Fields are checked first, so a form with
    mistakes gets its messages, not a list of patients matched on a mistyped number."""

    def build() -> c.RegisterPatient:
        command = forms.register_patient(form, key)
        if form.get(ANYWAY) == "1" or already_run(services().store, command.command_id):
            return command
        region = services().region
        details = checked_patient_details(command, fmt.today(), region)
        phone_key = phones.key(details.phone, region) if details.phone else ""
        found = d.look_alikes(
            services().query_engine, details.full_name, details.date_of_birth, phone_key
        )
        if found:
            raise _Found(found)
        return command

    try:
        return attempt(build)
    except _Found as exc:
        return LookAlikes(exc.found)
