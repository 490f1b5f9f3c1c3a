"""The chart view of an experiment in real headless Chromium: line panels with runs overlaid,
grouping with a mean and a min-max band, bar, scatter and parallel-coordinates panels, shared
settings, and panels kept in the URL (reload and the back button restore them)."""

from __future__ import annotations

import pytest

from tests.ui.conftest import hold_requests, release_late, screenshot

pytestmark = pytest.mark.timeout(180)


def panel(page, spec: str):  # type: ignore[no-untyped-def]
    return page.locator(f"#panels section.panel[data-spec='{spec}']")


def wait_series(page, spec: str, count: int) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_function(
        "([spec, n]) => document.querySelectorAll("
        "`#panels section[data-spec='${spec}'] svg.chart path.series:not(.raw)`).length === n",
        arg=[spec, count],
    )


def test_chart_view_panels_grouping_and_url_state(live_ui, page):
    eid = live_ui.seed.experiment_id
    page.goto(f"{live_ui.url}/experiments/{eid}")
    page.click("#charts-tab")
    page.wait_for_url(f"**/experiments/{eid}/charts**")
    # By default one line panel per metric, every run overlaid.
    wait_series(page, "line:loss", 3)
    assert panel(page, "line:accuracy").count() == 1
    assert "panel=line%3Aloss" in page.url
    points = panel(page, "line:loss").locator("svg.chart").get_attribute("data-points")
    assert points == "300"  # 3 runs x 100 steps, each well under the per-series budget

    page.select_option("#group-by", "params.model")
    wait_series(page, "line:loss", 2)  # cnn (alpha, gamma) and mlp (beta)
    bands = panel(page, "line:loss").locator("path.band")
    assert bands.count() == 2
    assert "cnn (2 runs)" in panel(page, "line:loss").locator(".legend").inner_text()
    assert "group=params.model" in page.url
    page.select_option("#group-by", "")

    page.fill("#smoothing", "0.8")
    page.dispatch_event("#smoothing", "input")
    assert panel(page, "line:loss").locator("path.series.raw").count() == 3
    assert panel(page, "line:accuracy").locator("path.series.raw").count() == 3

    page.select_option("#panel-kind", "bar")
    page.select_option("#panel-x", "accuracy")
    page.click("#add-panel button[type=submit]")
    assert panel(page, "bar:accuracy").locator("rect.bar").count() == 3

    page.select_option("#panel-kind", "scatter")
    page.select_option("#panel-x", "params.lr")
    page.select_option("#panel-y", "metrics.accuracy")
    page.click("#add-panel button[type=submit]")
    scatter = panel(page, "scatter:params.lr|metrics.accuracy").locator("svg.chart")
    assert scatter.get_attribute("data-points") == "3"

    page.select_option("#panel-kind", "parallel")
    page.click("#add-panel button[type=submit]")
    parallel = panel(page, "parallel")
    assert int(parallel.locator("svg.chart").get_attribute("data-axes")) >= 3
    assert parallel.locator("path.pc-line").count() == 3
    screenshot(page, "chart-view")

    page.reload()
    panel(page, "parallel").wait_for()  # the panels are built from the URL once the page loads
    assert panel(page, "parallel").count() == 1 and panel(page, "bar:accuracy").count() == 1
    assert page.locator("#smoothing").input_value() == "0.8"
    panel(page, "parallel").get_by_role("button", name="Remove panel Parallel coordinates").click()
    assert panel(page, "parallel").count() == 0
    page.go_back()
    panel(page, "parallel").wait_for()
    assert page.errors == []


def test_chart_view_filter_narrows_the_runs(live_ui, page):
    eid = live_ui.seed.experiment_id
    page.goto(f"{live_ui.url}/experiments/{eid}/charts?panel=line:loss")
    wait_series(page, "line:loss", 3)
    page.fill("#filter", "params.model = 'cnn'")
    page.press("#filter", "Enter")
    wait_series(page, "line:loss", 2)
    assert "2 runs charted" in page.locator("#runs-info").inner_text()
    page.click("#table-tab")
    page.wait_for_url(f"**/experiments/{eid}?filter=**")
    page.wait_for_selector("#runs-table[aria-busy=false]")
    assert page.locator("#runs-table tbody td.name a").count() == 2
    assert page.errors == []


def test_chart_view_shows_the_last_filter_when_an_earlier_answer_arrives_late(live_ui, page):
    eid = live_ui.seed.experiment_id
    page.goto(f"{live_ui.url}/experiments/{eid}/charts?panel=line:loss")
    wait_series(page, "line:loss", 3)
    held = hold_requests(page, "**/runyard/runs?**", "cnn")
    page.fill("#filter", "params.model = 'cnn'")
    page.press("#filter", "Enter")
    page.wait_for_function("() => location.search.includes('cnn')")
    assert len(held) == 1
    page.fill("#filter", "params.model = 'mlp'")
    page.press("#filter", "Enter")
    wait_series(page, "line:loss", 1)
    release_late(page, held)
    assert "1 run charted" in page.locator("#runs-info").inner_text()
    assert panel(page, "line:loss").locator("path.series:not(.raw)").count() == 1
    assert page.errors == []
