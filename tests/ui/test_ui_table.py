"""The runs table and compare page in real headless Chromium: nested runs as a tree, column
groups, empty cells, the Columns panel, tooltips, and the compare page's breadcrumb."""

from __future__ import annotations

import time

import pytest
from runyard.entities import Metric, Param, RunTag

from tests.ui.conftest import screenshot

pytestmark = pytest.mark.timeout(180)

LONG_METRIC = "validation/a_very_long_metric_name_that_does_not_fit_in_a_column_top5"


@pytest.fixture(scope="module")
def nested(live_ui):  # type: ignore[no-untyped-def]
    """An experiment with two parents (two and zero children) and a run with a long metric."""
    store = live_ui.store
    eid = store.create_experiment("nested")
    now = int(time.time() * 1000)
    ids: dict[str, str] = {}
    for offset, name in enumerate(["lonely", "parent"]):
        run = store.create_run(eid, "alice", now + offset * 1000, run_name=name)
        ids[name] = run.info.run_id
    store.log_batch(
        ids["parent"],
        metrics=[Metric(LONG_METRIC, 0.5, now, 0)],
        params=[Param("lr", "0.1")],
        tags=[RunTag(f"tag{i:02d}", str(i)) for i in range(40)],
    )
    for offset, name in enumerate(["child-a", "child-b"]):
        run = store.create_run(eid, "alice", now + 5000 + offset, run_name=name)
        store.set_tag(run.info.run_id, RunTag("mlflow.parentRunId", ids["parent"]))
        ids[name] = run.info.run_id
    return eid, ids


def names(page) -> list[str]:  # type: ignore[no-untyped-def]
    page.wait_for_selector("#runs-table[aria-busy=false]")
    return page.locator("#runs-table tbody td.name a").all_inner_texts()


def test_nested_runs_fold_under_their_parent(live_ui, nested, page):
    eid, ids = nested
    page.goto(f"{live_ui.url}/experiments/{eid}")
    assert names(page) == ["parent", "lonely"]
    toggle = page.locator(f"#runs-table tr[data-run-id='{ids['parent']}'] .tree-toggle")
    assert toggle.inner_text().split() == ["▸", "2"]
    assert toggle.get_attribute("aria-expanded") == "false"
    assert "2 nested under collapsed parents" in page.locator("#page-info").inner_text()
    toggle.click()
    assert names(page) == ["parent", "child-b", "child-a", "lonely"]
    assert page.locator("#runs-table tr[data-depth='1']").count() == 2
    assert f"expand={ids['parent']}" in page.url
    screenshot(page, "runs-nested")
    page.keyboard.press("Enter")  # focus stays on the toggle: the keyboard folds it again
    assert names(page) == ["parent", "lonely"]
    assert page.errors == []


def test_run_page_links_parent_and_children(live_ui, nested, page):
    _, ids = nested
    page.goto(f"{live_ui.url}/runs/{ids['child-a']}")
    page.click("#parent-run a")
    page.wait_for_url(f"**/runs/{ids['parent']}")
    assert page.locator("#child-runs a").all_inner_texts() == ["child-a", "child-b"]
    assert page.errors == []


def test_groups_empty_cells_tooltips_and_columns_panel(live_ui, nested, page):
    eid, ids = nested
    page.goto(f"{live_ui.url}/experiments/{eid}")
    names(page)
    groups = page.locator("#runs-table thead tr.groups th").all_inner_texts()
    assert [g.strip().upper() for g in groups if g.strip()] == ["PARAMETERS (1)", "METRICS (1)"]
    lonely = page.locator(f"#runs-table tr[data-run-id='{ids['lonely']}']")
    empties = lonely.locator("td.empty-cell").all_inner_texts()
    assert empties and set(empties) == {"—"}  # params and metrics alike
    header = page.locator(f"#runs-table thead th[data-column='metrics.{LONG_METRIC}']")
    assert header.get_attribute("title") == f"metrics.{LONG_METRIC}"
    label = header.locator(".label")
    assert label.evaluate("e => e.scrollWidth > e.clientWidth")  # truncated, and titled

    page.click("#columns-button")
    tags = page.locator("#columns-panel section[data-group=tags]")
    assert tags.locator("h3").inner_text().startswith("Tags (4")  # 40 tags and system tags
    last = tags.locator("input[data-column='tags.tag39']")
    last.scroll_into_view_if_needed()
    assert last.is_visible()
    panel = page.locator("#columns-panel").bounding_box()
    section = tags.bounding_box()
    assert panel and section and section["y"] + section["height"] <= panel["y"] + panel["height"]
    tags.get_by_role("button", name="All").click()
    assert page.locator("#runs-table thead th[data-column='tags.tag39']").count() == 1
    screenshot(page, "runs-columns")
    assert page.errors == []


