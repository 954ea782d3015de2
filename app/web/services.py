"""Access to the services built by the composition root, for views."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import current_app

if TYPE_CHECKING:
    from app.bootstrap import Services


def services() -> Services:
    """The bus, store and clinic time zone of the running app."""
    return current_app.extensions["rendezvous"]
