"""Signing in: the form, the session cookie, inactivity, rate limits (counted in real Redis),
what is logged, and the headers every response carries."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import redis
from itsdangerous import TimestampSigner

from app.config import ConfigurationError

from ..backends import dispose, make_app, redis_test_url
from ..clinic import monday_ahead, open_clinic
from .projecting import catch_up, wait_until
from .webclient import PASSWORD, Staff, account, page_text, sign_in


def test_the_right_password_signs_in_and_returns_to_the_page_asked_for(app):
    user = account(app, "reception")
    client = app.test_client()
    asked = client.get("/patients?q=dup")
    assert asked.headers["Location"] == "/login?next=/patients?q%3Ddup"
    page = client.get(asked.headers["Location"]).get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    response = client.post(
        "/login",
        data={"csrf_token": token, "username": "  TEST-Reception ", "password": PASSWORD,
              "next": "/patients?q=dup"},
    )  # fmt: skip
    assert response.status_code == 303 and response.headers["Location"] == "/patients?q=dup"
    home = page_text(client.get("/"))
    assert user.display_name in home and "Sign out" in home


@pytest.mark.parametrize(
    ("username", "password"),
    [("test-reception", "wrong password!"), ("nobody", PASSWORD), ("test-reception", "")],
)
def test_a_wrong_sign_in_is_refused_with_one_message_for_both_mistakes(app, username, password):
    account(app, "reception")
    client = app.test_client()
    response = sign_in(client, username, password)
    assert response.status_code in (401, 422)
    page = page_text(response)
    assert "Wrong username or password." in page or "Enter your username and password." in page
    assert client.get("/").status_code == 303  # still signed out


def test_a_disabled_account_cannot_sign_in_and_its_sessions_end(app):
    staff = Staff(app, "reception")
    assert staff.client.get("/").status_code == 200
    app.extensions["rendezvous"].accounts.set_active("test-reception", False, by="tests")
    assert staff.client.get("/").status_code == 303
    assert sign_in(app.test_client(), "test-reception").status_code == 401


def test_an_account_disabled_by_another_process_ends_its_sessions_within_the_stated_bound(
    app, pg_url
):
    """Each web process keeps the accounts its sessions name for ACCOUNT_CACHE_SECONDS
    (docs/configuration.md): a disabling done by another process ends the session here
    within that time, not at once, and not later."""
    bound = app.config["ACCOUNT_CACHE_SECONDS"]
    assert bound > 0
    staff = Staff(app, "reception")
    assert staff.client.get("/").status_code == 200  # the account is now kept here
    other = make_app(pg_url)  # another web process on the same database
    try:
        other.extensions["rendezvous"].accounts.set_active("test-reception", False, by="tests")
        disabled = time.monotonic()
        wait_until(
            lambda: staff.client.get("/").status_code == 303,
            timeout=bound + 10,
            what="the session to end",
        )
        assert time.monotonic() - disabled <= bound + 1.0
    finally:
        dispose(other)


def test_the_next_address_never_leads_off_site(app):
    account(app, "reception")
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    off_site = ("https://evil.example/", "//evil.example/", "javascript:alert(1)",
                "/\\evil.example/", "/\t/evil.example/", "/\r\nX: y")  # fmt: skip
    for target in off_site:
        response = client.post(
            "/login",
            data={"csrf_token": token, "username": "test-reception", "password": PASSWORD,
                  "next": target},
        )  # fmt: skip
        assert response.headers["Location"] == "/", target
        client.post("/logout", data={"csrf_token": _token(client)})
        token = _token(client, "/login")


def test_a_next_address_with_a_line_break_leads_home_not_to_a_server_error(app):
    staff = Staff(app, "reception")
    for query in ("next=/%0d%0aX:%20y", "next=/patients%0a", "next=/%09/evil.example"):
        response = staff.client.get(f"/login?{query}")
        assert response.status_code == 303, query
        assert response.headers["Location"] == "/", query
    assert 'name="next"' not in page_text(app.test_client().get("/login?next=/%0d%0aX:%20y"))


def _token(client, path: str = "/") -> str:  # type: ignore[no-untyped-def]
    page = client.get(path).get_data(as_text=True)
    return page.split('name="csrf-token" content="')[1].split('"')[0]


def test_the_session_cookie_is_httponly_lax_and_secure_over_https(app):
    account(app, "reception")
    plain = sign_in(app.test_client(), "test-reception")
    cookie = plain.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    secure = sign_in(app.test_client(), "test-reception", base_url="https://clinic.example")
    assert "Secure" in secure.headers["Set-Cookie"]
    assert "Strict-Transport-Security" in secure.headers


def test_behind_a_trusted_proxy_https_is_recognised(pg_url, pg_engine):  # type: ignore[no-untyped-def]
    proxied = make_app(pg_url, TRUSTED_PROXIES=1)
    try:
        account(proxied, "reception")
        client = proxied.test_client()
        client.environ_base["HTTP_X_FORWARDED_PROTO"] = "https"
        response = sign_in(client, "test-reception")
        assert "Secure" in response.headers["Set-Cookie"]
        assert "Strict-Transport-Security" in response.headers
    finally:
        dispose(proxied)


def test_a_session_ends_after_the_inactivity_limit_and_activity_renews_it(app, monkeypatch):
    staff = Staff(app, "reception")
    idle = app.permanent_session_lifetime
    start = int(time.time())
    later = {"now": start}
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: later["now"])
    # Active just within the limit, twice: each request renews the session.
    for _ in range(2):
        later["now"] += int(idle.total_seconds()) - 60
        assert staff.client.get("/").status_code == 200
    later["now"] += int(idle.total_seconds()) + 1
    response = staff.client.get("/")
    assert response.status_code == 303 and response.headers["Location"].startswith("/login")


def _move_sign_in_back(client, by: timedelta) -> None:  # type: ignore[no-untyped-def]
    """As if the session had been signed in `by` earlier (the cookie is the server's to sign)."""
    with client.session_transaction() as stored:
        stored["signed_in_at"] -= int(by.total_seconds())


def test_a_session_in_use_ends_a_working_day_after_signing_in(app):
    staff = Staff(app, "reception")
    most = app.config["SESSION_MAX_AGE"]
    assert most == timedelta(hours=12)  # the default
    _move_sign_in_back(staff.client, most - timedelta(minutes=1))
    assert staff.client.get("/").status_code == 200  # activity all day long...
    _move_sign_in_back(staff.client, timedelta(minutes=2))
    plain = staff.client.get("/patients")  # ...but not past the limit
    assert plain.status_code == 303 and plain.headers["Location"] == "/login?next=/patients"
    htmx = staff.post("/patients", {"full_name": "X"}, htmx="page")
    assert htmx.status_code == 401 and htmx.headers["HX-Redirect"].startswith("/login")
    # Signing in again gives a new day.
    assert sign_in(staff.client, "test-reception").status_code == 303
    assert staff.client.get("/patients").status_code == 200


def test_a_session_without_a_sign_in_time_has_ended(app):
    staff = Staff(app, "reception")
    with staff.client.session_transaction() as stored:
        del stored["signed_in_at"]  # a session made before the limit existed
    assert staff.client.get("/").status_code == 303


def test_the_longest_session_is_configurable(pg_url, pg_engine, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SESSION_MAX_HOURS", "8")
    configured = make_app(pg_url)
    try:
        assert configured.config["SESSION_MAX_AGE"] == timedelta(hours=8)
        assert "and 8 hours after signing in" in page_text(configured.test_client().get("/login"))
        staff = Staff(configured, "reception")
        _move_sign_in_back(staff.client, timedelta(hours=8, seconds=1))
        assert staff.client.get("/").status_code == 303
    finally:
        dispose(configured)
    monkeypatch.setenv("SESSION_MAX_HOURS", "0")
    with pytest.raises(ConfigurationError, match="SESSION_MAX_HOURS"):
        make_app(pg_url)


def test_sign_ins_and_failures_are_logged_without_the_password(app, caplog):
    account(app, "reception")
    with caplog.at_level(logging.INFO, logger="rendezvous.auth"):
        sign_in(app.test_client(), "test-reception", "not the password")
        sign_in(app.test_client(), "test-reception")
    text = caplog.text
    assert "failed sign-in for 'test-reception'" in text
    assert "signed in: test-reception (reception)" in text
    assert "not the password" not in text and PASSWORD not in text


def test_permission_refusals_are_logged(app, caplog):
    staff = Staff(app, "reception")
    with caplog.at_level(logging.WARNING, logger="rendezvous.access"):
        assert staff.client.get("/admin/users").status_code == 403
    assert "permission refused: GET '/admin/users'" in caplog.text
    assert "test-reception" in caplog.text


# -- rate limits, counted in real Redis so that every web process shares them --


@pytest.fixture
def limited(pg_url, pg_engine):  # type: ignore[no-untyped-def]
    """Two app instances (as two web processes) sharing one Redis count."""
    prefix = f"rendezvous-test-{uuid.uuid4().hex[:8]}"
    settings = {
        "RATELIMIT_STORAGE_URI": redis_test_url(),
        "RATELIMIT_KEY_PREFIX": prefix,
        "LOGIN_LIMIT_PER_ACCOUNT": "3 per minute",
        "LOGIN_LIMIT_PER_ADDRESS": "6 per minute",
    }
    apps = [make_app(pg_url, **settings), make_app(pg_url, **settings)]
    yield apps
    store = redis.Redis.from_url(redis_test_url())
    keys = list(store.scan_iter(f"*{prefix}*"))
    if keys:
        store.delete(*keys)
    for each in apps:
        dispose(each)


def test_sign_ins_are_limited_per_account_across_processes(limited):
    first, second = limited
    account(first, "reception")
    account(first, "admin")
    for _ in range(3):
        assert sign_in(first.test_client(), "test-reception", "wrong password!").status_code == 401
    # The other process knows: even the right password is refused for a while.
    refused = sign_in(second.test_client(), "test-reception")
    assert refused.status_code == 429
    assert "Too many sign-in attempts" in page_text(refused)
    assert "Retry-After" in refused.headers
    # Another account from the same address still signs in.
    assert sign_in(second.test_client(), "test-admin").status_code == 303


def test_sign_ins_are_limited_per_address(limited):
    app = limited[0]
    account(app, "reception")
    for n in range(6):
        response = sign_in(app.test_client(), f"guess-{n}", "wrong password!")
        assert response.status_code == 401
    assert sign_in(app.test_client(), "test-reception").status_code == 429
    # Another address is not held back.
    elsewhere = {"REMOTE_ADDR": "10.1.2.3"}
    assert sign_in(app.test_client(), "test-reception", environ_base=elsewhere).status_code == 303


@pytest.fixture(params=["memory", "redis"])
def storage(request):  # type: ignore[no-untyped-def]
    """Where the sign-in limits count: in process memory, or in real Redis (emptied after)."""
    if request.param == "memory":
        yield {"RATELIMIT_STORAGE_URI": "memory://"}
        return
    prefix = f"rendezvous-test-{uuid.uuid4().hex[:8]}"
    yield {"RATELIMIT_STORAGE_URI": redis_test_url(), "RATELIMIT_KEY_PREFIX": prefix}
    store = redis.Redis.from_url(redis_test_url())
    keys = list(store.scan_iter(f"*{prefix}*"))
    if keys:
        store.delete(*keys)


def test_right_passwords_give_their_attempt_back_and_failures_still_count(
    pg_url, pg_engine, storage
):  # type: ignore[no-untyped-def]
    app = make_app(pg_url, LOGIN_LIMIT_PER_ACCOUNT="5 per minute", **storage)
    try:
        account(app, "reception")
        # A shared desk account, signed in on eight tablets within the minute.
        for tablet in range(8):
            assert sign_in(app.test_client(), "test-reception").status_code == 303, tablet
        for _ in range(5):
            wrong = sign_in(app.test_client(), "test-reception", "wrong password!")
            assert wrong.status_code == 401
        assert sign_in(app.test_client(), "test-reception").status_code == 429
    finally:
        dispose(app)


def test_right_passwords_still_count_against_the_address(pg_url, pg_engine, storage):  # type: ignore[no-untyped-def]
    """Given back to the account only: one known password must not reopen the address's
    limit for guessing other accounts."""
    app = make_app(pg_url, LOGIN_LIMIT_PER_ADDRESS="6 per minute", **storage)
    try:
        account(app, "reception")
        for _ in range(6):
            assert sign_in(app.test_client(), "test-reception").status_code == 303
        assert sign_in(app.test_client(), "test-reception").status_code == 429
    finally:
        dispose(app)


def test_guesses_sent_at_once_cannot_slip_past_the_limit(pg_url, pg_engine):  # type: ignore[no-untyped-def]
    """Each attempt is counted before its password is checked: while argon2 (the real
    settings, tens of milliseconds) checks one guess, the others are already counted."""
    prefix = f"rendezvous-test-{uuid.uuid4().hex[:8]}"
    app = make_app(
        pg_url,
        RATELIMIT_STORAGE_URI=redis_test_url(),
        RATELIMIT_KEY_PREFIX=prefix,
        LOGIN_LIMIT_PER_ACCOUNT="3 per minute",
        PASSWORD_HASHER=None,
    )
    try:
        account(app, "reception")
        forms = []
        for _ in range(12):  # each guesser has the sign-in page open, with its token
            client = app.test_client()
            page = client.get("/login").get_data(as_text=True)
            token = page.split('name="csrf_token" value="')[1].split('"')[0]
            forms.append((client, token))
        start = threading.Barrier(len(forms))

        def guess(client, token):  # type: ignore[no-untyped-def]
            start.wait()
            form = {"csrf_token": token, "username": "test-reception", "password": "guess!guess!"}
            return client.post("/login", data=form).status_code

        with ThreadPoolExecutor(len(forms)) as pool:
            answers = list(pool.map(lambda f: guess(*f), forms))
        assert sorted(answers) == [401] * 3 + [429] * 9, answers
    finally:
        store = redis.Redis.from_url(redis_test_url())
        keys = list(store.scan_iter(f"*{prefix}*"))
        if keys:
            store.delete(*keys)
        dispose(app)


# -- headers on every response --

SECURITY_HEADERS = ("Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy")


def _closed(response):  # type: ignore[no-untyped-def]
    response.close()  # a static file is streamed from disk
    return response


def test_every_response_carries_the_security_headers(app):
    staff = Staff(app, "reception")
    anonymous = app.test_client()
    responses = {
        "sign-in page": anonymous.get("/login"),
        "redirect to sign in": anonymous.get("/"),
        "page": staff.client.get("/"),
        "forbidden": staff.client.get("/admin/users"),
        "not found": staff.client.get("/no/such/page"),
        "static file": _closed(anonymous.get("/static/css/app.css")),
        "csrf failure": staff.client.post("/patients", data={}),
    }
    for what, response in responses.items():
        policy = response.headers.get("Content-Security-Policy", "")
        assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy, what
        assert "unsafe-inline" not in policy, what
        assert response.headers["X-Content-Type-Options"] == "nosniff", what
        assert response.headers["Referrer-Policy"] in ("same-origin", "no-referrer"), what
    assert responses["page"].headers["Cache-Control"] == "no-store"
    assert responses["static file"].headers.get("Cache-Control") != "no-store"


def test_idle_limit_is_configurable(pg_url, pg_engine, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SESSION_IDLE_MINUTES", "5")
    configured = make_app(pg_url)
    try:
        assert configured.permanent_session_lifetime == timedelta(minutes=5)
        assert "after 5 minutes" in page_text(configured.test_client().get("/login"))
    finally:
        dispose(configured)


def test_sign_in_still_works_when_the_limits_redis_is_down(pg_url, pg_engine):  # type: ignore[no-untyped-def]
    # Nothing listens on port 1: the limiter cannot count there and falls back to memory.
    app = make_app(pg_url, RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0")
    try:
        account(app, "reception")
        assert sign_in(app.test_client(), "test-reception", "wrong password!").status_code == 401
        assert sign_in(app.test_client(), "test-reception").status_code == 303
    finally:
        dispose(app)


# -- when the session has ended --


def _end_session(client) -> None:  # type: ignore[no-untyped-def]
    """What the inactivity limit does: the browser's session cookie is no longer valid."""
    client.delete_cookie("session")


def test_an_htmx_action_after_the_session_ended_is_sent_to_sign_in_not_refused(app):
    staff = Staff(app, "reception")
    staff.get("/")
    _end_session(staff.client)
    response = staff.post("/patients", {"full_name": "X"}, htmx="page")
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login")
    plain = staff.post("/patients", {"full_name": "X"})
    assert plain.status_code == 303 and plain.headers["Location"].startswith("/login")


def test_a_sign_in_page_left_open_too_long_gets_a_fresh_form(app):
    account(app, "reception")
    client = app.test_client()
    client.get("/login")
    _end_session(client)  # the anonymous session that held the form's token
    form = {"csrf_token": "stale", "username": "test-reception", "password": PASSWORD}
    response = client.post("/login", data=form)
    assert response.status_code == 400
    page = page_text(response)
    assert "Please sign in again" in page and 'value="test-reception"' in page
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    retry = client.post("/login", data={**form, "csrf_token": token})
    assert retry.status_code == 303


def test_signing_out_makes_a_copy_of_the_session_cookie_worthless(app):
    staff = Staff(app, "reception")
    copied = staff.client.get_cookie("session").value
    assert staff.post("/logout", {}).status_code == 303
    thief = app.test_client()
    thief.set_cookie("session", copied)
    assert thief.get("/patients").status_code == 303


def test_signing_out_after_the_session_ended_just_shows_the_sign_in_page(app):
    staff = Staff(app, "reception")
    staff.get("/")
    _end_session(staff.client)
    response = staff.post("/logout", {})
    assert response.status_code == 303 and response.headers["Location"] == "/login"


def test_a_polling_page_does_not_keep_its_session_alive(app):
    staff = Staff(app, "reception")
    renewed = staff.client.get("/")
    assert "Set-Cookie" in renewed.headers  # activity renews the session
    poll = staff.client.get("/", headers={"HX-Request": "true", "X-Rendezvous-Poll": "1"})
    assert poll.status_code == 200 and "Set-Cookie" not in poll.headers


def test_a_malformed_current_url_header_still_leads_to_sign_in(app):
    response = app.test_client().get(
        "/appointments", headers={"HX-Request": "true", "HX-Current-URL": "http://[oops/x"}
    )
    assert response.status_code == 401 and response.headers["HX-Redirect"] == "/login"


def test_a_malformed_current_url_header_is_ignored_when_signed_in(app):
    services = app.extensions["rendezvous"]
    clinic = open_clinic(services.bus)
    clinic.book(f"{monday_ahead()} 09:00")
    catch_up(services.projector)
    staff = Staff(app, "reception")
    # Each row's forms come back to the page named by HX-Current-URL.
    response = staff.client.get(
        "/appointments?from=",
        headers={"HX-Request": "true", "HX-Target": "results", "HX-Current-URL": "http://[x"},
    )
    assert response.status_code == 200
    assert 'name="next" value="/appointments?from="' in page_text(response)
