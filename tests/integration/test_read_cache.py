"""The Redis read cache, with real Redis: entries are served until a change touches them,
every entry a change touches goes (and no other), a page reading while the projector
commits cannot put old rows back, and a dead Redis sends pages to the database."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from uuid import UUID, uuid4

import orjson
import pytest
import redis
from prometheus_client import REGISTRY

from app.bootstrap import Services, use_cache
from app.commands import (
    CancelAppointment,
    ChangePatientDetails,
    ConfirmAppointment,
    RescheduleAppointment,
)
from app.queries import appointments as q
from app.queries.cache import ReadCache, connect
from app.queries.reads import Reads, appointment_from_json

from ..backends import redis_test_url
from ..clinic import Clinic, local, open_clinic
from .webclient import Staff, page_text
from .workers import RedisServer

DAY = date(2027, 1, 12)  # a Tuesday in the clock fixture's week
OTHER_DAY = date(2027, 1, 14)


@dataclass
class Cached:
    services: Services
    cache: ReadCache
    clinic: Clinic

    @property
    def reads(self) -> Reads:
        return self.services.reads

    def fresh(self) -> Reads:
        """The same repositories straight from the read model."""
        return Reads(self.services.read_engine, self.services.tz)

    def version(self, appointment_id: UUID) -> int:
        row = q.appointment_detail(self.services.read_engine, appointment_id)
        assert row is not None
        return row.version


def _cache_on(services: Services, url: str) -> ReadCache:
    cache = ReadCache(connect(url), prefix=f"test-{uuid4().hex}", ttl=120)
    use_cache(services, cache)
    return cache


def _forget(cache: ReadCache) -> None:
    try:
        keys = list(cache.client.scan_iter(match=f"{cache.prefix}:*", count=1000))
        if keys:
            cache.client.delete(*keys)
    except redis.RedisError:
        pass  # a private Redis a test stopped: nothing of it to clean
    finally:
        cache.client.close()


@pytest.fixture
def cached(pg_app, pg_engine, clock) -> Iterator[Cached]:
    with cache_on(pg_app, clock, redis_test_url()) as found:
        yield found


@contextmanager
def cache_on(app, clock, url: str) -> Iterator[Cached]:  # type: ignore[no-untyped-def]
    """The app's services on the test clock with a cache of their own on `url`, and a
    clinic; afterwards, no cache and the cache's keys gone (if its Redis is still there)."""
    services = app.extensions["rendezvous"]
    saved = services.bus.clock, services.projector.clock
    services.bus.clock = services.projector.clock = clock
    cache = _cache_on(services, url)
    try:
        yield Cached(services, cache, open_clinic(services.bus))
    finally:
        services.bus.clock, services.projector.clock = saved
        services.reads.cache = services.projector.invalidation = None
        _forget(cache)


def counted(name: str, repository: str) -> float:
    labels = {"repository": repository}
    return REGISTRY.get_sample_value(f"rendezvous_cache_{name}_total", labels) or 0


def fetch_detail(cache: ReadCache, appointment_id: UUID, load: Callable[[], Any]) -> Any:
    """An appointment's detail through the cache, read from the database by `load`."""
    key = cache.key("appointment", appointment_id)
    return cache.fetch("appointment_detail", key, load, orjson.dumps, appointment_from_json)


class Counts:
    """Hits and misses per repository since it was made."""

    REPOSITORIES = ("appointment_detail", "agenda_day", "agenda_week", "day_counts")

    def __init__(self) -> None:
        self.start = self._now()

    def _now(self) -> dict[tuple[str, str], float]:
        return {
            (kind, repo): counted(kind, repo)
            for kind in ("hits", "misses")
            for repo in self.REPOSITORIES
        }

    def since(self, kind: str, repository: str) -> float:
        key = (kind, repository)
        return self._now()[key] - self.start[key]


