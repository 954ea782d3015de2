"""The reminder sender's Celery task: beat sends `rendezvous.send_reminders` every
REMINDER_SECONDS. Two at once, a lost one, one redelivered after a worker died: the ledger
decides who sends what (app/outbound/sender.py), so none of these sends a message twice."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from flask import current_app

from .sender import sender_for

log = logging.getLogger(__name__)


@shared_task(name="rendezvous.send_reminders", acks_late=True)
def send_reminders() -> dict[str, Any]:
    report = sender_for(current_app).send_due()
    if report.outcomes:
        log.info("Reminders: %s", report)
    return {"planned": report.planned, **report.outcomes}
