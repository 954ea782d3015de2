"""Accessibility checks with axe-core, from the npm package the Makefile installs."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page

from ..integration.workers import ROOT

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")


def check_accessibility(page: Page) -> list[dict[str, Any]]:
    """Run axe on the page as it is now; fail on any serious or critical violation.

    Returns every violation, minor and moderate ones included, for tests that look closer.
    The page must come from a context with bypass_csp=True (the `axe_page` fixture): the
    app's Content-Security-Policy forbids the inline script axe is injected as.
    """
    if not AXE.exists():
        raise AssertionError(f"{AXE} is missing: run `make static` (npm ci) first")
    page.add_script_tag(path=str(AXE))
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        raise AssertionError(
            "axe-core did not load: the page's CSP blocked it; use the axe_page fixture "
            "(a context with bypass_csp=True)"
        )
    violations: list[dict[str, Any]] = page.evaluate(
        """async () => (await axe.run()).violations.map(v => ({
            id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
            targets: v.nodes.map(n => n.target.join(" "))
        }))"""
    )
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    if blocking:
        listed = "\n".join(
            f"  [{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})\n"
            + "\n".join(f"      at {target}" for target in v["targets"])
            for v in blocking
        )
        raise AssertionError(f"axe found {len(blocking)} problem(s) on {page.url}:\n{listed}")
    return violations
