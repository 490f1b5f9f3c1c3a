"""The UI in real headless Chromium against a live server: what a user sees and does."""

from __future__ import annotations

import time

import pytest
from runyard.entities import Metric, Param, RunStatus, RunTag

from tests.ui.conftest import HOSTILE, hold_requests, release_late, screenshot, write_artifacts

pytestmark = pytest.mark.timeout(180)


def runs_in_table(page) -> list[str]:  # type: ignore[no-untyped-def]
    return page.locator("#runs-table tbody td.name a").all_inner_texts()


def wait_table(page) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_selector("#runs-table[aria-busy=false]")


def test_experiments_page_lists_and_creates(live_ui, page):
    page.goto(live_ui.url + "/")
    row = page.locator("#experiments-table tr", has_text="vision")
    assert row.locator("td.num").inner_text() == "3"
    page.fill("#new-experiment-name", "browser-made")
    page.click("#create-experiment button[type=submit]")
    page.wait_for_selector("#experiments-table >> text=browser-made")
    screenshot(page, "experiments")
    assert page.errors == []


def test_runs_table_sorts_filters_and_explains_bad_filters(live_ui, page):
    page.goto(f"{live_ui.url}/experiments/{live_ui.seed.experiment_id}")
    wait_table(page)
    assert sorted(runs_in_table(page)) == ["alpha", "beta", "gamma"]
    header = page.locator("#runs-table thead th[data-column='metrics.accuracy'] button")
    header.click()  # metrics sort descending first
    page.wait_for_function(
        "() => document.querySelector('#runs-table tbody td.name a')?.textContent === 'alpha'"
    )
    wait_table(page)
    assert runs_in_table(page) == ["alpha", "gamma", "beta"]
    header = page.locator("#runs-table thead th[data-column='metrics.accuracy']")
    assert header.get_attribute("aria-sort") == "descending"
    screenshot(page, "runs-table")

    page.fill("#filter", "params.model = 'mlp' OR (tags.team = 'a' AND metrics.accuracy > 0.9)")
    page.press("#filter", "Enter")
    page.wait_for_function(
        "() => document.querySelectorAll('#runs-table tbody td.name a').length === 2"
    )
    assert sorted(runs_in_table(page)) == ["alpha", "beta"]
    assert "filter=" in page.url

    page.fill("#filter", "metrics.accuracy >>> 1")
    page.press("#filter", "Enter")
    error = page.locator("#filter-error")
    error.wait_for(state="visible")
    assert "column 18" in error.inner_text()
    caret = page.locator("#filter-error .caret-line").inner_text().splitlines()
    assert caret == ["metrics.accuracy >>> 1", " " * 17 + "^"]
    screenshot(page, "runs-bad-filter")
    assert page.errors == [] or all("400" in e for e in page.errors)


def test_runs_table_scrolls_through_many_runs(live_ui, page):
    """Scrolling fetches the next runs; only the rows in view are in the DOM."""
    store = live_ui.store
    eid = store.create_experiment("many")
    for i in range(400):
        run = store.create_run(eid, "bot", 10_000 + i, run_name=f"r{i:03d}")
        store.log_batch(run.info.run_id, metrics=[Metric("m", float(i), 1, 0)])
    page.goto(f"{live_ui.url}/experiments/{eid}?max_results=50")
    wait_table(page)
    assert runs_in_table(page)[0] == "r399"
    rendered = page.locator("#runs-table tbody tr[data-run-id]").count()
    assert 0 < rendered < 120
    wrap = page.locator("#runs-wrap")
    last_row_shown = (
        "() => [...document.querySelectorAll('#runs-table td.name a')].some("
        "(a) => a.textContent === 'r000')"
    )
    for _ in range(300):  # keep scrolling to the end until the last run is in view (30 s)
        wrap.evaluate("e => { e.scrollTop = e.scrollHeight; }")
        page.wait_for_timeout(100)
        if page.evaluate(last_row_shown):
            break
    page.wait_for_function(last_row_shown)
    assert page.locator("#page-info").inner_text().startswith("400 runs")
    assert page.locator("#runs-table tbody tr[data-run-id]").count() < 120
    wrap.evaluate("e => { e.scrollTop = 0; }")
    page.wait_for_function(
        "() => document.querySelector('#runs-table tbody td.name a')?.textContent === 'r399'"
    )
    page.locator("#runs-table thead th[data-column='metrics.m'] button").click()
    page.wait_for_function(
        "() => document.querySelector('#runs-table tbody td.name a')?.textContent === 'r399'"
        " && document.querySelector('#page-info').textContent.includes('scroll for more')"
    )
    assert page.errors == []