def every_page(reads: Reads, clinic: Clinic, appointment_id: UUID, days: list[date]) -> Any:
    """What the detail, agenda (day and week) and Today pages of these days show."""
    return (
        reads.appointment_detail(appointment_id),
        [reads.agenda_for_day(clinic.doctor_id, day) for day in days],
        [reads.agenda_for_week(clinic.doctor_id, day - timedelta(days=day.weekday()))
         for day in days],
        [reads.day_counts(day) for day in days],
        [reads.day_counts(day, doctor_id=clinic.doctor_id) for day in days],
    )  # fmt: skip


def test_a_second_read_is_served_from_the_cache(cached: Cached) -> None:
    appointment = cached.clinic.book("2027-01-12 09:00")
    counts = Counts()
    first = every_page(cached.reads, cached.clinic, appointment, [DAY])
    assert counts.since("hits", "appointment_detail") == 0
    second = every_page(cached.reads, cached.clinic, appointment, [DAY])
    assert second == first == every_page(cached.fresh(), cached.clinic, appointment, [DAY])
    assert first[0] is not None and first[0].patient_name == "Patient 0"
    assert counts.since("hits", "appointment_detail") == 1
    assert counts.since("hits", "agenda_day") == 1
    assert counts.since("hits", "agenda_week") == 1
    assert counts.since("hits", "day_counts") == 2  # the clinic's and the doctor's


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda c, a: ConfirmAppointment(appointment_id=a, expected_version=1),
                     id="confirm"),
        pytest.param(lambda c, a: CancelAppointment(appointment_id=a, reason="Ill"),
                     id="cancel"),
        pytest.param(lambda c, a: RescheduleAppointment(
            appointment_id=a, starts_at=local("2027-01-14 10:00"), duration_minutes=30),
                     id="reschedule to another day"),
        pytest.param(lambda c, a: ChangePatientDetails(
            patient_id=c.patient_ids[0], full_name="Patience Renamed",
            date_of_birth=date(1980, 2, 3), phone="06 12 99 99 99"),
                     id="patient renamed"),
    ],
)  # fmt: skip
def test_a_change_refreshes_every_cached_page_it_touches(
    cached: Cached, change: Callable[[Clinic, UUID], Any]
) -> None:
    appointment = cached.clinic.book("2027-01-12 09:00")
    days = [DAY, OTHER_DAY]
    before = every_page(cached.reads, cached.clinic, appointment, days)
    assert every_page(cached.reads, cached.clinic, appointment, days) == before  # all cached

    cached.services.bus.handle(change(cached.clinic, appointment))

    after = every_page(cached.reads, cached.clinic, appointment, days)
    assert after != before
    assert after == every_page(cached.fresh(), cached.clinic, appointment, days)


def test_a_change_leaves_the_entries_it_does_not_touch(cached: Cached) -> None:
    touched = cached.clinic.book("2027-01-12 09:00")
    untouched = cached.clinic.book("2027-01-14 09:00", patient=1)
    every_page(cached.reads, cached.clinic, untouched, [OTHER_DAY])
    every_page(cached.reads, cached.clinic, touched, [DAY])

    cached.services.bus.handle(ConfirmAppointment(appointment_id=touched))
    counts = Counts()
    every_page(cached.reads, cached.clinic, untouched, [OTHER_DAY])
    assert counts.since("misses", "appointment_detail") == 0
    assert counts.since("misses", "agenda_day") == 0
    assert counts.since("misses", "day_counts") == 0
    # The same week: the week's agenda shows the confirmed appointment, so it went.
    assert counts.since("misses", "agenda_week") == 1
    assert counts.since("hits", "day_counts") == 2


