"""The operations page's rates between samples, against figures worked out by hand.

Plain arithmetic, but here rather than in tests/unit/test_charts.py with the rest of it:
its module (app.ops.samples) also takes and reads the samples, so it imports
SQLAlchemy and the projector, which the unit layer runs without."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.ops.samples import Sample, series, throughput


def test_rates_between_samples_survive_a_restart():
    start = datetime(2027, 1, 11, 9, tzinfo=UTC)

    def sample(seconds: int, events: float, hits: float, misses: float) -> Sample:
        payload = {
            "events": events,
            "hits": hits,
            "misses": misses,
            "command_buckets": {"0.01": events, "+Inf": events},
            "projections": {"patients": {"position": int(events), "seconds": 0.5}},
        }
        return Sample(start + timedelta(seconds=seconds), payload)

    # 30 events in the first 15 s; then the process restarts and has counted 6 since.
    taken = [sample(0, 100, 10, 10), sample(15, 130, 25, 25), sample(30, 6, 3, 1)]
    found = series(taken)

    at = [start.timestamp() + s for s in (15, 30)]
    assert found.events_per_second == [(at[0], 2.0), (at[1], 0.4)]
    assert found.hit_rate == [(at[0], 0.5), (at[1], 0.75)]
    assert found.p50 == [(at[0], pytest.approx(0.005)), (at[1], pytest.approx(0.005))]
    assert found.lag["patients"] == [(start.timestamp() + s, 0.5) for s in (0, 15, 30)]
    assert throughput(taken, "patients", start + timedelta(seconds=20), 140) == 2.0
