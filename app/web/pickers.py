"""The doctor pickers of the list filters and the booking form.

A clinic at scale has hundreds of doctors; every list page would read and render them all.
The options are built once per change of the doctors' read model (its row count and latest
change, one small aggregate), then only the chosen one is marked.
"""

from __future__ import annotations

from typing import cast

from flask import current_app, g, has_request_context
from markupsafe import Markup

from app.extensions import services
from app.queries.directory import DoctorChoice, doctor_choices, doctors_signature


def _built() -> tuple[list[DoctorChoice], Markup, Markup]:
    # A page may ask for the options and the specialties: one look at the doctors each.
    if has_request_context() and "doctor_pickers" in g:
        return cast(tuple[list[DoctorChoice], Markup, Markup], g.doctor_pickers)
    engine = services().query_engine
    cache = current_app.extensions.setdefault("rendezvous.doctor_options", {})
    signature = doctors_signature(engine)
    if cache.get("signature") != signature:
        choices = doctor_choices(engine)
        cache["value"] = (
            choices,
            Markup("").join(
                Markup('<option value="{}">{}</option>').format(c.doctor_id, c.full_name)
                for c in choices
            ),
            Markup("").join(
                Markup('<option value="{}">{} · {}</option>').format(
                    c.doctor_id, c.full_name, c.specialty
                )
                for c in choices
            ),
        )
        cache["signature"] = signature
    if has_request_context():
        g.doctor_pickers = cache["value"]
    return cache["value"]


def doctors() -> list[DoctorChoice]:
    return _built()[0]


def specialties() -> list[str]:
    """The doctors' specialties, alphabetical, for the specialty filters."""
    return sorted({c.specialty for c in doctors() if c.specialty})


def _mark(options: Markup, selected: str | None) -> Markup:
    if selected:
        # Markup's format escapes `selected`; its replace keeps the markup as built.
        marker = Markup('value="{}"').format(selected)
        options = options.replace(marker, marker + Markup(" selected"), 1)
    return options


def doctor_options(selected: str | None = None) -> Markup:
    """`<option>`s by name, for filters."""
    return _mark(_built()[1], selected)


def doctor_options_with_specialty(selected: str | None = None) -> Markup:
    """`<option>`s by name and specialty, for booking."""
    return _mark(_built()[2], selected)
