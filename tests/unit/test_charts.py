"""The operations page's chart arithmetic, against figures worked out by hand."""

from __future__ import annotations

import math

import pytest

from app.ops.charts import (
    bucket_deltas,
    counter_delta,
    line_chart,
    nice_step,
    quantile,
    segments,
    time_ticks,
    y_ticks,
)

INF = math.inf
# 40 observations: 10 up to 0.1 s, 20 more up to 0.5 s, 10 more up to 1 s.
BUCKETS = [(0.1, 10.0), (0.5, 30.0), (1.0, 40.0), (INF, 40.0)]


class TestQuantile:
    def test_interpolates_inside_the_bucket_the_rank_falls_in(self):
        # rank 20 is the 10th of the 20 observations between 0.1 and 0.5: 0.1 + 0.4 * 10/20.
        assert quantile(0.5, BUCKETS) == pytest.approx(0.3)
        # rank 39.6 is the 9.6th of the 10 between 0.5 and 1: 0.5 + 0.5 * 9.6/10.
        assert quantile(0.99, BUCKETS) == pytest.approx(0.98)

    def test_the_first_bucket_starts_at_zero(self):
        # rank 5 of the 10 observations in [0, 0.1].
        assert quantile(0.125, BUCKETS) == pytest.approx(0.05)

    def test_a_rank_in_the_infinite_bucket_gives_the_highest_finite_bound(self):
        assert quantile(0.9, [(0.1, 5.0), (1.0, 5.0), (INF, 10.0)]) == 1.0

    def test_no_observations_no_quantile(self):
        assert quantile(0.5, [(0.1, 0.0), (INF, 0.0)]) is None
        assert quantile(0.5, [(0.1, 3.0)]) is None  # no +Inf bucket: not a histogram

    def test_buckets_may_come_in_any_order_and_are_made_monotonic(self):
        # Read while being written, 1.0's count lags 0.5's: taken as 30, not 25.
        shuffled = [(INF, 40.0), (1.0, 25.0), (0.1, 10.0), (0.5, 30.0)]
        assert quantile(0.5, shuffled) == pytest.approx(0.3)
        assert quantile(0.8, shuffled) == 1.0


class TestCounterResets:
    def test_a_counter_that_grew_gained_the_difference(self):
        assert counter_delta(10, 15) == 5

    def test_a_counter_that_went_down_restarted_from_zero(self):
        assert counter_delta(10, 3) == 3

    def test_histogram_buckets_gain_per_bucket(self):
        old = {"0.1": 2.0, "1.0": 5.0, "+Inf": 6.0}
        new = {"0.1": 4.0, "1.0": 9.0, "+Inf": 10.0}
        assert bucket_deltas(old, new) == [(0.1, 2.0), (1.0, 4.0), (INF, 4.0)]

    def test_a_histogram_that_went_down_anywhere_restarted_whole(self):
        old = {"0.1": 2.0, "1.0": 5.0, "+Inf": 6.0}
        new = {"0.1": 3.0, "1.0": 3.0, "+Inf": 4.0}
        assert bucket_deltas(old, new) == [(0.1, 3.0), (1.0, 3.0), (INF, 4.0)]


class TestGeometry:
    def test_steps_are_round_numbers(self):
        assert [nice_step(x) for x in (0.3, 1.75, 2.2, 3, 70)] == [0.5, 2, 2.5, 5, 100]

    def test_the_y_axis_reaches_a_round_number_above_the_peak(self):
        assert y_ticks(7) == [0, 2, 4, 6, 8]
        assert y_ticks(100) == [0, 25, 50, 75, 100]
        assert y_ticks(0) == [0, 1]

    def test_time_ticks_fall_on_round_moments(self):
        assert time_ticks(100, 2000, 900) == [900, 1800]

    def test_lines_break_at_missing_values_and_at_gaps_in_sampling(self):
        points = [(0, 1.0), (15, 2.0), (30, None), (45, 3.0), (60, 4.0), (200, 5.0)]
        assert segments(points, max_gap=45) == [
            [(0, 1.0), (15, 2.0)],
            [(45, 3.0), (60, 4.0)],
            [(200, 5.0)],
        ]

    def test_points_are_placed_in_the_plot_area(self):
        # Default frame: x from 52 to 546, y from 172 (zero) up to 12 (the top tick).
        chart = line_chart(
            "Events", {"a": [(0, 0.0), (50, 2.0), (100, 4.0)], "b": [(40, 1.0)]},
            start=0, end=100, max_gap=60, x_label=str, y_label=lambda v: f"{v:g}", x_step=50,
        )  # fmt: skip
        a, b = chart.lines
        assert a.polylines == ["52.0,172.0 299.0,92.0 546.0,12.0"]
        assert b.polylines == ["249.6,132.0 249.6,132.0"]  # a lone point, drawn as a dot
        assert (a.latest, b.latest) == (4.0, 1.0)
        assert [(t.at, t.label) for t in chart.y_ticks] == [
            (172.0, "0"), (132.0, "1"), (92.0, "2"), (52.0, "3"), (12.0, "4"),
        ]  # fmt: skip
        ticks = [(t.at, t.label) for t in chart.x_ticks]
        assert ticks == [(52.0, "0"), (299.0, "50"), (546.0, "100")]

    def test_a_fixed_top_caps_the_scale(self):
        chart = line_chart("Hit rate", {"r": [(0, 50.0)]}, start=0, end=10, max_gap=5,
                           x_label=str, y_label=str, top=100.0)  # fmt: skip
        assert chart.y_ticks[-1].label == "100.0" and chart.lines[0].polylines[0].endswith(",92.0")

    def test_no_values_no_data(self):
        chart = line_chart(
            "Empty", {"a": [(0, None)]}, start=0, end=10, max_gap=5, x_label=str, y_label=str
        )
        assert not chart.has_data and chart.lines[0].latest is None
