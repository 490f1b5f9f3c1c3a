"""The registry's pages in real headless Chromium: Models, a model, a version, and the versions
on the run page; a hostile description and MLmodel stay text."""

from __future__ import annotations

import pytest

from tests.ui.conftest import HOSTILE, screenshot, write_artifacts

pytestmark = pytest.mark.timeout(180)

INPUTS = '[{"type": "double", "name": "age", "required": true}, {"type": "string", "name": "plan"}]'
MLMODEL = b"""artifact_path: model
flavors:
  python_function:
    loader_module: mlflow.sklearn
  sklearn:
    sklearn_version: 1.5.0
run_id: abc
signature:
  inputs: 'INPUTS'
  outputs: '[{"type": "long", "name": "churned"}]'
mlflow_version: 3.17.2
""".replace(b"INPUTS", INPUTS.encode())
DESCRIPTION = f"**Churn** classifier, see [docs](https://example.com/churn).\n\n- fast\n- {HOSTILE}"


@pytest.fixture(scope="module")
def registered(live_ui):  # type: ignore[no-untyped-def]
    store = live_ui.store
    run_id = live_ui.seed.runs["beta"]
    run = store.get_run(run_id)
    write_artifacts(
        live_ui.destination,
        run.info.artifact_uri,
        {"model/MLmodel": MLMODEL, "model/model.pkl": b"\x00weights"},
    )
    store.create_registered_model("churn", tags=[("team", "growth")], description=DESCRIPTION)
    store.create_model_version("churn", f"runs:/{run_id}/model", run_id, description=HOSTILE)
    store.create_model_version("churn", f"runs:/{run_id}/model", run_id)
    store.set_registered_model_alias("churn", "champion", 1)
    store.create_registered_model("fraud")
    return run_id


def test_models_page_model_page_and_version_page(live_ui, registered, page):
    page.goto(live_ui.url + "/")
    page.click("a.topnav")
    row = page.locator("#models-table tr", has_text="churn")
    assert "@champion → v1" in row.inner_text() and "team=growth" in row.inner_text()
    page.fill("#models-q", "fra")
    with page.expect_navigation():  # the search is a form GET: read the page it loads
        page.click("form[role=search] button")
    assert page.locator("#models-table td.name").all_inner_texts() == ["fraud"]
    page.fill("#models-q", "bogus = 'x'")
    with page.expect_navigation():
        page.click("form[role=search] button")
    assert "Invalid attribute key" in page.locator("#models-error").inner_text()

    page.goto(live_ui.url + "/models")
    page.click("#models-table >> text=churn")
    page.wait_for_selector("#versions-table")
    description = page.locator("#model-description")
    assert description.locator("strong").first.inner_text() == "Churn"
    assert description.locator("a").get_attribute("href") == "https://example.com/churn"
    assert "<script>" in description.inner_text(), "hostile HTML is shown as text"
    assert page.locator("#versions-table tbody tr").count() == 2
    screenshot(page, "model")

    page.click("#versions-table >> text=Version 1")
    page.wait_for_selector("#version-files")
    assert page.locator("#signature-inputs td.mono").all_inner_texts()[:2] == ["age", "double"]
    assert "sklearn" in page.locator(".pill.flavor").all_inner_texts()
    assert page.locator("#version-files a").all_inner_texts() == ["MLmodel", "model.pkl"]
    # the description is filled in once the version is fetched, maybe after the files
    page.wait_for_function(
        "() => document.querySelector('#version-description').innerText.includes('<img src=x')"
    )
    assert page.locator("#version-run a").inner_text() == "beta"
    code = page.locator("#lineage-code").inner_text()
    assert "beta" in code and "train.py" in code, "the lineage shows the run and its code"
    params = page.locator("#lineage-params").inner_text()
    assert "model" in params and "mlp" in params
    assert "accuracy" in page.locator("#lineage-metrics").inner_text()
    screenshot(page, "model-version")
    with page.expect_download() as download:
        page.click("#version-files >> text=model.pkl")
    assert download.value.suggested_filename == "model.pkl"

    page.goto(f"{live_ui.url}/runs/{registered}")
    links = page.locator("#run-model-versions a").all_inner_texts()
    assert links == ["churn · Version 1", "churn · Version 2"]
    assert page.evaluate("() => window.__xss") is None
    assert page.errors == []


def test_missing_model_and_version_pages(live_ui, registered, page):
    response = page.goto(live_ui.url + "/models/nope")
    assert response.status == 404 and "not found" in page.inner_text("main")
    response = page.goto(live_ui.url + "/models/churn/versions/99")
    assert response.status == 404
    response = page.goto(live_ui.url + "/models/churn/versions/abc")
    assert response.status == 400