def test_run_page_previews_artifacts_and_draws_chart(live_ui, page):
    rid = live_ui.seed.runs["alpha"]
    page.goto(f"{live_ui.url}/runs/{rid}")
    assert page.locator("#run-name").inner_text() == "alpha"
    assert page.locator("#metrics-table tr[data-key=loss] svg.spark polyline").count() == 1
    chart = page.locator("#chart-card svg.chart")
    page.wait_for_function(
        "() => Number(document.querySelector('#chart-card svg.chart')?.dataset.points) > 0"
    )
    assert chart.get_attribute("data-metric") == "accuracy"
    page.click("#metrics-table button[data-chart=loss]")
    page.wait_for_function(
        "() => document.querySelector('#chart-card svg.chart').dataset.metric === 'loss' && "
        "document.querySelector('#chart-card svg.chart').dataset.points === '100'"
    )
    assert chart.locator("path.series").count() == 1

    tree = page.locator("#artifact-tree")
    tree.locator("button[data-path='notes.txt']").click()
    page.wait_for_selector("#artifact-preview pre.preview-text")
    assert "hello from the run" in page.locator("#artifact-preview pre").inner_text()

    tree.locator("button[data-path='config']").click()
    tree.locator("button[data-path='config/params.json']").click()
    page.wait_for_selector("#artifact-preview pre.preview-json")
    assert '"layers"' in page.locator("#artifact-preview pre").inner_text()

    tree.locator("button[data-path='data']").click()
    tree.locator("button[data-path='data/table.csv']").click()
    page.wait_for_selector("#artifact-preview table.csv-preview")
    cells = page.locator("#artifact-preview table.csv-preview tbody tr").last.locator("td")
    assert cells.all_inner_texts() == ["3", "0.25"]

    tree.locator("button[data-path='plots']").click()
    tree.locator("button[data-path='plots/red.png']").click()
    image = page.locator("#artifact-preview img")
    image.wait_for()
    page.wait_for_function(
        "() => document.querySelector('#artifact-preview img').naturalWidth === 8"
    )

    tree.locator("button[data-path='report.html']").click()
    page.wait_for_selector("#artifact-preview pre.preview-text")
    assert "<script>" in page.locator("#artifact-preview pre").inner_text()
    assert page.evaluate("window.__xss") is None
    screenshot(page, "run")
    assert page.errors == []


def test_chart_smoothing_log_scale_hover_and_zoom(live_ui, page):
    rid = live_ui.seed.runs["gamma"]
    page.goto(f"{live_ui.url}/runs/{rid}")
    page.click("#metrics-table button[data-chart=loss]")
    page.wait_for_function(
        "() => document.querySelector('#chart-card svg.chart').dataset.points === '100'"
    )
    svg = page.locator("#chart-card svg.chart")
    page.locator("#chart-card input[aria-label='Log scale']").check()
    page.locator("#chart-card input[aria-label='Smoothing']").fill("0.8")
    assert svg.locator("path.series.raw").count() == 1
    box = svg.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
    tooltip = page.locator("#chart-card .tooltip")
    tooltip.wait_for(state="visible")
    assert "gamma" in tooltip.inner_text()
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + 100)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + 100, steps=5)
    page.mouse.up()
    page.wait_for_function(
        "() => Number(document.querySelector('#chart-card svg.chart').dataset.points) < 100"
    )
    svg.dblclick()
    page.wait_for_function(
        "() => document.querySelector('#chart-card svg.chart').dataset.points === '100'"
    )
    screenshot(page, "chart")
    page.locator("#chart-card select[aria-label='X axis']").select_option("relative")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#chart-card svg.chart .axis text')]"
        ".some(t => t.textContent.endsWith('s'))"
    )
    assert svg.get_attribute("data-points") == "100"


def test_chart_draws_the_metric_clicked_last_when_an_earlier_answer_arrives_late(live_ui, page):
    held = hold_requests(page, "**/runyard/chart?**", "metric_key=accuracy")
    page.goto(f"{live_ui.url}/runs/{live_ui.seed.runs['gamma']}")
    page.wait_for_function("() => document.querySelector('#chart-card svg.chart') !== null")
    assert len(held) == 1  # the page asked for its first metric, accuracy
    page.click("#metrics-table button[data-chart=loss]")
    chart = page.locator("#chart-card svg.chart")
    page.wait_for_function(
        "() => document.querySelector('#chart-card svg.chart').dataset.points === '100'"
    )
    release_late(page, held)
    assert chart.get_attribute("data-metric") == "loss"
    assert chart.get_attribute("data-points") == "100"
    assert page.errors == []


