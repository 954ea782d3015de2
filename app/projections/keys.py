"""How names are matched: the projections store these keys and the queries turn what staff
type into the same shape (phone numbers: app/phones.py)."""

from __future__ import annotations

import unicodedata


def search_key(text: str) -> str:
    """Lower case, accents dropped, spaces collapsed: 'Élodie  Durand' -> 'elodie durand'."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.casefold().split())


def name_tokens(text: str) -> str:
    """A name as the same person's name is whichever way it was typed: the search key's
    words, with hyphens, apostrophes and dots as spaces, in alphabetical order, so
    "DUPONT Jeanne", "Jeanne Dupont" and "Jeanne  Dupont" are one name
    ("Marie-Anne" and "Marie Anne" too)."""
    words = "".join(ch if ch.isalnum() else " " for ch in search_key(text)).split()
    return " ".join(sorted(words))
