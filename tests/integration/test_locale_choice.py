"""Which language a page is in: the account's choice, else the clinic's (CLINIC_LOCALE); on
the sign-in page, before anyone is known, `?lang=` and then the browser's Accept-Language.
Only the pages that depend on the browser say `Vary: Accept-Language`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from ..backends import dispose, make_app, migrate_to_head
from .webclient import TOKEN, Staff, account, page_text, sign_in

SIGN_IN_EN, SIGN_IN_FR = (
    '<h1 id="sign-in-title">Sign in</h1>',
    '<h1 id="sign-in-title">Se connecter</h1>',
)


def _lang(page: str) -> str:
    found = re.search(r'<html lang="([a-z]+)">', page)
    assert found, "no <html lang> on the page"
    return found.group(1)


def _switch(staff: Staff, locale: str, page: str = "/") -> str:
    """Press the header's language switch on `page`; the page it leads back to."""
    staff.get(page)
    response = staff.post("/account/locale", {"locale": locale, "next": page})
    assert response.status_code == 303
    return response.headers["Location"]


@pytest.fixture
def french_clinic(tmp_path: Path) -> Iterator[Flask]:
    """A clinic whose language is French (CLINIC_LOCALE=fr), on the embedded database."""
    url = f"sqlite:///{tmp_path / 'rendezvous.db'}"
    migrate_to_head(url)
    app = make_app(url, CLINIC_LOCALE="fr")
    yield app
    dispose(app)


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        ("fr-FR,fr;q=0.9,en;q=0.8", "fr"),
        ("fr-CA", "fr"),
        ("de-DE,fr;q=0.5,en;q=0.4", "fr"),
        ("en-GB,en;q=0.9,fr;q=0.8", "en"),
        ("de-DE,es;q=0.9", "en"),  # nothing it speaks: the clinic's language
        ("*;q=,,;;fr=x-", "en"),  # garbage: the clinic's language, no error
    ],
)
def test_the_sign_in_page_speaks_the_browser_s_language_and_varies_by_it(app, header, lang):
    response = app.test_client().get("/login", headers={"Accept-Language": header})

    assert response.status_code == 200
    page = page_text(response)
    assert _lang(page) == lang
    assert (SIGN_IN_FR if lang == "fr" else SIGN_IN_EN) in page
    assert "Accept-Language" in response.vary


def test_the_sign_in_page_s_link_to_the_other_language_wins_over_the_browser(app):
    client = app.test_client()
    page = page_text(client.get("/login", headers={"Accept-Language": "en"}))
    link = re.search(r'<a href="([^"]+)" lang="fr" hreflang="fr">Français</a>', page)
    assert link, "no link to the sign-in page in French"

    french = page_text(
        client.get(link.group(1).replace("&amp;", "&"), headers={"Accept-Language": "en"})
    )

    assert _lang(french) == "fr" and SIGN_IN_FR in french
    assert 'hreflang="en">English</a>' in french
    # A wrong password, sent from the French page, is refused in French.
    token = TOKEN.search(french)
    assert token
    refused = client.post(
        "/login?lang=fr",
        data={"csrf_token": token.group(1), "username": "nobody", "password": "wrong"},
        headers={"Accept-Language": "en"},
    )
    assert _lang(page_text(refused)) == "fr"
    assert "Identifiant ou mot de passe incorrect" in page_text(refused)


def test_signed_in_pages_follow_the_account_not_the_browser_and_do_not_vary(app):
    staff = Staff(app, "reception")
    french_browser = {"Accept-Language": "fr-FR,fr;q=0.9"}

    today = staff.get("/", headers=french_browser)

    assert _lang(page_text(today)) == "en"  # the clinic's language: the account chose none
    assert "<h1>Today, " in page_text(today)
    assert "Accept-Language" not in today.vary


def test_a_person_switches_language_and_back_from_any_page(app):
    staff = Staff(app, "reception")
    back = _switch(staff, "fr", "/appointments?status=pending")

    assert back == "/appointments?status=pending"  # back where the switch was pressed
    listed = page_text(staff.get(back))
    assert _lang(listed) == "fr"
    assert re.search(r'<button [^>]*name="locale" value="en" lang="en">English</button>', listed)
    assert _lang(page_text(staff.get("/patients"))) == "fr"

    # The choice belongs to the account: a new session of the same person reads French too.
    again = app.test_client()
    assert sign_in(again, staff.user.username).status_code == 303
    assert _lang(page_text(again.get("/"))) == "fr"

    _switch(staff, "en", "/patients")
    assert _lang(page_text(staff.get("/patients"))) == "en"


@pytest.mark.parametrize("asked", ["de", "", "fr'><script>", "xx-YY"])
def test_a_language_the_app_does_not_speak_falls_back_to_the_clinic_s(app, asked):
    staff = Staff(app, "admin")
    _switch(staff, "fr")
    users = app.extensions["rendezvous"].accounts

    _switch(staff, asked)

    assert users.find(staff.user.username).locale is None
    assert _lang(page_text(staff.get("/"))) == "en"


def test_a_french_clinic_speaks_french_to_whoever_has_not_chosen(french_clinic):
    newcomer = Staff(french_clinic, "reception")
    page = page_text(newcomer.get("/"))
    assert _lang(page) == "fr" and "Aujourd’hui" in page

    # Nothing asked for on the sign-in page: the clinic's language, not English.
    assert _lang(page_text(french_clinic.test_client().get("/login"))) == "fr"
    english_browser = french_clinic.test_client().get(
        "/login", headers={"Accept-Language": "en-US"}
    )
    assert _lang(page_text(english_browser)) == "en"

    # One person who reads English keeps English in a French clinic.
    _switch(newcomer, "en")
    assert _lang(page_text(newcomer.get("/"))) == "en"
    colleague = account(french_clinic, "admin")
    assert colleague.locale is None
    assert _lang(page_text(Staff(french_clinic, "admin").get("/"))) == "fr"


def test_a_language_chosen_in_one_web_process_shows_at_once_in_another(app, pg_url):
    """Each web process keeps the accounts its sessions name for a moment
    (ACCOUNT_CACHE_SECONDS); the owner's own change of language still shows on the very
    next page, whichever process serves it (the session says when it was made)."""
    staff = Staff(app, "reception")
    other = make_app(pg_url)  # a second gunicorn worker on the same database
    try:
        elsewhere = other.test_client()

        def from_other_process(path: str) -> str:
            cookie = staff.client.get_cookie("session")
            assert cookie is not None
            elsewhere.set_cookie("session", cookie.value)
            return elsewhere.get(path).get_data(as_text=True)

        assert _lang(from_other_process("/")) == "en"  # kept there, in English
        _switch(staff, "fr")
        assert _lang(from_other_process("/")) == "fr"
        _switch(staff, "en")
        assert _lang(from_other_process("/")) == "en"
    finally:
        dispose(other)
