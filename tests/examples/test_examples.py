"""Each walkthrough example, run as a script against a file store and a live server; then what
landed is checked exactly."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import runyard

from tests.live_server import start_live_server
from tests.requirements import installed_or_skip

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
#: Libraries an example imports beyond runyard (the test skips when one is not installed).
NEEDS = {
    "02_sklearn_cv.py": ("sklearn",),
    "03_lightgbm_autolog.py": ("lightgbm", "sklearn"),
    "04_custom_autolog.py": ("sklearn",),
    "06_model_registry.py": ("sklearn",),
}


@pytest.fixture(scope="module")
def live_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("examples-server")
    with start_live_server(f"sqlite:///{root / 'db.sqlite'}", str(root / "artifacts")) as server:
        yield server.url


@pytest.fixture(params=["file", "server"])
def tracking_uri(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "file":
        return (tmp_path / "mlruns").as_uri()
    return request.getfixturevalue("live_url")


def run_example(name: str, tracking_uri: str, cwd: Path) -> runyard.Run:
    for library in NEEDS.get(name, ()):
        installed_or_skip(library, library)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNYARD_", "MLFLOW_"))}
    env.update(RUNYARD_TRACKING_URI=tracking_uri, RUNYARD_SPOOL_DIR=str(cwd / "spool"))
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / name)],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    run_id = done.stdout.strip().splitlines()[-1].removeprefix("run_id=")
    return runyard.Client(tracking_uri).get_run(run_id)


def artifacts(tracking_uri: str, run_id: str, path: str | None = None) -> set[str]:
    return {f.path for f in runyard.Client(tracking_uri).list_artifacts(run_id, path)}


def test_basics(tracking_uri: str, tmp_path: Path) -> None:
    run = run_example("01_basics.py", tracking_uri, tmp_path)
    assert run.info.status == "FINISHED"
    assert dict(run.data.params) == {"learning_rate": "0.01", "epochs": "5", "optimizer": "adam"}
    assert dict(run.data.metrics) == {"loss": 0.2, "accuracy": pytest.approx(0.9)}
    assert run.data.tags["team"] == "vision"
    client = runyard.Client(tracking_uri)
    history = client.get_metric_history(run.info.run_id, "loss")
    assert [(m.step, m.value) for m in sorted(history, key=lambda m: m.step)] == [
        (0, 1.0),
        (1, 0.5),
        (2, 0.3333),
        (3, 0.25),
        (4, 0.2),
    ]
    assert artifacts(tracking_uri, run.info.run_id) == {"notes", "config.json"}
    assert artifacts(tracking_uri, run.info.run_id, "notes") == {"notes/readme.txt"}


def test_sklearn_cv(tracking_uri: str, tmp_path: Path) -> None:
    run = run_example("02_sklearn_cv.py", tracking_uri, tmp_path)
    assert dict(run.data.params) == {
        "n_estimators": "50",
        "max_depth": "6",
        "random_state": "42",
        "n_splits": "5",
    }
    means = {f"cv_mean_{k}" for k in ("accuracy", "f1", "roc_auc")}
    stds = {f"cv_std_{k}" for k in ("accuracy", "f1", "roc_auc")}
    folds = {f"fold_{k}" for k in ("accuracy", "f1", "roc_auc")}
    assert set(run.data.metrics) == means | stds | folds
    assert run.data.metrics["cv_mean_accuracy"] > 0.9
    assert artifacts(tracking_uri, run.info.run_id, "folds") == {
        f"folds/model_fold{i}.pkl" for i in range(5)
    }
    assert "feature_importances.json" in artifacts(tracking_uri, run.info.run_id)


def test_lightgbm_autolog(tracking_uri: str, tmp_path: Path) -> None:
    run = run_example("03_lightgbm_autolog.py", tracking_uri, tmp_path)
    assert run.data.params["objective"] == "binary"
    assert run.data.params["num_boost_round"] == "50"
    assert {"test_score", "valid_0-binary_logloss", "stopped_iteration", "best_iteration"} <= set(
        run.data.metrics
    )
    assert run.data.metrics["test_score"] > 0.9
    assert "model" not in artifacts(tracking_uri, run.info.run_id)  # a logged model, as MLflow 3
    (output,) = run.outputs.model_outputs
    model = runyard.Client(tracking_uri).get_logged_model(output.model_id)
    assert (model.name, model.source_run_id) == ("model", run.info.run_id)
    files = runyard.artifacts.list_artifacts(f"models:/{model.model_id}", tracking_uri=tracking_uri)
    assert {"model.lgb", "MLmodel", "requirements.txt"} <= {f.path for f in files}


def test_custom_autolog(tracking_uri: str, tmp_path: Path) -> None:
    run = run_example("04_custom_autolog.py", tracking_uri, tmp_path)
    assert dict(run.data.params) == {"n_estimators": "20", "max_depth": "4"}
    assert set(run.data.metrics) == {"train_accuracy"}
    assert run.data.tags["mlflow.autologging"] == "my_forest"
    assert run.data.tags["autologged_by"] == "04_custom_autolog"
    assert run.info.status == "FINISHED"


def test_async_logging(tracking_uri: str, tmp_path: Path) -> None:
    run = run_example("05_async_logging.py", tracking_uri, tmp_path)
    assert dict(run.data.params) == {"steps": "5000"}
    history = runyard.Client(tracking_uri).get_metric_history(run.info.run_id, "loss")
    assert sorted(m.step for m in history) == list(range(5000))
    assert run.info.status == "FINISHED"


def test_model_registry(tracking_uri: str, tmp_path: Path) -> None:
    run = run_example("06_model_registry.py", tracking_uri, tmp_path)
    client = runyard.Client(tracking_uri)
    champion = client.get_model_version_by_alias("iris-classifier", "champion")
    assert champion.run_id == run.info.run_id
    assert dict(champion.tags) == {"validated": "true"}
    assert champion.description == "Logistic regression, iris"
    found = client.search_model_versions("name = 'iris-classifier' and tags.validated = 'true'")
    assert [v.version for v in found] == [champion.version]
