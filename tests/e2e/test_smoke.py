"""The live stack answers in Chromium: the home page, with and without JavaScript."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from .accessibility import check_accessibility


def test_the_home_page_has_a_heading_and_passes_axe(axe_page: Page) -> None:
    response = axe_page.goto("/")
    assert response is not None and response.status == 200
    expect(axe_page.get_by_role("heading", level=1)).not_to_be_empty()
    check_accessibility(axe_page)


def test_the_home_page_loads_with_javascript_off(no_js_page: Page) -> None:
    response = no_js_page.goto("/")
    assert response is not None and response.status == 200
    expect(no_js_page.get_by_role("heading", level=1)).not_to_be_empty()
