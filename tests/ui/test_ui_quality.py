"""Every page in real headless Chromium: no console errors, no accessibility violations found
by axe-core (WCAG 2 A/AA rules, contrast included) in the light and the dark theme, and the
dark theme follows the system setting."""

from __future__ import annotations

import pytest

from tests.ui.conftest import screenshot

pytestmark = pytest.mark.timeout(300)

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def pages(live_ui) -> dict[str, str]:  # type: ignore[no-untyped-def]
    seed = live_ui.seed
    eid = seed.experiment_id
    alpha, beta = seed.runs["alpha"], seed.runs["beta"]
    return {
        "experiments": "/",
        "experiment": f"/experiments/{eid}",
        "charts": f"/experiments/{eid}/charts?panel=line:loss&panel=bar:accuracy"
        "&panel=parallel&panel=scatter:params.lr|metrics.accuracy",
        "run": f"/runs/{alpha}",
        "compare": f"/compare?run_ids={alpha},{beta}",
        "not-found": "/no/such/page",
    }


def settle(page) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)


def axe_violations(page) -> list[str]:  # type: ignore[no-untyped-def]
    from axe_playwright_python.sync_playwright import Axe

    only = {"type": "tag", "values": WCAG_TAGS}
    results = Axe().run(page, options={"runOnly": only, "resultTypes": ["violations"]})
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes'][:3]]}"
        for v in results.response["violations"]
    ]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_page_passes_axe_without_console_errors(live_ui, browser, scheme):
    pytest.importorskip("axe_playwright_python")
    context = browser.new_context(viewport={"width": 1400, "height": 900}, color_scheme=scheme)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    try:
        found: dict[str, list[str]] = {}
        for name, path in pages(live_ui).items():
            page.goto(live_ui.url + path)
            settle(page)
            violations = axe_violations(page)
            if violations:
                found[name] = violations
            if scheme == "dark":
                screenshot(page, f"dark-{name}")
        report = "\n".join(f"{name}: {v}" for name, vs in found.items() for v in vs)
        assert found == {}, report
        # The 404 page logs its own status as a console error; nothing else may.
        assert [e for e in errors if "404" not in e] == []
    finally:
        context.close()


def test_dark_theme_follows_the_system_setting(live_ui, browser):
    colors = {}
    for scheme in ("light", "dark"):
        context = browser.new_context(color_scheme=scheme)
        page = context.new_page()
        page.goto(f"{live_ui.url}/experiments/{live_ui.seed.experiment_id}")
        colors[scheme] = page.evaluate("getComputedStyle(document.body).backgroundColor")
        context.close()
    assert colors["light"] != colors["dark"]
    assert colors["dark"] == "rgb(18, 21, 27)"
