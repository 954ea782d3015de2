"""Staff accounts for admins (work in progress: filled in by the admin-screen change)."""

from __future__ import annotations

from flask import Blueprint, Response, abort

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/users")
def users() -> Response:
    abort(501)


@bp.post("/users")
def create_user() -> Response:
    abort(501)


@bp.post("/users/<username>/active")
def set_active(username: str) -> Response:
    abort(501)


@bp.post("/users/<username>/password")
def set_password(username: str) -> Response:
    abort(501)
