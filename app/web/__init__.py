"""The web layer: blueprints that turn requests into commands and queries."""

from __future__ import annotations

from flask import Flask

from . import errors, home


def init_app(app: Flask) -> None:
    """Register blueprints, error pages and template helpers."""
    app.register_blueprint(home.bp)
    errors.init_app(app)
    app.jinja_env.filters["local"] = home.local_time


__all__ = ["errors", "init_app"]