def test_wide_table_scrolls_sideways_with_a_scrollbar(live_ui, nested, page):
    eid, _ = nested
    page.set_viewport_size({"width": 900, "height": 800})
    page.goto(f"{live_ui.url}/experiments/{eid}")
    names(page)
    page.click("#columns-button")
    tags = page.locator("#columns-panel section[data-group=tags]")
    tags.get_by_role("button", name="All").click()
    wrap = page.locator("#runs-wrap")
    assert wrap.evaluate("e => e.scrollWidth > e.clientWidth")
    # The scrollbar takes room (a classic, always-visible bar), not an overlay that hides.
    assert wrap.evaluate("e => e.offsetHeight - e.clientHeight") >= 10


def test_compare_breadcrumb_names_the_experiment(live_ui, page):
    seed = live_ui.seed
    ids = ",".join([seed.runs["alpha"], seed.runs["beta"]])
    page.goto(f"{live_ui.url}/compare?run_ids={ids}")
    crumbs = page.locator("nav.crumbs").inner_text()
    assert "vision" in crumbs and "Experiment " not in crumbs
    assert page.errors == []


def test_scrolling_moves_only_the_rows_that_enter_or_leave(live_ui, page):
    """While scrolling, rows still in the window stay the same nodes, the rows in the DOM are
    always consecutive runs in the table's order, and the columns keep their widths."""
    store = live_ui.store
    eid = store.create_experiment("scroll-window")
    count = 300
    for i in range(count):
        name = f"s{i:03d}" + ("-with-a-much-longer-name-than-the-others" if i == 240 else "")
        run = store.create_run(eid, "bot", 50_000 + i, run_name=name)
        store.log_batch(run.info.run_id, params=[Param("p", "x" * (1 + i % 7))])
    page.goto(f"{live_ui.url}/experiments/{eid}?max_results=1000")
    page.wait_for_function(
        "() => document.querySelector('#page-info').textContent.startsWith('300 runs')"
    )
    rows = "[...document.querySelectorAll('#runs-table tbody tr[data-run-id]')]"
    widths = (
        "() => [...document.querySelectorAll('#runs-table tr.column-heads th')]"
        ".map((th) => th.offsetWidth)"
    )
    window = f"() => {rows}.map((tr) => tr.querySelector('td.name a').textContent.slice(1, 4))"
    before = page.evaluate(widths)
    wrap = page.locator("#runs-wrap")
    row_height = page.evaluate(
        "() => document.querySelector('#runs-table tbody tr[data-run-id]').offsetHeight"
    )

    def consecutive() -> list[int]:
        shown = [int(n) for n in page.evaluate(window)]
        expected = list(range(shown[0], shown[0] - len(shown), -1))  # newest first
        assert shown == expected, shown
        return shown

    page.evaluate(f"() => {{ window.kept = {rows}.at(-1); }}")
    kept = int(page.evaluate("() => window.kept.querySelector('td.name a').textContent")[1:4])
    moved = False
    for step in range(1, 40):  # down, three rows at a time, as a wheel does
        wrap.evaluate(f"(e) => {{ e.scrollTop = {step * 3 * row_height}; }}")
        page.wait_for_timeout(30)
        shown = consecutive()
        moved |= shown[0] != count - 1
        # the row first tagged is the same node for as long as it stays in the window
        assert page.evaluate("() => window.kept.isConnected") == (kept in shown)
    assert moved  # the window did move
    for step in range(40, 0, -1):  # and back up
        wrap.evaluate(f"(e) => {{ e.scrollTop = {step * 2 * row_height}; }}")
        page.wait_for_timeout(20)
        consecutive()
    wrap.evaluate("(e) => { e.scrollTop = 0; }")
    page.wait_for_function(f"() => {rows}[0].querySelector('td.name a').textContent === 's299'")
    assert consecutive()[0] == count - 1
    assert page.evaluate(widths) == before  # the long name in row 60 did not widen a column
    # A row that stays in view is not rebuilt: a small scroll keeps the first visible row.
    page.evaluate(f"() => {{ window.kept = {rows}[10]; }}")
    wrap.evaluate(f"(e) => {{ e.scrollTop = {3 * row_height}; }}")
    page.wait_for_timeout(100)
    assert page.evaluate("() => window.kept.isConnected")
    assert page.errors == []


