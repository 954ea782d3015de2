"""The home page."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, render_template

from app.queries import activity

from .services import services

bp = Blueprint("home", __name__)

TIME_FORMAT = "%a %d %b %Y, %H:%M"


def local_time(moment: datetime, fmt: str = TIME_FORMAT) -> str:
    """A moment in the clinic's time zone, in the one format pages use."""
    return moment.astimezone(services().tz).strftime(fmt)


@bp.get("/")
def index() -> str:
    """The front desk's start page: what happened lately in the appointment book."""
    return render_template("home.html", items=activity.recent_activity(services().store, 25))
