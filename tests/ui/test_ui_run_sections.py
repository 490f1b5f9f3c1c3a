"""Run page sections in real headless Chromium, for a run logged by the real mlflow client:
dataset inputs (``log_input``), logged models (``log_model`` under MLflow 3: the entity, its
params and metrics, its files) and system metrics on their own chart."""

from __future__ import annotations

import time

import pytest
from runyard.entities import Metric

from tests.ui.conftest import screenshot

pytestmark = pytest.mark.timeout(240)


@pytest.fixture(scope="module")
def mlflow_run(live_ui):  # type: ignore[no-untyped-def]
    mlflow = pytest.importorskip("mlflow")
    pd = pytest.importorskip("pandas")
    linear = pytest.importorskip("sklearn.linear_model")

    mlflow.set_tracking_uri(live_ui.url)
    mlflow.set_experiment("sections")
    frame = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0], "y": [0, 0, 1, 1]})
    with mlflow.start_run(run_name="with-model") as run:
        mlflow.log_input(mlflow.data.from_pandas(frame, name="train-set"), context="training")
        model = linear.LogisticRegression().fit(frame[["x"]], frame["y"])
        mlflow.log_params({"C": 1.0})
        info = mlflow.sklearn.log_model(model, name="classifier", params={"C": 1.0})
        mlflow.log_metric("accuracy", 1.0, model_id=info.model_id)
    now = int(time.time() * 1000)
    live_ui.store.log_batch(
        run.info.run_id,
        metrics=[
            Metric("system/cpu_utilization_percentage", 10.0 + s, now + s * 1000, s)
            for s in range(5)
        ],
    )
    mlflow.set_tracking_uri("")
    return run.info.run_id, info.model_id


def test_run_page_shows_datasets_models_and_system_metrics(live_ui, mlflow_run, page):
    run_id, model_id = mlflow_run
    page.goto(f"{live_ui.url}/runs/{run_id}")

    datasets = page.locator("#datasets-table tbody tr").first.locator("td").all_inner_texts()
    assert datasets[:2] == ["train-set", "training"]

    model = page.locator(f"details.logged-model[data-model-id='{model_id}']")
    assert "classifier" in model.locator("summary").inner_text()
    assert "READY" in model.locator("summary").inner_text()
    assert "accuracy" in model.locator(".model-body").inner_text()
    files = model.locator(".model-files a")
    files.first.wait_for()
    assert "MLmodel" in files.all_inner_texts()
    href = model.locator(".model-files a", has_text="MLmodel").get_attribute("href")
    assert "flavors" in page.request.get(live_ui.url + href).text()

    system = page.locator("#system-metrics")
    assert "cpu_utilization_percentage" in system.locator("table").inner_text()
    page.wait_for_function(
        "() => document.querySelector('#system-metrics svg.chart')?.dataset.points === '5'"
    )
    main_keys = page.locator("#metrics-table tr[data-key]").evaluate_all(
        "rows => rows.map((r) => r.dataset.key)"
    )
    assert not any(k.startswith("system/") for k in main_keys)
    screenshot(page, "run-sections")
    assert page.errors == []
