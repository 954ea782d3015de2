"""The e2e clinic's time zone: one where the run starts in the morning, whatever the hour
on the machine's clock.

The server runs on the real clock, and the front desk's day ends at midnight: a patient is
checked in on the day of the visit, and the last slot of the day starts at 23:30. In
Europe/Paris a run started at 23:30 would have no day left to book and check in, and
waiting for the next day (as the suite once did) stalled the run half an hour and outlived
the signed-in session. A fixed-offset zone chosen at the start gives every run a whole day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

MORNING = 9  # the clinic's hour when the run starts: fifteen hours of day ahead
DAY_ENDS_SOON = timedelta(minutes=35)  # less than this, and nothing can be booked today


def daytime_zone(now: datetime) -> str:
    """The Etc/GMT zone in which `now` (aware) falls in the clinic's morning hour."""
    offset = MORNING - now.astimezone(UTC).hour
    if offset < -12:  # Etc/GMT zones run from UTC-12 to UTC+14
        offset += 24
    # POSIX signs: Etc/GMT-2 is two hours ahead of UTC.
    return f"Etc/GMT{-offset:+d}" if offset else "Etc/GMT"


CLINIC_ZONE = daytime_zone(datetime.now(UTC))
CLINIC_TZ = ZoneInfo(CLINIC_ZONE)


def clinic_now() -> datetime:
    return datetime.now(CLINIC_TZ)


def clinic_today() -> date:
    """Today in the clinic, with enough of it left to book and check in a patient."""
    now = clinic_now()
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), CLINIC_TZ)
    assert midnight - now >= DAY_ENDS_SOON, (
        f"The e2e clinic's day ({CLINIC_ZONE}) ends at {midnight:%H:%M}: this run has lasted"
        " since the morning, and a patient can no longer be booked and checked in today."
    )
    return now.date()
