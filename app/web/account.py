"""A person's own settings: the language they read pages in."""

from __future__ import annotations

import time

from flask import Blueprint, Response, request, session, url_for
from flask_login import current_user

from app.extensions import services

from .auth import ACCOUNT_CHANGED_AT
from .i18n import LOCALES
from .kit.rendering import safe_next, see_other

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.post("/locale")
def set_locale() -> Response:
    """Read pages in `locale` from now on (an empty value: the clinic's language); back to
    the page the switch was on. A language the app does not speak falls back to the
    clinic's, as an empty value does: a hand-made form gets no error page."""
    chosen = (request.form.get("locale") or "").strip().lower()
    services().accounts.set_locale(current_user.user.user_id, chosen if chosen in LOCALES else None)
    session[ACCOUNT_CHANGED_AT] = time.time()  # the next page, whichever process serves it
    return see_other(safe_next(url_for("home.index")))