def test_an_appointments_timeline_is_cached_until_its_next_event(cached: Cached) -> None:
    appointment = cached.clinic.book("2027-01-12 09:00")
    hits = counted("hits", "appointment_history")
    first = cached.reads.appointment_timeline(appointment)
    assert cached.reads.appointment_timeline(appointment) == first
    assert counted("hits", "appointment_history") == hits + 1

    cached.services.bus.handle(ConfirmAppointment(appointment_id=appointment))

    after = cached.reads.appointment_timeline(appointment)
    assert [entry.summary for entry in after] == ["AppointmentCreated", "AppointmentConfirmed"]
    assert after == cached.fresh().appointment_timeline(appointment)
    assert after[0] == first[0]


def test_a_page_reading_while_the_projector_commits_cannot_store_the_old_row(
    cached: Cached,
) -> None:
    appointment = cached.clinic.book("2027-01-12 09:00")
    engine = cached.services.read_engine

    def read_then_commit_before_storing() -> q.AppointmentRow | None:
        old = q.appointment_detail(engine, appointment)
        # The projector commits between this page's read and its store.
        cached.services.bus.handle(ConfirmAppointment(appointment_id=appointment))
        return old

    def fetch(load: Callable[[], Any]) -> Any:
        return fetch_detail(cached.cache, appointment, load)

    seen = fetch(read_then_commit_before_storing)
    assert seen is not None and seen.status.value == "pending"  # what it read, shown once
    now = fetch(lambda: q.appointment_detail(engine, appointment))
    assert now.status.value == "confirmed"
    assert fetch(lambda: pytest.fail("served from the cache")) == now


def test_entries_under_change_are_neither_served_nor_stored(cached: Cached) -> None:
    appointment = cached.clinic.book("2027-01-12 09:00")
    tags = {("appointment", appointment)}
    loads = []

    def fetch() -> Any:
        def load() -> Any:
            loads.append(1)
            return q.appointment_detail(cached.services.read_engine, appointment)

        return fetch_detail(cached.cache, appointment, load)

    fetch(), fetch()
    assert len(loads) == 1
    cached.cache.begin(tags)  # as the projector does just before committing
    fetch(), fetch()
    assert len(loads) == 3
    cached.cache.end(tags)
    fetch(), fetch()
    assert len(loads) == 4


def test_a_rebuild_makes_every_entry_stale(cached: Cached) -> None:
    appointment = cached.clinic.book("2027-01-12 09:00")
    every_page(cached.reads, cached.clinic, appointment, [DAY])
    cached.services.maintenance.rebuild("appointments")
    counts = Counts()
    assert every_page(cached.reads, cached.clinic, appointment, [DAY]) == every_page(
        cached.fresh(), cached.clinic, appointment, [DAY]
    )
    assert counts.since("hits", "appointment_detail") == 0
    assert counts.since("misses", "day_counts") == 2


def test_pages_go_through_the_cache_and_show_each_change(pg_app, cached: Cached) -> None:
    appointment = cached.clinic.book("2027-01-12 09:00")
    staff = Staff(pg_app)
    counts = Counts()
    staff.get(f"/appointments/{appointment}")
    staff.get(f"/doctors/{cached.clinic.doctor_id}?day={DAY}")
    staff.get(f"/?day={DAY}")
    first = page_text(staff.get(f"/appointments/{appointment}"))
    assert "Pending" in first
    assert counts.since("hits", "appointment_detail") == 1
    staff.get(f"/doctors/{cached.clinic.doctor_id}?day={DAY}")
    staff.get(f"/?day={DAY}")
    assert counts.since("hits", "agenda_day") == 1
    assert counts.since("hits", "day_counts") == 1

    done = staff.post(
        f"/appointments/{appointment}/confirm", {"expected_version": 1}, follow_redirects=True
    )
    assert done.status_code == 200
    assert "Confirmed" in page_text(done)
    assert "Confirmed" in page_text(staff.get(f"/appointments/{appointment}"))


# -- Redis unreachable --


@pytest.fixture
def cached_on_private_redis(pg_app, pg_engine, clock, private_redis) -> Iterator[Cached]:
    with cache_on(pg_app, clock, private_redis.url) as found:
        yield found


