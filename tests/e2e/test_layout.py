"""The busy screens at the front desk's widths, from a 1920 px monitor down to a phone: every
action in the content can be seen and clicked (nothing covers it, nothing runs off the
page), narrow screens never scroll sideways, and the day's pages print without the menu
and the buttons."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from app.commands import ConfirmAppointment

from .clinic import Clinic, upcoming
from .stack import LiveStack

WIDTHS = (1920, 1440, 1366, 1024, 820, 390)
NARROW = 820  # from here down, the page itself must never scroll sideways
HEIGHTS = {1920: 1080, 1440: 900, 1366: 768, 1024: 768, 820: 1180, 390: 844}

# Every action in the content: buttons, link-styled buttons, the cancel form's summary and
# its reason box. For each, scrolled into view: is the topmost element at its centre the
# control (or inside it), and so is it at each corner (a button half under a panel is
# hidden too), and does its box stay within the page's width?
HIDDEN_ACTIONS = """
() => {
  const selector = "main button, main a.button, main summary, main input[name=reason]";
  const width = document.documentElement.clientWidth;
  const problems = [];
  for (const control of document.querySelectorAll(selector)) {
    if (!control.checkVisibility() || control.closest(".visually-hidden")) continue;
    control.scrollIntoView({block: "center", inline: "center"});
    const box = control.getBoundingClientRect();
    const name = (control.textContent.trim() || control.name) + " in "
      + (control.closest("[id]") || document.body).id;
    const points = [[box.width / 2, box.height / 2], [3, 3], [box.width - 3, 3],
                    [3, box.height - 3], [box.width - 3, box.height - 3]];
    for (const [dx, dy] of points) {
      const top = document.elementFromPoint(box.x + dx, box.y + dy);
      if (!top || !(top === control || control.contains(top))) {
        problems.push(`${name}: covered at (${dx}, ${dy}) by `
          + (top ? top.outerHTML.slice(0, 80) : "nothing"));
        break;
      }
    }
    if (box.left < 0 || box.right > width) {
      problems.push(`${name}: at ${box.left}-${box.right} px, outside 0-${width} px`);
    }
  }
  return problems;
}
"""


@pytest.fixture
def busy_day(clinic: Clinic, live_stack: LiveStack) -> str:
    """A day of this test's own, busy: twenty-four appointments for the two doctors, half of
    them still waiting for confirmation, so the day's agenda and the queue both fill up."""
    # Far ahead, where no other test books: the day shows this clinic's appointments alone.
    days = random.randint(200, 3000)
    for index in range(12):
        for doctor in (0, 1):
            clinic.book(
                upcoming(f"{8 + index // 2:02d}:{30 * (index % 2):02d}", days=days),
                minutes=15 if doctor == 0 else 30,
                doctor=doctor,
                patient=index % 2,
                title="Follow-up after the cardiology consultation" if index % 3 else "Check-up",
            )
    for appointment in clinic.appointments[::2]:
        clinic.bus.handle(ConfirmAppointment(appointment_id=appointment))
    clinic.wait_for_read_models()
    live_stack.wait_until_projected()
    return upcoming("08:00", days=days).date().isoformat()


def open_cancel_forms(page: Page, region: str) -> None:
    """Press the first Cancel… of the region's rows, until its reason box shows."""
    page.locator(f"{region} a.button", has_text="Cancel…").first.dispatch_event("click")
    expect(page.locator(f"{region} input[name=reason]").first).to_be_visible()


def test_every_action_is_visible_and_nothing_runs_off_the_page_at_every_width(
    page: Page, clinic: Clinic, busy_day: str, pytestconfig: pytest.Config
) -> None:
    shots = pytestconfig.getoption("screenshots")
    doctor, patient = clinic.doctors[0].id, clinic.patients[0].id
    screens = {
        "today": (f"/?day={busy_day}", ["#day-board", "#queue"]),
        "list": (f"/appointments?from={busy_day}&to={busy_day}", ["#results"]),
        "patient": (f"/patients/{patient}", ["#upcoming-title + table"]),
        "doctor-day": (f"/doctors/{doctor}?day={busy_day}", ["#agenda"]),
    }
    problems = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": HEIGHTS[width]})
        for name, (url, regions) in screens.items():
            page.goto(url)
            for region in regions:
                open_cancel_forms(page, region)
            if shots:
                page.screenshot(path=str(Path(shots, f"layout-{name}-{width}.png")))
            found = page.evaluate(HIDDEN_ACTIONS)
            problems += [f"{name} at {width} px: {problem}" for problem in found]
            if width <= NARROW:
                scroll, client = page.evaluate(
                    "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
                )
                if scroll > client:
                    problems.append(f"{name} at {width} px: {scroll} px wide in {client} px")
    assert not problems, "\n".join(problems)


def pdf_pages(pdf: bytes) -> int:
    """The number of pages in a PDF Chromium printed."""
    return len(re.findall(rb"/Type\s*/Page(?!s)", pdf))


def test_the_day_prints_without_menu_or_buttons_and_the_doctor_s_day_with_phone_and_birth(
    page: Page, clinic: Clinic, busy_day: str
) -> None:
    page.goto(f"/?day={busy_day}")
    page.emulate_media(media="print")
    expect(page.locator("header.site-header")).to_be_hidden()
    expect(page.locator("main button:visible, main a.button:visible")).to_have_count(0)
    pages = pdf_pages(page.pdf(format="A4"))
    # Twenty-four appointments fit one sheet (the issue saw four).
    assert pages == 1, f"Today prints on {pages} A4 pages"

    page.emulate_media(media="screen")
    page.goto(f"/doctors/{clinic.doctors[0].id}?day={busy_day}")
    page.emulate_media(media="print")
    expect(page.locator("header.site-header")).to_be_hidden()
    expect(page.locator("main button:visible, main a.button:visible")).to_have_count(0)
    first = page.locator("#agenda tbody tr").first
    expect(first).to_contain_text("06 12 34 56 78")
    expect(first).to_contain_text("17 May 1984")
    assert pdf_pages(page.pdf(format="A4")) == 1
