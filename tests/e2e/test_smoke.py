"""The live stack answers in Chromium: the home page, with and without JavaScript."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from .accessibility import check_accessibility
from .conftest import E2E_PASSWORD, FRONT_DESK_SETTINGS
from .stack import LiveStack


def test_the_home_page_has_a_heading_and_passes_axe(axe_page: Page) -> None:
    response = axe_page.goto("/")
    assert response is not None and response.status == 200
    expect(axe_page.get_by_role("heading", level=1)).not_to_be_empty()
    check_accessibility(axe_page)


def test_the_home_page_loads_with_javascript_off(no_js_page: Page) -> None:
    response = no_js_page.goto("/")
    assert response is not None and response.status == 200
    expect(no_js_page.get_by_role("heading", level=1)).not_to_be_empty()


@pytest.fixture
def anonymous_page(browser: Browser, base_url: str) -> Iterator[Page]:
    """A browser that has not signed in (axe may run on it)."""
    context = browser.new_context(base_url=base_url, bypass_csp=True, **FRONT_DESK_SETTINGS)
    yield context.new_page()
    context.close()


def test_staff_sign_in_through_the_form_and_out_again(
    anonymous_page: Page, live_stack: LiveStack, shoot: Callable[[Page, str], None]
) -> None:
    live_stack.services.accounts.create(
        "e2e-reception", E2E_PASSWORD, "reception", by="tests", full_name="Rita Reception"
    )
    page = anonymous_page
    page.goto("/patients")
    expect(page).to_have_url(re.compile(r"/login\?next=/patients$"))
    check_accessibility(page)
    shoot(page, "sign-in")
    page.get_by_label("Username").fill("e2e-reception")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("Wrong username or password.")
    # The refused form still knows where to go back to.
    page.get_by_label("Password").fill(E2E_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/patients$"))
    expect(page.locator(".account")).to_contain_text("Rita Reception")
    # Reception has no Staff page in its menu.
    expect(
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Staff")
    ).to_have_count(0)
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login"))


def test_an_htmx_request_after_the_session_ended_loads_the_sign_in_page_whole(
    new_context: Callable[..., BrowserContext],
) -> None:
    context = new_context()
    page = context.new_page()
    page.goto("/patients")
    context.clear_cookies()  # the session ends (as after the inactivity limit)
    page.get_by_label("Search by name or phone").fill("dup")
    # The search's htmx request is answered with HX-Redirect: the whole page becomes the
    # sign-in page, coming back to the patients page after.
    expect(page).to_have_url(re.compile(r"/login\?next=/patients"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.locator("#patient-results")).to_have_count(0)
