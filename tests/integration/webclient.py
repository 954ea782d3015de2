"""A browser-like test client: a signed-in member of staff, carrying the CSRF token the
pages hand out, as forms do."""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from app.accounts import User

TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
HTMX = {"HX-Request": "true"}
PASSWORD = "correct horse battery staple"


def account(
    app: Flask, role: str = "admin", doctor_id: UUID | None = None, username: str | None = None
) -> User:
    """A staff account of that role (made once per name), with the test password."""
    accounts = app.extensions["rendezvous"].accounts
    username = username or (f"dr-{str(doctor_id)[:8]}" if doctor_id else f"test-{role}")
    found = accounts.find(username)
    if found is not None:
        return found
    return accounts.create(
        username, PASSWORD, role, doctor_id=doctor_id, by="tests", full_name=f"Test {role}"
    )


def sign_in(
    client: FlaskClient, username: str, password: str = PASSWORD, **kwargs: Any
) -> TestResponse:
    page = client.get("/login", **kwargs).get_data(as_text=True)
    token = TOKEN.search(page)
    assert token, "no CSRF token on the sign-in page"
    form = {"csrf_token": token.group(1), "username": username, "password": password}
    return client.post("/login", data=form, **kwargs)


def signed_in_client(
    app: Flask, role: str = "admin", doctor_id: UUID | None = None, locale: str | None = None
) -> FlaskClient:
    """A client signed in with `role`; with `locale`, on an account of its own that has
    chosen that language (an account's choice outlives the test: others keep theirs)."""
    client = app.test_client()
    username = f"test-{role}-{locale}" if locale and not doctor_id else None
    user = account(app, role, doctor_id, username=username)
    response = sign_in(client, user.username)
    assert response.status_code == 303, response.get_data(as_text=True)
    if locale:
        token = TOKEN.search(client.get("/").get_data(as_text=True))
        assert token, "no CSRF token on Today"
        chosen = client.post(
            "/account/locale", data={"csrf_token": token.group(1), "locale": locale}
        )
        assert chosen.status_code == 303, chosen.get_data(as_text=True)
    return client


class Staff:
    """One member of staff at a browser: signed in with `role` (and, for a doctor, as which
    doctor), a session, its CSRF token, plain or htmx requests."""

    def __init__(
        self,
        app: Flask,
        role: str = "admin",
        doctor_id: UUID | None = None,
        locale: str | None = None,
    ) -> None:
        self.client: FlaskClient = signed_in_client(app, role, doctor_id, locale)
        username = f"test-{role}-{locale}" if locale and not doctor_id else None
        self.user = account(app, role, doctor_id, username=username)
        self.token = ""

    def get(self, url: str, **kwargs: Any) -> TestResponse:
        response = self.client.get(url, **kwargs)
        if found := TOKEN.search(response.get_data(as_text=True)):
            self.token = found.group(1)
        return response

    def post(
        self,
        url: str,
        data: dict[str, Any],
        *,
        method: str = "POST",
        htmx: str | None = None,
        **kwargs: Any,
    ) -> TestResponse:
        if not self.token:
            self.get("/")
        headers = dict(kwargs.pop("headers", {}))
        if htmx is not None:
            # htmx sends the token in a header and names the element it will swap.
            headers.update({**HTMX, "HX-Target": htmx, "X-CSRFToken": self.token})
        else:
            data = {"csrf_token": self.token, **data}
        return self.client.open(url, method=method, data=data, headers=headers, **kwargs)

    def htmx_get(self, url: str, target: str) -> TestResponse:
        return self.client.get(url, headers={**HTMX, "HX-Target": target})


def page_text(response: TestResponse) -> str:
    return response.get_data(as_text=True)
