"""The operations page's charts of the last hour, drawn from the samples (app.ops.samples)
with the geometry of app.ops.charts; the template turns them into inline SVG."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app

from app.extensions import services
from app.ops import samples, tasks
from app.ops.charts import Chart, Point, line_chart
from app.web import formatting as fmt

WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class ChartView:
    key: str
    chart: Chart
    summary: str  # the latest values, in words: the chart's text alternative


def number(value: float | None) -> str:
    """A figure for people: three significant digits at most, no trailing zeros."""
    if value is None:
        return "n/a"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}" if abs(value) >= 0.001 else "0"


def _clock(at: float) -> str:
    return fmt.clock(datetime.fromtimestamp(at, UTC))


def _scaled(points: list[Point], factor: float) -> list[Point]:
    return [(at, None if v is None else v * factor) for at, v in points]


def _summary(chart: Chart, unit: str, empty: str) -> str:
    if not chart.has_data:
        return empty
    latest = [
        f"{line.label} {number(line.latest)}{unit}"
        for line in chart.lines
        if line.latest is not None
    ]
    return "Latest: " + ", ".join(latest) + "." if latest else empty


def chart_context(now: datetime) -> dict[str, Any]:
    """The charts of the last hour, from the samples (taken here first when there is no
    beat to take them: the embedded default)."""
    projector, every = services().projector, current_app.config["OPS_SAMPLE_SECONDS"]
    if not tasks.has_broker():
        samples.take(projector, now, every=every)
    found = samples.since(projector.engine, now - WINDOW - timedelta(seconds=2 * every))
    s = samples.series(found)
    frame = {
        "start": (now - WINDOW).timestamp(),
        "end": now.timestamp(),
        "max_gap": 3 * every,
        "x_label": _clock,
        "y_label": number,
    }
    # One line per projection, in the order they run (JSONB keeps keys in its own order).
    lag = {name: s.lag[name] for name in projector.names if name in s.lag}
    wanted = [
        ("events", "Events appended per second", {"Appended": s.events_per_second},
         " events/s", None, "No events appended in the last hour."),
        ("latency", "Command latency (ms)",
         {"p50": _scaled(s.p50, 1000), "p99": _scaled(s.p99, 1000)}, " ms", None,
         "No commands handled in the last hour."),
        ("lag", "Projection lag (seconds behind)", lag, " s", None, "No samples yet."),
        ("cache", "Cache hit rate (%)", {"Hit rate": _scaled(s.hit_rate, 100)}, " %", 100.0,
         "No cached reads in the last hour."),
    ]  # fmt: skip
    views = []
    for key, title, series, unit, top, empty in wanted:
        chart = line_chart(title, series, top=top, **frame)
        views.append(ChartView(key, chart, _summary(chart, unit, empty)))
    return {
        "charts": views,
        "sampled_at": found[-1].taken_at if found else None,
        "every": every,
        "number": number,
        "now": now,
    }
