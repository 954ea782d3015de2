"""How names are matched: the projections store these keys and the queries turn what staff
type into the same shape (phone numbers: app/phones.py)."""

from __future__ import annotations

import unicodedata


def search_key(text: str) -> str:
    """Lower case, accents dropped, spaces collapsed: 'Élodie  Durand' -> 'elodie durand'."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.casefold().split())
