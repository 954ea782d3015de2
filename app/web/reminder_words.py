"""How pages word reminders: their states in the sender's ledger, why one was not sent,
channels and kinds (catalog ids; the pages show them in the reader's language)."""

from __future__ import annotations

from flask import Flask

from app.domain.messages import N_
from app.domain.staff import PATIENT_ACTOR, REMINDERS_ACTOR

from .i18n import gettext

STATES = {
    "due": N_("to send"),
    "sending": N_("being sent"),
    "committing": N_("handed over, being recorded"),
    "sent": N_("sent"),
    "skipped": N_("not sent"),
    "parked": N_("set aside after failures"),
    "dropped": N_("not needed any more"),
}
SKIPS = {
    "no_consent": N_("the patient has not agreed to reminders"),
    "no_address": N_("no e-mail address or mobile number on the record"),
    "invalid_email": N_("the e-mail address on the record cannot be sent to"),
    "invalid_phone": N_("the phone number on the record is not a mobile number"),
    "no_channel": N_("the clinic has no way set up to send by that channel"),
}
CHANNELS = {"email": N_("E-mail"), "sms": N_("Text message"), "": N_("none")}
KINDS = {"first": N_("first reminder"), "second": N_("last reminder")}


def reminder_state(state: str) -> str:
    return gettext(STATES.get(state, state))


def skip_reason(reason: str | None) -> str:
    return gettext(SKIPS[reason]) if reason in SKIPS else (reason or "")


def channel_label(channel: str | None) -> str:
    return gettext(CHANNELS.get(channel or "", CHANNELS[""]))


def kind_label(kind: str) -> str:
    return gettext(KINDS.get(kind, kind))


def named_actors(names: dict[str, str]) -> dict[str, str]:
    """Names of actors as pages show them, with the patient (from their own page) and the
    reminder sender worded in the reader's language."""
    words = {PATIENT_ACTOR: gettext("the patient"), REMINDERS_ACTOR: gettext("reminders")}
    return {actor: words.get(actor, name) for actor, name in names.items()}


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(
        reminder_state=reminder_state,
        skip_reason=skip_reason,
        channel_label=channel_label,
        kind_label=kind_label,
    )
