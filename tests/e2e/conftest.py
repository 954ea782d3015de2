"""Fixtures for end-to-end tests: Debian's Chromium through pytest-playwright, pointed at a
live stack (gunicorn, a Celery worker, a database of its own) per test worker."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from .clinic import Clinic, open_clinic
from .clock import CLINIC_ZONE
from .stack import LiveStack, run_stack

CHROMIUM = Path("/usr/bin/chromium")
VIEWPORT = {"width": 1280, "height": 800}

Shoot = Callable[[Page, str], None]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--screenshots",
        metavar="DIR",
        default=None,
        help="save the screenshots e2e tests take with `shoot` under DIR (e.g. docs/screenshots)",
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    stack = getattr(item, "funcargs", {}).get("live_stack")
    if report.failed and stack is not None:
        report.sections.append(("live stack logs", stack.logs()))
    return report


# -- the browser --


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Debian's Chromium: Playwright's own browsers are never downloaded here."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"End-to-end tests need Chromium at {CHROMIUM}: apt-get install chromium",
            pytrace=False,
        )
    return {
        "headless": True,
        **browser_type_launch_args,  # --headed still works when debugging at a desk
        "executable_path": str(CHROMIUM),
        "args": [
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run",
        ],
    }  # fmt: skip


FRONT_DESK_SETTINGS = {
    # The front desk's setting, so dates and times read the same on every machine, in the
    # clinic's own time zone (tests/e2e/clock.py).
    "viewport": VIEWPORT,
    "locale": "en-GB",
    "timezone_id": CLINIC_ZONE,
}
E2E_PASSWORD = "e2e password, long enough"


@pytest.fixture(scope="session")
def signed_in(browser: Browser, live_stack: LiveStack, base_url: str) -> dict[str, Any]:
    """An admin's session, signed in once through the sign-in form, for every page to use."""
    live_stack.services.accounts.create(
        "e2e-admin", E2E_PASSWORD, "admin", by="tests", full_name="Alex Admin"
    )
    context = browser.new_context(base_url=base_url, **FRONT_DESK_SETTINGS)
    try:
        sign_in(context.new_page(), "e2e-admin", E2E_PASSWORD)
        return context.storage_state()
    finally:
        context.close()


def sign_in(page: Page, username: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)


@pytest.fixture(scope="session")
def browser_context_args(
    browser_context_args: dict[str, Any], signed_in: dict[str, Any]
) -> dict[str, Any]:
    return {**browser_context_args, **FRONT_DESK_SETTINGS, "storage_state": signed_in}


@pytest.fixture(scope="session")
def base_url(live_stack: LiveStack) -> str:
    """The live server, so tests write page.goto("/appointments")."""
    return live_stack.url


@pytest.fixture
def axe_page(new_context: Callable[..., BrowserContext]) -> Page:
    """A page that ignores the app's CSP, so check_accessibility() can inject axe-core."""
    return new_context(bypass_csp=True).new_page()


@pytest.fixture
def no_js_page(new_context: Callable[..., BrowserContext]) -> Page:
    """A page with JavaScript off: plain links and form posts must still do the job."""
    return new_context(java_script_enabled=False).new_page()


@pytest.fixture
def shoot(pytestconfig: pytest.Config) -> Shoot:
    """shoot(page, name) saves DIR/name.png under --screenshots DIR: what a 1280x800
    front-desk screen shows, without scrolling. Without the option it does nothing."""
    directory = pytestconfig.getoption("screenshots", default=None)
    if not directory:
        return lambda page, name: None

    def save(page: Page, name: str) -> None:
        page.set_viewport_size(VIEWPORT)
        page.screenshot(path=str(Path(directory, f"{name}.png")))

    return save


# -- the stack --


@pytest.fixture(scope="session")
def live_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStack]:
    """gunicorn, a Celery worker with beat, a database and a queue, for this test worker."""
    # Not the `worker_id` fixture: it is xdist's, and `make screenshots` runs without xdist.
    label = os.environ.get("PYTEST_XDIST_WORKER", "main")
    with run_stack(tmp_path_factory.mktemp("e2e-stack"), label) as stack:
        yield stack


@pytest.fixture
def clinic(live_stack: LiveStack) -> Clinic:
    """Two doctors open every day 08:00-18:00 and two patients, all named with a tag of this
    test's own, registered through the bus and already shown in the read models."""
    opened = open_clinic(live_stack.services.bus, live_stack.read_engine)
    opened.wait_for_read_models()
    return opened
