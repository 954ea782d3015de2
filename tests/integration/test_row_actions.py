"""The buttons a row offers are exactly the actions the domain would accept, in every status
and at every moment that matters (before the start, after it, another day). Here rather than
in tests/unit: the rows are drawn by app/web/row_html.py, a Flask module (no service runs)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from types import SimpleNamespace
from uuid import uuid4

import pytest

from app.domain.appointment import Appointment, Status
from app.domain.errors import InvalidTransitionError
from app.web.actions import ACTIONS, offered
from app.web.row_html import RowPage, draw_actions
from tests.unit.domain_builders import TZ, appointment, doctor, local

STARTS = local("2027-01-12 10:00")
MOMENTS = {
    "the day before": local("2027-01-11 10:00"),
    "before the start": local("2027-01-12 09:00"),
    "within the no-show grace": local("2027-01-12 10:05"),
    "after the no-show grace": local("2027-01-12 10:10"),
    "the day after": local("2027-01-13 10:00"),
}


def _accepts(state: Appointment, domain_action: str, now: datetime) -> bool:
    """Whether the aggregate accepts the action's command at `now` (a refused transition
    is a no; any other refusal would be a fault of the test's arguments)."""
    later = local("2027-01-14 10:00")
    attempts = {
        "confirm": lambda: state.confirm(),
        "cancel": lambda: state.cancel("Patient called"),
        "reschedule": lambda: state.reschedule(
            doctor=doctor(),
            starts_at=later,
            ends_at=later + timedelta(minutes=15),
            reason="",
            now=now,
            tz=TZ,
        ),
        "check_in": lambda: state.check_in(now=now, tz=TZ),
        "complete": lambda: state.complete(),
        "mark_no_show": lambda: state.mark_no_show(now=now, tz=TZ),
    }
    try:
        attempts[domain_action]()
    except InvalidTransitionError:
        return False
    return True


def _rendered_actions(row: SimpleNamespace, context: str, now: datetime) -> list[str]:
    """The actions the row's HTML draws (app/web/row_html.py), as a page does for every
    role's actions."""
    page = RowPage(
        badges={},
        answers={},
        root="",
        tz=TZ,
        csrf="token",
        back="/",
        open_it="Open it",
        now_shows="",
        updating="",
        reason="Reason for cancelling",
        cancel="Cancel appointment",
        no_phone="",
    )
    offers = offered(row.status, row.starts_at, now=now, tz=TZ, context=context)
    html = "".join(draw_actions(page, row, offers, context))  # type: ignore[arg-type]
    return re.findall(r'data-action="([^"]+)"', html)


def _row(status: Status) -> SimpleNamespace:
    return SimpleNamespace(
        appointment_id=uuid4(), doctor_id=uuid4(), status=status, starts_at=STARTS, version=3
    )


@pytest.mark.parametrize("moment", MOMENTS)
@pytest.mark.parametrize("status", list(Status))
@pytest.mark.parametrize("context", ["list", "detail"])
def test_a_row_offers_exactly_what_the_domain_accepts(status, moment, context):
    now = MOMENTS[moment]
    accepted = [
        action.slug
        for action in ACTIONS.values()
        if _accepts(appointment(status, starts="2027-01-12 10:00"), action.domain, now)
    ]
    assert _rendered_actions(_row(status), context, now) == accepted


@pytest.mark.parametrize("status", list(Status))
def test_the_queue_offers_what_clears_it_of_what_the_domain_accepts(status):
    now = MOMENTS["before the start"]
    accepted = [
        action.slug
        for action in ACTIONS.values()
        if action.in_queue and _accepts(appointment(status), action.domain, now)
    ]
    assert _rendered_actions(_row(status), "queue", now) == accepted


def test_a_confirmed_appointment_the_day_before_offers_cancel_and_reschedule_only():
    day_before = offered(Status.CONFIRMED, STARTS, now=MOMENTS["the day before"], tz=TZ)
    assert [a.slug for a in day_before] == ["cancel", "reschedule"]
