"""The operations wing's pages, apart from the desk's: /ops (projections, rebuilds, charts),
/metrics for Prometheus, and /healthz and /readyz for load balancers. The figures and probes
they show are built in the composition root (app.bootstrap); the work is app.ops's."""

from __future__ import annotations

from flask import Flask

from . import health, metrics, page


def register(app: Flask) -> None:
    """Register the operations blueprints (their names, hence endpoints, are "health",
    "metrics" and "ops")."""
    app.register_blueprint(health.bp)
    app.register_blueprint(metrics.bp)
    app.register_blueprint(page.bp)
