"""The unmodified mlflow client logs to a live runyard server; runyard's store reads it back."""

from __future__ import annotations

import hashlib
import json

import pytest
from runyard.entities import LoggedModelStatus, RunStatus

from tests.compat.conftest import Served


def _history(served: Served, run_id: str, key: str) -> list[tuple[int, float]]:
    return [(m.step, m.value) for m in served.store.get_metric_history(run_id, key)]


def test_fluent_basics(served: Served) -> None:
    out = served.run_script("fluent_basics.py")
    store = served.store
    experiment = store.get_experiment_by_name("compat-fluent")
    assert experiment is not None and experiment.experiment_id == out["experiment_id"]
    assert experiment.artifact_location == f"mlflow-artifacts:/{experiment.experiment_id}"

    parent = store.get_run(out["parent"])
    assert parent.info.status == RunStatus.FINISHED and parent.info.run_name == "parent"
    assert dict(parent.data.params) == {"foo": "bar", "p1": "1", "p2": "two"}
    assert parent.data.metrics["logloss"] == 0.5
    assert parent.data.metrics["m1"] == 0.1 and parent.data.metrics["m2"] == 0.2
    assert _history(served, out["parent"], "logloss") == [(0, 1.0), (1, 0.7), (2, 0.5)]
    assert parent.data.tags["hoge"] == "fuga" and parent.data.tags["t1"] == "x"
    assert parent.data.tags["mlflow.runName"] == "parent"

    child = store.get_run(out["child"])
    assert child.data.tags["mlflow.parentRunId"] == out["parent"]
    assert child.data.metrics["child_metric"] == 3.0
    assert child.info.status == RunStatus.FINISHED

    root = served.artifact(out["experiment_id"], out["parent"], "artifacts")
    assert (root / "hello.txt").read_text() == "hello"
    assert (root / "dd" / "one.txt").read_text() == "one"
    assert (root / "dd" / "sub" / "two.json").read_text() == '{"a": 1}'
    assert json.loads((root / "conf" / "d.json").read_text()) == {"k": [1, 2]}


def test_client_operations(served: Served) -> None:
    out = served.run_script("client_ops.py")
    store = served.store
    experiment = store.get_experiment(out["experiment_id"])
    assert experiment.name == "compat-client-renamed"
    assert dict(experiment.tags) == {"team": "a", "k2": "v2"}
    assert experiment.lifecycle_stage == "active"
    for i, run_id in enumerate(out["run_ids"]):
        run = store.get_run(run_id)
        assert run.info.lifecycle_stage == "active"
        assert run.info.status == RunStatus.FINISHED and run.info.end_time
        assert run.info.run_name == f"r{i}"
        assert run.data.params["lr"] == str(0.1 * (i + 1))
        assert run.data.tags["idx"] == str(i) and "gone" not in run.data.tags
        assert _history(served, run_id, "loss") == [(0, 1.0 / (i + 1)), (1, 0.1 * i)]
    stored = served.artifact(out["experiment_id"], out["run_ids"][0], "artifacts", "stuff", "a.txt")
    assert stored.read_text() == "aa"


def test_sklearn_cross_validation_script(served: Served) -> None:
    out = served.run_script("sklearn_cv.py")
    run = served.store.get_run(out["run_id"])
    assert run.data.metrics["mean_accuracy"] == out["mean"]
    assert dict(run.data.params) == {"n_estimators": "20", "max_depth": "3", "random_state": "0"}
    assert _history(served, out["run_id"], "fold_accuracy") == list(enumerate(out["scores"]))
    root = served.artifact(out["experiment_id"], out["run_id"], "artifacts")
    for relative, digest in out["digests"].items():
        assert hashlib.sha256((root / relative).read_bytes()).hexdigest() == digest
    assert json.loads((root / "feature_importances.json").read_text()) == out["importances"]


def _logged_model(served: Served, experiment_id: str, run_id: str):
    models = served.store.search_logged_models([experiment_id])
    matching = [m for m in models if m.source_run_id == run_id]
    assert len(matching) == 1, models
    return matching[0]


@pytest.mark.slow
def test_sklearn_autolog(served: Served) -> None:
    out = served.run_script("sklearn_autolog.py")
    run = served.store.get_run(out["run_id"])
    assert run.info.status == RunStatus.FINISHED
    assert run.data.tags["estimator_name"] == "LogisticRegression"
    assert run.data.params["C"] == "0.5" and run.data.params["max_iter"] == "200"
    assert run.data.metrics["training_accuracy_score"] == pytest.approx(out["train_accuracy"])
    model = _logged_model(served, out["experiment_id"], out["run_id"])
    assert model.model_id == out["model_id"]
    assert model.status == LoggedModelStatus.LOGGED_MODEL_READY
    files = served.artifact(out["experiment_id"], "models", model.model_id, "artifacts")
    assert {"MLmodel", "model.pkl"} <= {p.name for p in files.iterdir()}
    assert [o.model_id for o in run.outputs.model_outputs] == [model.model_id]
    assert run.inputs.dataset_inputs


@pytest.mark.slow
def test_lightgbm_autolog(served: Served) -> None:
    out = served.run_script("lightgbm_autolog.py")
    run = served.store.get_run(out["run_id"])
    assert run.info.status == RunStatus.FINISHED
    assert run.data.params["num_leaves"] == "7"
    history = _history(served, out["run_id"], "valid-binary_logloss")
    assert [step for step, _ in history] == list(range(out["rounds"]))
    root = served.artifact(out["experiment_id"], out["run_id"], "artifacts")
    importance = json.loads((root / "feature_importance_gain.json").read_text())
    assert len(importance) == 30
    model = _logged_model(served, out["experiment_id"], out["run_id"])
    assert model.status == LoggedModelStatus.LOGGED_MODEL_READY
