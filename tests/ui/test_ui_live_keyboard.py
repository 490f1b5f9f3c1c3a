"""Shareable state, live updates and the keyboard, in real headless Chromium: the runs table's
URL holds filter, sort, columns and selection, and the back button restores the view; new runs
appear without a reload; rows and charts work from the keyboard."""

from __future__ import annotations

import time

import pytest
from runyard.entities import Metric

pytestmark = pytest.mark.timeout(180)


def names(page) -> list[str]:  # type: ignore[no-untyped-def]
    page.wait_for_selector("#runs-table[aria-busy=false]")
    return page.locator("#runs-table tbody td.name a").all_inner_texts()


def test_runs_table_state_lives_in_the_url_and_history(live_ui, page):
    seed = live_ui.seed
    page.goto(f"{live_ui.url}/experiments/{seed.experiment_id}")
    assert sorted(names(page)) == ["alpha", "beta", "gamma"]
    page.fill("#filter", "params.model = 'cnn'")
    page.press("#filter", "Enter")
    page.wait_for_function("() => document.querySelectorAll('#runs-table td.name a').length === 2")
    page.locator("#runs-table thead th[data-column='metrics.accuracy'] button").click()
    page.wait_for_url("**order_by=**")
    assert names(page) == ["alpha", "gamma"]  # accuracy, highest first
    page.locator(f"#runs-table tr[data-run-id='{seed.runs['gamma']}'] input").check()
    assert f"select={seed.runs['gamma']}" in page.url
    shared = page.url

    other = page.context.new_page()  # the link reproduces the view
    other.goto(shared)
    assert names(other) == ["alpha", "gamma"]
    assert other.input_value("#filter") == "params.model = 'cnn'"
    assert other.locator(f"tr[data-run-id='{seed.runs['gamma']}'] input").is_checked()
    other.close()

    page.go_back()  # before the sort
    page.wait_for_function("() => !window.location.search.includes('order_by')")
    assert sorted(names(page)) == ["alpha", "gamma"]
    page.go_back()  # before the filter
    page.wait_for_function("() => document.querySelectorAll('#runs-table td.name a').length === 3")
    assert page.input_value("#filter") == ""
    assert page.errors == []


def test_new_runs_and_values_appear_without_a_reload(live_ui, page):
    store = live_ui.store
    eid = store.create_experiment(f"live-{time.monotonic_ns()}")
    first = store.create_run(eid, "alice", int(time.time() * 1000), run_name="first").info.run_id
    page.goto(f"{live_ui.url}/experiments/{eid}")
    assert names(page) == ["first"]
    page.evaluate("window.__marker = 1")  # survives only if the page is not reloaded
    store.create_run(eid, "alice", int(time.time() * 1000) + 10, run_name="second")
    store.log_batch(first, metrics=[Metric("loss", 0.25, int(time.time() * 1000), 3)])
    page.wait_for_function(
        "() => document.querySelectorAll('#runs-table td.name a').length === 2", timeout=15000
    )
    page.wait_for_selector("#runs-table thead th[data-column='metrics.loss']", timeout=15000)
    assert page.evaluate("window.__marker") == 1
    assert page.errors == []


def test_keyboard_moves_through_rows_and_chart_points(live_ui, page):
    seed = live_ui.seed
    page.goto(f"{live_ui.url}/experiments/{seed.experiment_id}")
    names(page)
    rows = page.locator("#runs-table tbody tr[data-run-id]")
    first = rows.first.locator("td.name a")
    first.focus()
    page.keyboard.press("ArrowDown")
    focused = page.evaluate("document.activeElement.closest('tr').dataset.runId")
    assert focused == rows.nth(1).get_attribute("data-run-id")
    page.keyboard.press("ArrowUp")
    assert page.evaluate("document.activeElement.textContent") == first.inner_text()

    page.goto(f"{live_ui.url}/runs/{seed.runs['alpha']}")
    page.click("#metrics-table button[data-chart=loss]")
    chart = page.locator("#chart-card svg.chart")
    page.wait_for_function(
        "() => document.querySelector('#chart-card svg.chart').dataset.points === '100'"
    )
    chart.focus()
    page.keyboard.press("Home")
    page.keyboard.press("ArrowRight")
    assert chart.get_attribute("data-cursor") == "1"
    assert "alpha" in page.locator("#chart-card .chart-status").inner_text()
    assert page.locator("#chart-card .tooltip").is_visible()
    page.keyboard.press("Escape")
    assert page.locator("#chart-card .tooltip").is_hidden()
    assert page.errors == []
