"""The operations page's charts of the last hour, drawn from the samples (app.ops.samples)
with the geometry of app.ops.charts; the template turns them into inline SVG."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from babel.numbers import format_decimal
from flask import current_app

from app.domain.messages import N_
from app.extensions import services
from app.ops import samples, tasks
from app.ops.charts import Chart, Point, line_chart
from app.web import formatting as fmt
from app.web import i18n
from app.web.i18n import gettext as _

from .words import projection_name

WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class ChartView:
    key: str
    chart: Chart
    summary: str  # the latest values, in words: the chart's text alternative


def number(value: float | None) -> str:
    """A figure for people, with the reader's separators ("1,234" or "1 234", "2.5" or
    "2,5"): three significant digits at most, no trailing zeros."""
    if value is None:
        return i18n.gettext("n/a")
    if abs(value) >= 100:
        value = round(value)
    elif abs(value) < 0.001:
        value = 0
    else:
        value = float(f"{value:.3g}")
    return format_decimal(value, format="#,##0.#####", locale=i18n.locale_code())


def _clock(at: float) -> str:
    return fmt.clock(datetime.fromtimestamp(at, UTC))


def _scaled(points: list[Point], factor: float) -> list[Point]:
    return [(at, None if v is None else v * factor) for at, v in points]


def _summary(chart: Chart, unit: str, empty: str) -> str:
    if not chart.has_data:
        return empty
    latest = [
        i18n.gettext(unit, label=line.label, value=number(line.latest))
        for line in chart.lines
        if line.latest is not None
    ]
    if not latest:
        return empty
    return i18n.gettext("Latest: %(values)s.", values=", ".join(latest))


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
    lag = {projection_name(name): points for name, points in lag.items()}
    # (key, title, lines, one line's latest value, top of the scale, when nothing to draw)
    wanted = [
        ("events", _("Events appended per second"),
         {_("Appended"): s.events_per_second}, N_("%(label)s %(value)s events/s"), None,
         _("No events appended in the last hour.")),
        ("latency", _("Command latency (ms)"),
         {"p50": _scaled(s.p50, 1000), "p99": _scaled(s.p99, 1000)},
         N_("%(label)s %(value)s ms"), None, _("No commands handled in the last hour.")),
        ("lag", _("Projection lag (seconds behind)"), lag, N_("%(label)s %(value)s s"), None,
         _("No samples yet.")),
        ("cache", _("Cache hit rate (%)"), {_("Hit rate"): _scaled(s.hit_rate, 100)},
         N_("%(label)s %(value)s %%"), 100.0, _("No cached reads in the last hour.")),
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
