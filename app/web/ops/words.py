"""How the operations page names projections and their states, in the reader's language;
the CLI (`flask projections status`) keeps the codes."""

from __future__ import annotations

from app.domain.messages import N_
from app.web import i18n

PROJECTIONS = {
    "appointments": N_("Appointments"),
    "patients": N_("Patients"),
    "doctors": N_("Doctors"),
    "timeline": N_("Timeline"),
}
STATES = {
    "up to date": N_("Up to date"),
    "behind": N_("Behind"),
    "retrying": N_("Retrying"),
    "parked": N_("Parked"),
    "needs rebuild": N_("Needs a rebuild"),
    "not started": N_("Not started"),
}
REBUILD_STATES = {"queued": N_("queued"), "running": N_("running")}


def projection_name(name: str) -> str:
    """'Appointments', 'Rendez-vous': a projection as the page names it."""
    return i18n.gettext(PROJECTIONS.get(name, name))


def state_label(state: str) -> str:
    return i18n.gettext(STATES.get(state, state))