def test_artifact_preview_shows_the_file_clicked_last_when_an_earlier_answer_arrives_late(
    live_ui, page
):
    held = hold_requests(page, "**/runyard/artifacts/preview?**", "notes.txt")
    page.goto(f"{live_ui.url}/runs/{live_ui.seed.runs['alpha']}")
    tree = page.locator("#artifact-tree")
    tree.locator("button[data-path='notes.txt']").click()
    page.wait_for_function("() => document.querySelector('#artifact-preview .path') !== null")
    assert len(held) == 1
    tree.locator("button[data-path='config']").click()
    tree.locator("button[data-path='config/params.json']").click()
    page.wait_for_selector("#artifact-preview pre.preview-json")
    release_late(page, held)
    assert page.locator("#artifact-preview .path").inner_text() == "config/params.json"
    assert page.locator("#artifact-preview pre.preview-json").count() == 1
    assert page.errors == []


def test_compare_highlights_differences(live_ui, page):
    seed = live_ui.seed
    page.goto(f"{live_ui.url}/experiments/{seed.experiment_id}")
    wait_table(page)
    for name in ("alpha", "gamma"):
        page.locator("#runs-table tbody tr", has_text=name).locator("input[type=checkbox]").check()
    page.click("#compare-button")
    page.wait_for_url("**/compare?**")
    assert "differs" in page.locator("tr.param[data-key=lr]").get_attribute("class")
    assert "differs" not in page.locator("tr.param[data-key=model]").get_attribute("class")
    page.wait_for_function(
        "() => document.querySelectorAll('#chart-card svg.chart path.series').length === 2"
    )
    screenshot(page, "compare")
    assert page.errors == []


def test_running_run_updates_live(live_ui, page):
    store = live_ui.store
    run = store.create_run(
        live_ui.seed.experiment_id, "alice", int(time.time() * 1000), run_name="live"
    )
    rid = run.info.run_id
    store.log_metric(rid, Metric("loss", 1.0, int(time.time() * 1000), 0))
    page.goto(f"{live_ui.url}/runs/{rid}")
    assert page.locator("#run-status").inner_text() == "RUNNING"
    page.wait_for_function(
        "() => document.querySelector('#chart-card svg.chart')?.dataset.points === '1'"
    )
    store.log_metric(rid, Metric("loss", 0.25, int(time.time() * 1000), 1))
    store.log_metric(rid, Metric("acc", 0.5, int(time.time() * 1000), 1))
    page.wait_for_function(
        "() => document.querySelector('#metrics-table tr[data-key=loss] [data-field=latest]')"
        ".textContent === '0.25'",
        timeout=15_000,
    )
    page.wait_for_function(
        "() => document.querySelector('#chart-card svg.chart').dataset.points === '2'",
        timeout=15_000,
    )
    assert page.locator("#metrics-table tr[data-key=acc]").count() == 1
    assert page.locator("#system-metrics").is_hidden()
    for step in range(3):
        cpu = Metric(
            "system/cpu_utilization_percentage", 20.0 + step, int(time.time() * 1000), step
        )
        store.log_metric(rid, cpu)
    page.wait_for_function(
        "() => document.querySelector('#system-metrics svg.chart')?.dataset.points === '3'",
        timeout=15_000,
    )
    assert page.locator("#metrics-table tr[data-key^='system/']").count() == 0

    store.update_run_info(rid, status=RunStatus.FINISHED, end_time=int(time.time() * 1000))
    page.wait_for_function(
        "() => document.querySelector('#run-status').textContent === 'FINISHED'", timeout=15_000
    )


def test_hostile_names_render_as_text(live_ui, page):
    store = live_ui.store
    eid = store.create_experiment(HOSTILE)
    run = store.create_run(eid, HOSTILE, int(time.time() * 1000), run_name=HOSTILE)
    rid = run.info.run_id
    store.log_batch(
        rid,
        metrics=[Metric("loss", 1.0, 1, 0), Metric("loss", 0.5, 2, 1)],
        params=[Param("p", HOSTILE)],
        tags=[RunTag("t", HOSTILE), RunTag("mlflow.source.name", HOSTILE)],
    )
    store.update_run_info(rid, status=RunStatus.FINISHED)
    write_artifacts(
        live_ui.destination, run.info.artifact_uri, {f"{HOSTILE.replace('/', '_')}.txt": b"x"}
    )
    other = live_ui.seed.runs["alpha"]
    pages = [
        "/",
        f"/experiments/{eid}",
        f"/runs/{rid}",
        f"/compare?run_ids={rid},{other}",
    ]
    for path in pages:
        page.goto(live_ui.url + path)
        page.wait_for_load_state("networkidle")
        assert page.evaluate("window.__xss") is None, path
        assert HOSTILE in page.locator("body").inner_text(), path
    page.goto(f"{live_ui.url}/experiments/{eid}")
    wait_table(page)
    page.click("#columns-button")
    page.locator("#columns-panel input[data-column='tags.t']").check()
    assert HOSTILE in page.locator("#runs-table tbody").inner_text()
    page.goto(f"{live_ui.url}/runs/{rid}")
    page.wait_for_selector("#artifact-tree button[data-path]")
    page.locator("#artifact-tree button[data-path]").first.click()
    page.wait_for_selector("#artifact-preview pre")
    page.wait_for_function(
        "() => document.querySelector('#chart-card svg.chart')?.dataset.points === '2'"
    )
    svg = page.locator("#chart-card svg.chart")
    box = svg.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    assert HOSTILE in page.locator("#chart-card .tooltip").inner_text()
    assert page.evaluate("window.__xss") is None


