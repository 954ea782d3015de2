"""A browser-like test client: it carries the CSRF token the pages hand out, as forms do."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
HTMX = {"HX-Request": "true"}


class Staff:
    """One member of staff at a browser: a session, its CSRF token, plain or htmx requests."""

    def __init__(self, app: Flask) -> None:
        self.client: FlaskClient = app.test_client()
        self.token = ""

    def get(self, url: str, **kwargs: Any) -> TestResponse:
        response = self.client.get(url, **kwargs)
        if found := TOKEN.search(response.get_data(as_text=True)):
            self.token = found.group(1)
        return response

    def post(self, url: str, data: dict[str, Any], *, method: str = "POST", htmx: str | None = None,
             **kwargs: Any) -> TestResponse:  # fmt: skip
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
