"""``runyard ui`` as a newcomer uses it: the embedded ./mlruns, the real mlflow client logging
runs and files, and the links that client prints, in real headless Chromium."""

from __future__ import annotations

import pytest

from tests.live_server import start_runyard_ui
from tests.requirements import import_or_skip
from tests.ui.conftest import screenshot, tiny_png

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def local_ui(tmp_path_factory):  # type: ignore[no-untyped-def]
    cwd = tmp_path_factory.mktemp("newcomer")
    with start_runyard_ui(cwd) as server:
        yield server, cwd


@pytest.fixture(scope="module")
def logged(local_ui):  # type: ignore[no-untyped-def]
    """One run logged by the mlflow client through ``runyard ui``, with a text file and a PNG."""
    MlflowClient = import_or_skip("mlflow.tracking", "mlflow").MlflowClient

    server, cwd = local_ui
    client = MlflowClient(tracking_uri=server.url)
    experiment_id = client.create_experiment("first-steps")
    run = client.create_run(experiment_id, run_name="first")
    client.log_param(run.info.run_id, "lr", "0.1")
    client.log_text(run.info.run_id, "hello from a newcomer\n", "notes/readme.txt")
    (cwd / "plot.png").write_bytes(tiny_png(12, 12))
    client.log_artifact(run.info.run_id, str(cwd / "plot.png"))
    client.set_terminated(run.info.run_id)
    return experiment_id, run.info.run_id


def test_run_page_previews_artifacts_logged_through_runyard_ui(local_ui, logged, page):
    server, cwd = local_ui
    experiment_id, run_id = logged
    assert (cwd / "mlruns" / experiment_id / run_id / "artifacts" / "plot.png").exists()
    page.goto(f"{server.url}/runs/{run_id}")
    tree = page.locator("#artifact-tree")
    tree.locator("button[data-path='notes']").click()
    tree.locator("button[data-path='notes/readme.txt']").click()
    page.wait_for_selector("#artifact-preview pre.preview-text")
    assert "hello from a newcomer" in page.locator("#artifact-preview pre").inner_text()
    tree.locator("button[data-path='plot.png']").click()
    page.wait_for_function(
        "() => document.querySelector('#artifact-preview img')?.naturalWidth === 12"
    )
    assert page.locator("#artifacts .message.error").count() == 0
    screenshot(page, "local-run")
    assert page.errors == []


def test_links_the_mlflow_client_prints_open_the_right_page(local_ui, logged, page):
    server, _ = local_ui
    experiment_id, run_id = logged
    page.goto(f"{server.url}/#/experiments/{experiment_id}/runs/{run_id}")
    page.wait_for_url(f"{server.url}/runs/{run_id}")
    assert page.locator("#run-name").inner_text() == "first"
    page.goto(f"{server.url}/#/experiments/{experiment_id}")
    page.wait_for_url(f"{server.url}/experiments/{experiment_id}")
    assert page.locator("h1").inner_text().startswith("first-steps")
    page.goto(f'{server.url}/#/compare-runs?runs=["{run_id}"]&experiments=["{experiment_id}"]')
    page.wait_for_url(f"{server.url}/compare?run_ids={run_id}")
    page.goto(f"{server.url}/#/models/my%20model/versions/3")
    page.wait_for_url(f"{server.url}/models/my%20model/versions/3")


def test_a_long_error_stays_inside_the_preview_pane(local_ui, logged, page):
    server, _ = local_ui
    _, run_id = logged
    page.goto(f"{server.url}/runs/{run_id}")
    page.wait_for_selector("#artifact-tree button")
    long_path = "x" * 600
    page.evaluate(
        """(text) => {
            const p = document.createElement('p');
            p.className = 'message error';
            p.textContent = text;
            document.getElementById('artifact-preview').replaceChildren(p);
        }""",
        long_path,
    )
    overflow = page.evaluate(
        """() => {
            const box = document.querySelector('#artifact-preview .message.error');
            const pane = document.getElementById('artifact-preview');
            return [box.scrollWidth - box.clientWidth, pane.scrollWidth - pane.clientWidth];
        }"""
    )
    assert overflow == [0, 0]
