"""Free-slot arithmetic: working periods cut into slots, busy time removed, clocks changing."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from app.domain.availability import Schedule
from app.domain.clinic_time import local_moment
from app.projections.keys import search_key
from app.queries.slots import free_slots, slot_grid


def weekly(hours: dict | None) -> Schedule:
    return Schedule.from_data("Dr Ada Martin", hours, {}, [])


PARIS = ZoneInfo("Europe/Paris")


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=PARIS).astimezone(UTC)


def labels(slots):
    return [slot.starts_at.astimezone(PARIS).strftime("%H:%M") for slot in slots]


def test_periods_are_cut_into_whole_slots_only():
    hours = {"mon": [["09:00", "10:00"], ["14:00", "14:50"]]}
    grid = slot_grid(date(2027, 1, 11), weekly(hours), 20, PARIS)
    assert labels(grid) == ["09:00", "09:20", "09:40", "14:00", "14:20"]  # 14:40 would overrun


def test_a_day_without_hours_has_no_slots():
    assert slot_grid(date(2027, 1, 16), weekly({"mon": [["09:00", "12:00"]]}), 15, PARIS) == []
    assert slot_grid(date(2027, 1, 11), weekly(None), 15, PARIS) == []


def test_busy_time_and_the_past_are_taken_out():
    grid = slot_grid(date(2027, 1, 11), weekly({"mon": [["09:00", "11:00"]]}), 30, PARIS)
    busy = [SimpleNamespace(starts_at=local("2027-01-11 09:40"), ends_at=local("2027-01-11 10:10"))]
    free = free_slots(grid, busy, now=local("2027-01-11 09:00"))
    assert labels(free) == ["10:30"]  # 09:00 has begun; 09:30 and 10:00 overlap the visit


def test_the_hour_skipped_when_clocks_go_forward_does_not_exist():
    # Sunday 28 March 2027: in Paris 02:00 becomes 03:00.
    assert local_moment(date(2027, 3, 28), "02:30", PARIS) is None
    grid = slot_grid(date(2027, 3, 28), weekly({"sun": [["01:00", "04:00"]]}), 60, PARIS)
    # 01:00 to 04:00 local is two real hours that day.
    assert labels(grid) == ["01:00", "03:00"]


def test_search_keys_ignore_case_accents_and_spacing():
    assert search_key("  Élodie   DURAND ") == "elodie durand"