def test_pages_carry_a_csp_without_inline_scripts(live_ui, page):
    response = page.goto(live_ui.url + "/")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    inline = page.evaluate(
        "[...document.scripts].filter(s => !s.src).length + "
        "document.querySelectorAll('[onclick],[onload],[onerror]').length"
    )
    assert inline == 0


def test_error_page_in_the_browser(live_ui, page):
    response = page.goto(live_ui.url + "/runs/" + "f" * 32)
    assert response.status == 404
    assert "RESOURCE_DOES_NOT_EXIST" in page.locator(".error-page").inner_text()
    screenshot(page, "error")


def test_dark_mode_and_keyboard(live_ui, browser):
    context = browser.new_context(color_scheme="dark", viewport={"width": 1400, "height": 900})
    page = context.new_page()
    try:
        page.goto(f"{live_ui.url}/experiments/{live_ui.seed.experiment_id}")
        wait_table(page)
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(18, 21, 27)"
        page.keyboard.press("Tab")  # skip link
        page.keyboard.press("Tab")  # brand
        focused = page.evaluate("document.activeElement.textContent")
        assert "runyard" in focused
        sort_buttons = page.locator("#runs-table thead th button.sort")
        assert sort_buttons.count() >= 5
        sort_buttons.nth(0).focus()
        page.keyboard.press("Enter")
        page.wait_for_function("() => location.search.includes('order_by')")
        screenshot(page, "runs-table-dark")
    finally:
        context.close()


def test_columns_min_max_and_csv_export(live_ui, page):
    page.goto(f"{live_ui.url}/experiments/{live_ui.seed.experiment_id}")
    wait_table(page)
    assert page.locator("#runs-table thead th[data-column='tags.team']").count() == 0
    page.click("#columns-button")
    page.locator("#columns-panel input[data-column='tags.team']").check()
    page.locator("#columns-panel input[data-column='params.lr']").uncheck()
    assert page.locator("#runs-table thead th[data-column='tags.team']").count() == 1
    assert page.locator("#runs-table thead th[data-column='params.lr']").count() == 0
    assert "show=tags.team" in page.url and "hide=params.lr" in page.url
    page.check("#minmax")
    page.wait_for_selector("#runs-table td .minmax")
    row = page.locator("#runs-table tbody tr", has_text="alpha")
    loss = row.locator("td").nth(
        page.locator("#runs-table thead tr.column-heads th").all_inner_texts().index("loss")
    )
    assert "0.01 \u2013 1" in loss.inner_text()  # "min, en dash, max"
    href = page.get_attribute("#export-link", "href")
    response = page.request.get(live_ui.url + href)
    lines = response.text().strip().splitlines()
    assert lines[0].split(",")[:3] == ["run_id", "run_name", "status"]
    assert "tags.team" in lines[0] and "params.lr" not in lines[0]
    assert len(lines) - 1 == page.locator("#runs-table tbody tr[data-run-id]").count() >= 3


def test_experiment_rename_delete_restore(live_ui, page):
    eid = live_ui.store.create_experiment("to-rename")
    page.on("dialog", lambda d: d.accept("renamed-exp") if d.type == "prompt" else d.accept())
    page.goto(live_ui.url + "/")
    row = page.locator(f"#experiments-table tr[data-experiment-id='{eid}']")
    row.locator("button[data-action=rename]").click()
    page.wait_for_selector("#experiments-table >> text=renamed-exp")
    # The reloaded page shows its rows before its script listens for clicks on them.
    page.wait_for_load_state("domcontentloaded")
    row = page.locator(f"#experiments-table tr[data-experiment-id='{eid}']")
    row.locator("button[data-action=delete]").click()
    page.wait_for_function(
        f"() => !document.querySelector(\"#experiments-table tr[data-experiment-id='{eid}']\")"
    )
    page.goto(live_ui.url + "/?view=deleted")
    row = page.locator(f"#experiments-table tr[data-experiment-id='{eid}']")
    row.locator("button[data-action=restore]").click()
    page.wait_for_function(
        f"() => !document.querySelector(\"#experiments-table tr[data-experiment-id='{eid}']\")"
    )
    assert live_ui.store.get_experiment(eid).lifecycle_stage == "active"
    assert live_ui.store.get_experiment(eid).name == "renamed-exp"
