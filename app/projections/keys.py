"""How names and phone numbers are matched: the projections store these keys and the
queries turn what staff type into the same shape."""

from __future__ import annotations

import unicodedata


def search_key(text: str) -> str:
    """Lower case, accents dropped, spaces collapsed: 'Élodie  Durand' -> 'elodie durand'."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.casefold().split())


def digits(text: str) -> str:
    """Only the digits of a phone number, so '06 12-34' finds '+33 6 12 34 56 78'."""
    return "".join(ch for ch in text if ch.isdigit())
