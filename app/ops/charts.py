"""Charts drawn on the server: the arithmetic of the operations page's SVG line charts.

Plain numbers in, plain numbers and strings out (no Flask, no SQL), so every scale, tick and
quantile can be checked by hand in tests/unit/test_charts.py. Times are seconds since the
epoch; the template turns the coordinates into <polyline> and <text> elements.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

Point = tuple[float, float | None]  # (time, value); None leaves a gap in the line
Buckets = Sequence[tuple[float, float]]  # (upper bound, cumulative count), +Inf last


def counter_delta(old: float, new: float) -> float:
    """How much a counter grew between two readings. A counter only goes down when the
    process that kept it restarted from zero: then it grew by its whole new value."""
    return new - old if new >= old else new


def bucket_deltas(
    old: Mapping[str, float] | None, new: Mapping[str, float]
) -> list[tuple[float, float]]:
    """The observations a histogram gained between two readings of its cumulative buckets
    (keyed by their `le` label), sorted by upper bound. Any bucket going down means a
    restart, and the new readings are the whole of it (as `counter_delta`, for all buckets
    at once, so the counts stay cumulative)."""
    before = old or {}
    reset = any(count < before.get(le, 0.0) for le, count in new.items())
    return sorted(
        (float(le), count if reset else count - before.get(le, 0.0)) for le, count in new.items()
    )


def quantile(q: float, buckets: Buckets) -> float | None:
    """The q-quantile of the observations in cumulative `buckets`, interpolated linearly
    inside the bucket it falls in, as Prometheus' histogram_quantile does; None without
    observations. Falling in the +Inf bucket gives the highest finite bound."""
    ordered = sorted(buckets)
    if len(ordered) < 2 or not math.isinf(ordered[-1][0]):
        return None
    counts, highest = [], 0.0
    for _, count in ordered:  # cumulative counts never decrease, whatever was read
        highest = max(highest, count)
        counts.append(highest)
    total = counts[-1]
    if total <= 0:
        return None
    rank = min(max(q, 0.0), 1.0) * total
    index = next(i for i, count in enumerate(counts) if count >= rank)
    if index == len(ordered) - 1:
        return ordered[-2][0]
    upper = ordered[index][0]
    if index == 0 and upper <= 0:
        return upper
    lower = ordered[index - 1][0] if index else 0.0
    below = counts[index - 1] if index else 0.0
    inside = counts[index] - below
    if inside <= 0:
        return lower
    return lower + (upper - lower) * (rank - below) / inside


def nice_step(raw: float) -> float:
    """The smallest 1, 2, 2.5 or 5 times a power of ten that is at least `raw`."""
    if raw <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(raw))
    return next(f * power for f in (1, 2, 2.5, 5, 10) if f * power >= raw * (1 - 1e-9))


def y_ticks(peak: float, count: int = 4) -> list[float]:
    """Tick values from 0 up to a round number at or above `peak`, about `count` steps."""
    if peak <= 0:
        return [0.0, 1.0]
    step = nice_step(peak / count)
    steps = max(math.ceil(peak / step - 1e-9), 1)
    return [round(step * n, 10) for n in range(steps + 1)]


def time_ticks(start: float, end: float, step: float) -> list[float]:
    """Round moments (multiples of `step` seconds) from `start` to `end`."""
    first = math.ceil(start / step) * step
    return [first + step * n for n in range(int((end - first) // step) + 1)]


def segments(points: Sequence[Point], max_gap: float) -> list[list[tuple[float, float]]]:
    """Runs of consecutive points with values, broken at a missing value or where two
    points are more than `max_gap` seconds apart (the sampler was not running)."""
    runs: list[list[tuple[float, float]]] = []
    last: float | None = None
    for at, value in sorted(points, key=lambda p: p[0]):
        if value is None:
            last = None
            continue
        if last is None or at - last > max_gap:
            runs.append([])
        runs[-1].append((at, value))
        last = at
    return runs


@dataclass(frozen=True)
class Frame:
    """The SVG's size (its viewBox) and the margins around the plot, for the axes' labels."""

    width: int = 560
    height: int = 200
    left: int = 52
    right: int = 14
    top: int = 12
    bottom: int = 28

    @property
    def plot_right(self) -> int:
        return self.width - self.right

    @property
    def plot_bottom(self) -> int:
        return self.height - self.bottom


@dataclass(frozen=True)
class Tick:
    at: float  # x or y, in the viewBox
    label: str


@dataclass(frozen=True)
class Line:
    label: str
    index: int  # picks the line's class: colour and dashes
    polylines: list[str]  # each a <polyline points="…">
    latest: float | None


@dataclass(frozen=True)
class Chart:
    title: str
    frame: Frame
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    lines: list[Line]

    @property
    def has_data(self) -> bool:
        return any(line.polylines for line in self.lines)


def line_chart(
    title: str,
    series: Mapping[str, Sequence[Point]],
    *,
    start: float,
    end: float,
    max_gap: float,
    x_label: Callable[[float], str],
    y_label: Callable[[float], str],
    top: float | None = None,
    x_step: float = 900,
    frame: Frame = Frame(),
) -> Chart:
    """A line per series over the time window [start, end], on a y scale from 0 to `top`
    (by default a round number above the highest value)."""
    values = [v for points in series.values() for at, v in points if v is not None and at >= start]
    ticks = y_ticks(top if top is not None else max(values, default=0.0))
    ceiling = ticks[-1]
    width, height = frame.plot_right - frame.left, frame.plot_bottom - frame.top

    def x(at: float) -> float:
        return frame.left + (at - start) / (end - start) * width

    def y(value: float) -> float:
        return frame.plot_bottom - min(max(value, 0.0), ceiling) / ceiling * height

    lines = []
    for index, (label, points) in enumerate(series.items()):
        shown = [(at, v) for at, v in points if start <= at <= end]
        polylines = []
        for run in segments(shown, max_gap):
            coords = [f"{x(at):.1f},{y(v):.1f}" for at, v in run]
            polylines.append(" ".join(coords if len(coords) > 1 else coords * 2))
        valued = [(at, v) for at, v in shown if v is not None]
        latest = max(valued, key=lambda p: p[0])[1] if valued else None
        lines.append(Line(label, index, polylines, latest))
    return Chart(
        title,
        frame,
        x_ticks=[Tick(round(x(t), 1), x_label(t)) for t in time_ticks(start, end, x_step)],
        y_ticks=[Tick(round(y(v), 1), y_label(v)) for v in ticks],
        lines=lines,
    )
