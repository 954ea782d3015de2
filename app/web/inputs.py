"""Requests no form could have sent are refused before anything reads them."""

from __future__ import annotations

from flask import abort, request

from app.domain.messages import N_  # the error page translates it (kit/errors.py)


def refuse_unreadable() -> None:
    """400 for a NUL character anywhere in the address or the form (no browser form sends
    one, and PostgreSQL cannot store it in text), or for a form part without a name."""
    found_nul = "\x00" in request.path
    for values in (request.args, request.form):
        for key, value in values.items(multi=True):
            if key is None:
                abort(400, description=N_("The form sent a field without a name."))
            found_nul = found_nul or "\x00" in key or "\x00" in value
    if found_nul:
        abort(400, description=N_("The request contains a character that is not allowed (NUL)."))
