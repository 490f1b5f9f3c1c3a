"""Editing in real headless Chromium: descriptions (Markdown rendered safely), run names, tags,
and deleting and restoring runs from the table with undo. Every edit is checked in the store:
the pages write through MLflow's REST endpoints, with the server's validation."""

from __future__ import annotations

import time

import pytest
from runyard.entities import LifecycleStage

from tests.ui.conftest import screenshot

pytestmark = pytest.mark.timeout(180)

NOTE = "mlflow.note.content"
HOSTILE_MARKDOWN = """# Baseline

Trained **cnn** with `lr=0.1`; see [the docs](https://example.org/docs).

- [click me](javascript:window.__xss=1)
- [or me](  JaVaScRiPt:window.__xss=2)
- <img src=x onerror="window.__xss=3"> and <script>window.__xss=4</script>
"""


@pytest.fixture
def runs(live_ui):  # type: ignore[no-untyped-def]
    """A fresh experiment with three runs, so edits do not leak into other tests."""
    store = live_ui.store
    eid = store.create_experiment(f"editing-{time.monotonic_ns()}")
    now = int(time.time() * 1000)
    ids = {
        name: store.create_run(eid, "alice", now + i * 1000, run_name=name).info.run_id
        for i, name in enumerate(["one", "two", "three"])
    }
    return eid, ids


def test_run_description_renders_markdown_safely(live_ui, runs, page):
    _, ids = runs
    page.goto(f"{live_ui.url}/runs/{ids['one']}")
    page.click("#description button:has-text('Edit')")
    page.fill("#description textarea", HOSTILE_MARKDOWN)
    page.check("#description input[type=checkbox]")  # live preview
    assert page.locator("#description .preview-md h3").inner_text() == "Baseline"
    page.click("#description button:has-text('Save')")
    view = page.locator("#description .markdown")
    view.locator("h3").wait_for()
    assert view.locator("strong").first.inner_text() == "cnn"
    assert view.locator("code").inner_text() == "lr=0.1"
    hrefs = view.locator("a").evaluate_all("links => links.map((a) => a.href)")
    assert hrefs == ["https://example.org/docs"]
    assert view.locator("img, script").count() == 0
    assert "<script>" in view.inner_text()  # raw HTML shows as the text it is
    for link in view.locator(".unsafe-link").all():
        link.click()
    assert page.evaluate("window.__xss") is None
    stored = live_ui.store.get_run(ids["one"]).data.tags[NOTE]
    assert stored == HOSTILE_MARKDOWN
    page.reload()
    assert page.locator("#description .markdown h3").inner_text() == "Baseline"
    screenshot(page, "run-description")
    assert page.errors == []


def test_rename_and_tags_go_through_the_api(live_ui, runs, page):
    _, ids = runs
    page.goto(f"{live_ui.url}/runs/{ids['two']}")
    page.click("#rename-run")
    page.fill(".rename-form input", "two-renamed")
    page.keyboard.press("Enter")
    page.wait_for_selector("#run-name:has-text('two-renamed')")
    assert live_ui.store.get_run(ids["two"]).info.run_name == "two-renamed"

    page.fill("#tag-key", "team")
    page.fill("#tag-value", "vision")
    page.click("#add-tag button")
    page.wait_for_selector("#tags-table tr[data-key=team]")
    assert live_ui.store.get_run(ids["two"]).data.tags["team"] == "vision"

    page.fill("#tag-key", "../escape")  # the server's validation answers, the page shows it
    page.click("#add-tag button")
    page.wait_for_selector("#tags-message.error")
    assert "Invalid value" in page.locator("#tags-message").inner_text()
    assert "../escape" not in live_ui.store.get_run(ids["two"]).data.tags

    page.click("#tags-table button[data-remove-tag=team]")
    page.wait_for_selector("#tags-table tr[data-key=team]", state="detached")
    assert "team" not in live_ui.store.get_run(ids["two"]).data.tags
    assert [e for e in page.errors if "400" not in e] == []


def test_bulk_delete_with_undo_and_restore_from_the_deleted_view(live_ui, runs, page):
    eid, ids = runs
    store = live_ui.store
    page.goto(f"{live_ui.url}/experiments/{eid}")
    page.wait_for_selector("#runs-table[aria-busy=false]")
    for name in ("one", "two"):
        page.locator(f"#runs-table tr[data-run-id='{ids[name]}'] input[type=checkbox]").check()
    assert page.locator("#delete-button").inner_text() == "Delete (2)"
    page.click("#delete-button")
    page.wait_for_selector("#runs-message:has-text('Deleted 2 runs.')")
    page.wait_for_function("() => document.querySelectorAll('#runs-table td.name a').length === 1")
    assert store.get_run(ids["one"]).info.lifecycle_stage == LifecycleStage.DELETED
    page.click("#runs-message button:has-text('Undo')")
    page.wait_for_selector("#runs-message:has-text('Restored 2 runs.')")
    page.wait_for_function("() => document.querySelectorAll('#runs-table td.name a').length === 3")
    assert store.get_run(ids["one"]).info.lifecycle_stage == LifecycleStage.ACTIVE

    page.locator(f"#runs-table tr[data-run-id='{ids['three']}'] input[type=checkbox]").check()
    page.click("#delete-button")
    page.wait_for_selector("#runs-message:has-text('Deleted 1 run.')")
    page.select_option("#run-view", "deleted")
    page.wait_for_function("() => document.querySelectorAll('#runs-table td.name a').length === 1")
    assert "view=deleted" in page.url
    page.locator(f"#runs-table tr[data-run-id='{ids['three']}'] input[type=checkbox]").check()
    page.click("#restore-button")
    page.wait_for_selector("#runs-message:has-text('Restored 1 run.')")
    assert store.get_run(ids["three"]).info.lifecycle_stage == LifecycleStage.ACTIVE
    assert page.errors == []


def test_experiment_description(live_ui, runs, page):
    eid, _ = runs
    page.goto(f"{live_ui.url}/experiments/{eid}")
    page.click("#description button:has-text('Edit')")
    page.fill("#description textarea", "Runs of the **vision** team.")
    page.click("#description button:has-text('Save')")
    page.wait_for_selector("#description .markdown strong")
    assert live_ui.store.get_experiment(eid).tags[NOTE] == "Runs of the **vision** team."
    assert page.errors == []
