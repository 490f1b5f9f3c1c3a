"""A newcomer's path through the UI in Debian's firefox-esr, driven over Marionette: the
experiments list, sorting and filtering the runs table, a run's files and chart, and comparing
runs. The same steps run in Chromium in test_ui_browser.py; here they prove the pages work
in Firefox's engine too, not only that their scripts start."""

from __future__ import annotations

import pytest

from tests.ui.conftest import SCREENSHOTS, write_artifacts
from tests.ui.firefox import Firefox, firefox_session

pytestmark = pytest.mark.timeout(300)

TABLE_READY = "document.querySelector('#runs-table[aria-busy=false]')"
RUN_NAMES = "#runs-table tbody td.name a"


@pytest.fixture(scope="module")
def firefox(tmp_path_factory):  # type: ignore[no-untyped-def]
    with firefox_session(str(tmp_path_factory.mktemp("firefox"))) as browser:
        yield browser


def shot(browser: Firefox, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.screenshot(str(SCREENSHOTS / f"firefox-{name}.png"))


def test_experiments_list_and_create_in_firefox(live_ui, firefox):
    firefox.goto(live_ui.url + "/")
    firefox.wait("document.querySelector('#experiments-table')")
    counts = firefox.js(
        "return [...document.querySelectorAll('#experiments-table tr')]"
        ".filter(r => r.textContent.includes('vision'))"
        ".map(r => r.querySelector('td.num').textContent);"
    )
    assert counts == ["3"]
    firefox.fill("#new-experiment-name", "firefox-made")
    firefox.click("#create-experiment button[type=submit]")
    firefox.wait(
        "document.querySelector('#experiments-table').textContent.includes('firefox-made')"
    )
    shot(firefox, "experiments")


def test_runs_table_sorts_and_filters_in_firefox(live_ui, firefox):
    firefox.goto(f"{live_ui.url}/experiments/{live_ui.seed.experiment_id}")
    firefox.wait(TABLE_READY)
    assert sorted(firefox.texts(RUN_NAMES)) == ["alpha", "beta", "gamma"]
    firefox.click("#runs-table thead th[data-column='metrics.accuracy'] button")
    firefox.wait(f"document.querySelector('{RUN_NAMES}')?.textContent === 'alpha'")
    firefox.wait(TABLE_READY)
    assert firefox.texts(RUN_NAMES) == ["alpha", "gamma", "beta"]
    sort = firefox.js(
        "return document.querySelector(\"#runs-table thead th[data-column='metrics.accuracy']\")"
        ".getAttribute('aria-sort');"
    )
    assert sort == "descending"
    firefox.fill("#filter", "params.model = 'mlp' OR (tags.team = 'a' AND metrics.accuracy > 0.9)")
    firefox.press_enter("#filter")
    firefox.wait(f"document.querySelectorAll('{RUN_NAMES}').length === 2")
    assert sorted(firefox.texts(RUN_NAMES)) == ["alpha", "beta"]
    assert "filter=" in firefox.url
    firefox.fill("#filter", "metrics.accuracy >>> 1")
    firefox.press_enter("#filter")
    firefox.wait("document.querySelector('#filter-error .caret-line')")
    shot(firefox, "runs-table")


def test_run_page_shows_files_and_chart_in_firefox(live_ui, firefox):
    run_id = live_ui.seed.runs["alpha"]
    run = live_ui.store.get_run(run_id)
    write_artifacts(live_ui.destination, run.info.artifact_uri, {"firefox.txt": b"read in gecko\n"})
    firefox.goto(f"{live_ui.url}/runs/{run_id}")
    firefox.wait("document.querySelector('#run-name')?.textContent === 'alpha'")
    firefox.wait("document.querySelectorAll('#chart-card svg.chart path.series').length === 1")
    firefox.click("#artifact-tree button[data-path='firefox.txt']")
    firefox.wait("document.querySelector('#artifact-preview pre.preview-text')")
    preview = firefox.js("return document.querySelector('#artifact-preview pre').textContent;")
    assert "read in gecko" in preview
    assert firefox.js("return document.querySelectorAll('#artifacts .message.error').length;") == 0
    shot(firefox, "run")


def test_compare_draws_both_runs_in_firefox(live_ui, firefox):
    seed = live_ui.seed
    firefox.goto(f"{live_ui.url}/experiments/{seed.experiment_id}")
    firefox.wait(TABLE_READY)
    for name in ("alpha", "gamma"):
        checkbox = firefox.js(
            "const row = [...document.querySelectorAll('#runs-table tbody tr')]"
            ".find(r => r.querySelector('td.name a')?.textContent === arguments[0]);"
            "return row.querySelector('input[type=checkbox]');",
            name,
        )
        checkbox.click()
    firefox.click("#compare-button")
    firefox.wait("location.pathname === '/compare'")
    firefox.wait("document.querySelectorAll('#chart-card svg.chart path.series').length === 2")
    differs = firefox.js(
        "return document.querySelector('tr.param[data-key=lr]').className.includes('differs');"
    )
    assert differs
    shot(firefox, "compare")