def test_runs_fetched_below_lengthen_the_table(live_ui, page):
    """Each page of runs fetched while scrolling makes the table as tall as every run fetched,
    whether or not the rows in the DOM move, so the scrollbar always reaches the last one."""
    store = live_ui.store
    eid = store.create_experiment("scroll-fetch")
    count = 250
    for i in range(count):
        store.create_run(eid, "bot", 60_000 + i, run_name=f"f{i:03d}")
    page.goto(f"{live_ui.url}/experiments/{eid}?max_results=60")
    page.wait_for_selector("#runs-table tbody tr[data-run-id]")
    fetched_and_rows = (
        "() => [parseInt(document.querySelector('#page-info').textContent),"
        " Math.round(document.querySelector('#runs-table tbody').getBoundingClientRect().height"
        " / document.querySelector('#runs-table tbody tr[data-run-id]')"
        ".getBoundingClientRect().height)]"
    )
    wrap = page.locator("#runs-wrap")
    row_height = page.evaluate(
        "() => document.querySelector('#runs-table tbody tr[data-run-id]').offsetHeight"
    )
    seen = set()
    for step in range(1, 120):  # down, two rows at a time, as a wheel does
        wrap.evaluate(f"(e) => {{ e.scrollTop = {step * 2 * row_height}; }}")
        page.wait_for_timeout(40)
        fetched, rows = page.evaluate(fetched_and_rows)
        seen.add(fetched)
        assert rows == fetched, (step, fetched, rows)
    assert max(seen) == count and len(seen) >= 3, seen  # several pages were fetched
    wrap.evaluate("(e) => { e.scrollTop = e.scrollHeight; }")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#runs-table tbody tr[data-run-id] td.name a')]"
        ".some((a) => a.textContent === 'f000')"
    )


def test_a_live_refresh_keeps_the_column_widths_of_a_scrolled_table(live_ui, page):
    """The table refreshes itself while a user has scrolled to a row with a long name: the
    columns keep the widths they were given, instead of being sized to the rows shown then."""
    store = live_ui.store
    eid = store.create_experiment("live-widths")
    ids = []
    for i in range(300):
        name = f"w{i:03d}" + ("-with-a-much-longer-name-than-the-others" if i == 240 else "")
        ids.append(store.create_run(eid, "bot", 50_000 + i, run_name=name).info.run_id)
    page.goto(f"{live_ui.url}/experiments/{eid}?max_results=1000")
    page.wait_for_function(
        "() => document.querySelector('#page-info').textContent.startsWith('300 runs')"
    )
    widths = (
        "() => [...document.querySelectorAll('#runs-table tr.column-heads th')]"
        ".map((th) => th.offsetWidth)"
    )
    before = page.evaluate(widths)
    row_height = page.evaluate(
        "() => document.querySelector('#runs-table tbody tr[data-run-id]').offsetHeight"
    )
    page.locator("#runs-wrap").evaluate(f"(e) => {{ e.scrollTop = {50 * row_height}; }}")
    page.wait_for_selector("#runs-table td.name a:text-matches('^w240-')")
    page.evaluate("() => { window.head = document.querySelector('#runs-table tr.column-heads'); }")
    store.set_tag(ids[299], RunTag("note", "changed"))  # the next live refresh sees new data
    page.wait_for_function("() => !window.head.isConnected", timeout=15_000)  # it re-rendered
    assert page.evaluate(widths) == before
    assert page.errors == []


def test_a_live_refresh_writes_running_durations_in_place(live_ui, page):
    """A running run's duration changes at every refresh (the server computes it), so comparing
    whole replies redrew the table every five seconds and replaced every row in view; the
    refresh now writes the new durations into their cells and keeps the rows."""
    store = live_ui.store
    eid = store.create_experiment("live-durations")
    started = int(time.time() * 1000) - 5_000
    for i in range(3):
        store.create_run(eid, "bot", started + i, run_name=f"live{i}")
    page.clock.install()  # the refresh timer fires when the test says so
    page.goto(f"{live_ui.url}/experiments/{eid}")
    page.wait_for_selector("#runs-table[aria-busy=false]")
    column = page.evaluate(
        "() => [...document.querySelectorAll('#runs-table tr.column-heads th')]"
        ".findIndex((th) => th.dataset.column === 'duration')"
    )
    assert column > 0
    cell = f"() => document.querySelector('#runs-table tbody tr[data-run-id]').cells[{column}]"
    before = page.evaluate(f"() => ({cell})().textContent")
    page.evaluate(f"() => {{ window.kept = ({cell})().parentElement; }}")
    time.sleep(1.2)  # the server's clock moves on: durations differ by a second or more
    with page.expect_response(lambda r: "/runyard/runs?" in r.url):
        page.clock.run_for(5_100)
    page.wait_for_function(f"(before) => ({cell})().textContent !== before", arg=before)
    assert page.evaluate("() => window.kept.isConnected")
    assert page.evaluate(f"() => ({cell})().parentElement === window.kept")
    assert page.errors == []