def errors(operation: str) -> float:
    return REGISTRY.get_sample_value("rendezvous_cache_errors_total", {"operation": operation}) or 0


def test_without_redis_pages_read_the_database_and_warn_once(
    pg_app, cached_on_private_redis: Cached, private_redis: RedisServer, caplog
) -> None:
    cached = cached_on_private_redis
    appointment = cached.clinic.book("2027-01-12 09:00")
    staff = Staff(pg_app)
    staff.get(f"/appointments/{appointment}")  # cached
    private_redis.stop()
    failed_reads = errors("read")

    with caplog.at_level(logging.WARNING, logger="rendezvous.cache"):
        pages = [
            staff.get(f"/appointments/{appointment}"),
            staff.get(f"/doctors/{cached.clinic.doctor_id}?day={DAY}"),
            staff.get(f"/?day={DAY}"),
        ]
    assert [page.status_code for page in pages] == [200, 200, 200]
    assert "Patient 0" in page_text(pages[0])
    assert "Patient 0" in page_text(pages[1])
    warnings = [r for r in caplog.records if "Read cache unavailable" in r.getMessage()]
    assert len(warnings) == 1
    # After the first failure, pages stop asking Redis for a while: no timeout each.
    assert errors("read") == failed_reads + 1


def test_without_redis_the_projector_holds_its_batch_until_it_can_invalidate(
    cached_on_private_redis: Cached, private_redis: RedisServer
) -> None:
    cached = cached_on_private_redis
    appointment = cached.clinic.book("2027-01-12 09:00")
    assert cached.reads.appointment_detail(appointment).status.value == "pending"
    private_redis.stop()

    # The command commits; its projection waits, rather than leave a stale entry behind.
    cached.services.bus.handle(ConfirmAppointment(appointment_id=appointment))
    assert cached.services.store.stream_version(appointment) == 2
    assert cached.version(appointment) == 1

    private_redis.start()
    cached.services.projector.run("appointments")
    assert cached.version(appointment) == 2
    assert cached.reads.appointment_detail(appointment).status.value == "confirmed"


def test_an_entry_this_code_cannot_read_is_read_from_the_database(cached: Cached, caplog) -> None:
    appointment = cached.clinic.book("2027-01-12 09:00")
    cached.reads.appointment_detail(appointment)  # stored
    [entry] = cached.cache.client.keys(f"{cached.cache.prefix}:cache:value:*")
    stamp = cached.cache.client.get(entry).split(b"|")[:2]
    cached.cache.client.set(entry, b"|".join([*stamp, b'{"not": "a row"}']))
    with caplog.at_level(logging.WARNING, logger="rendezvous.cache"):
        row = cached.reads.appointment_detail(appointment)
    assert row == cached.fresh().appointment_detail(appointment)
    assert any("unreadable entry" in r.getMessage() for r in caplog.records)


def test_rows_of_another_shape_are_kept_apart(cached: Cached) -> None:
    """Code whose rows have other fields (a rolling deploy) stores under other names."""
    appointment = cached.clinic.book("2027-01-12 09:00")
    cached.reads.appointment_detail(appointment)
    other = ReadCache(cached.cache.client, prefix=cached.cache.prefix, ttl=120, shape="other")
    loads: list[int] = []

    def load() -> Any:
        loads.append(1)
        return q.appointment_detail(cached.services.read_engine, appointment)

    fetch_detail(other, appointment, load)
    assert loads == [1]


def test_a_rebuild_left_half_done_does_not_switch_the_cache_off_for_good(cached: Cached) -> None:
    """If the step after a swap never runs, the epoch stays odd (nothing is stored) only
    until it expires, after every entry stored under it."""
    cached.cache.begin({("all",)})  # and no `end`: Redis went away
    epoch = f"{cached.cache.prefix}:cache:epoch"
    assert cached.cache.client.get(epoch) == b"1"
    assert 0 < cached.cache.client.ttl(epoch) <= cached.cache.ttl + 60
