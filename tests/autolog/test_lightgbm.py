"""LightGBM autologging on a real training of the breast-cancer data set."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
import runyard
import yaml
from runyard.entities import LoggedModelStatus

from tests.requirements import import_or_skip

lgb = import_or_skip("lightgbm", "lightgbm")
import_or_skip("sklearn", "sklearn")

from sklearn.datasets import load_breast_cancer  # noqa: E402

from tests.autolog.conftest import runs_of_default_experiment  # noqa: E402

PARAMS = {"objective": "binary", "learning_rate": 0.2, "num_leaves": 7, "verbose": -1}


@pytest.fixture(scope="module")
def datasets():
    X, y = load_breast_cancer(return_X_y=True)
    return X[:400], y[:400], X[400:], y[400:]


def test_train_logs_params_metrics_importances_and_model(datasets, tmp_path) -> None:
    X, y, Xv, yv = datasets
    runyard.lightgbm.autolog()
    with runyard.start_run() as run:
        booster = lgb.train(
            PARAMS,
            lgb.Dataset(X, y),
            num_boost_round=15,
            valid_sets=[lgb.Dataset(Xv, yv)],
        )
        runyard.log_metric("test_score", 0.75)
    rid = run.info.run_id
    got = runyard.get_run(rid)
    assert dict(got.data.params) == {
        "objective": "binary",
        "learning_rate": "0.2",
        "num_leaves": "7",
        "verbose": "-1",
        "num_boost_round": "15",
        "keep_training_booster": "False",
    }
    # No early stopping: no stopped_iteration, as in MLflow.
    assert set(got.data.metrics) == {"valid_0-binary_logloss", "test_score"}
    history = runyard.Client().get_metric_history(rid, "valid_0-binary_logloss")
    assert sorted(m.step for m in history) == list(range(15))
    assert got.data.metrics["test_score"] == 0.75
    names = {f.path for f in runyard.Client().list_artifacts(rid)}
    assert names == {
        "feature_importance_gain.json",
        "feature_importance_gain.png",
        "feature_importance_split.json",
        "feature_importance_split.png",
    }
    local = runyard.Client().download_artifacts(rid, "", tmp_path)
    # The model is MLflow 3's logged model, the run's output, reached by its id or the run.
    (model,) = runyard.search_logged_models()
    assert (model.name, model.source_run_id) == ("model", rid)
    assert model.status == LoggedModelStatus.LOGGED_MODEL_READY
    # Created before training, so every iteration's metric is the model's too, as in MLflow 3.
    model_points = [m for m in model.metrics if m.key == "valid_0-binary_logloss"]
    assert {m.key for m in model.metrics} == {"valid_0-binary_logloss"}
    assert model_points and all(m.run_id == rid for m in model_points)
    assert [o.model_id for o in got.outputs.model_outputs] == [model.model_id]
    files = runyard.artifacts.download_artifacts(
        f"models:/{model.model_id}", dst_path=tmp_path / "m"
    )
    loaded = lgb.Booster(model_file=os.path.join(files, "model.lgb"))
    assert (loaded.predict(Xv) == booster.predict(Xv)).all()
    by_uri = runyard.lightgbm.load_model(f"runs:/{rid}/model")
    assert (by_uri.predict(Xv) == booster.predict(Xv)).all()
    assert Path(files, "requirements.txt").read_text().startswith("mlflow\n")
    signature = yaml.safe_load(Path(files, "MLmodel").read_text())["signature"]
    assert json.loads(signature["inputs"]) == [
        {"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, X.shape[1]]}}
    ]
    split = json.loads(Path(local, "feature_importance_split.json").read_text())
    assert split == dict(
        zip(booster.feature_name(), booster.feature_importance("split").tolist(), strict=True)
    )


def test_the_input_example_is_the_first_rows_of_the_training_data(datasets, tmp_path) -> None:
    X, y, _, _ = datasets
    runyard.lightgbm.autolog(log_input_examples=True)
    with runyard.start_run():
        lgb.train(PARAMS, lgb.Dataset(X, y), 3)
    (model,) = runyard.search_logged_models()
    files = runyard.artifacts.download_artifacts(model.model_uri, dst_path=tmp_path / "m")
    assert json.loads(Path(files, "input_example.json").read_text()) == X[:5].tolist()


def test_a_training_that_fails_leaves_its_model_marked_failed(datasets) -> None:
    X, y, _, _ = datasets
    runyard.lightgbm.autolog()
    with pytest.raises(lgb.basic.LightGBMError), runyard.start_run():
        lgb.train({**PARAMS, "objective": "no-such-objective"}, lgb.Dataset(X, y), 5)
    (model,) = runyard.search_logged_models()
    assert model.status == LoggedModelStatus.LOGGED_MODEL_UPLOAD_FAILED


def test_early_stopping_logs_best_and_stopped_iteration(datasets) -> None:
    X, y, Xv, yv = datasets
    runyard.lightgbm.autolog(log_models=False)
    booster = lgb.train(
        {**PARAMS, "learning_rate": 0.9},
        lgb.Dataset(X, y),
        num_boost_round=500,
        valid_sets=[lgb.Dataset(X, y), lgb.Dataset(Xv, yv)],
        valid_names=["train", "valid"],
        callbacks=[lgb.early_stopping(3, verbose=False)],
    )
    (run,) = runs_of_default_experiment()
    assert run.data.tags["mlflow.autologging"] == "lightgbm"
    assert run.data.metrics["best_iteration"] == booster.best_iteration
    history = runyard.Client().get_metric_history(run.info.run_id, "valid-binary_logloss")
    stopped = int(run.data.metrics["stopped_iteration"])
    assert stopped == booster.best_iteration + 3  # patience 3
    # As MLflow: the best iteration's results again at step stopped_iteration, the latest.
    assert sorted(m.step for m in history) == [*range(stopped), stopped]
    by_step = {m.step: m.value for m in history}
    assert by_step[stopped] == by_step[booster.best_iteration - 1]
    assert run.data.metrics["valid-binary_logloss"] == by_step[booster.best_iteration - 1]
    assert {"train-binary_logloss", "valid-binary_logloss"} <= set(run.data.metrics)
    assert not {"valid_names", "callbacks", "feval", "init_model"} & set(run.data.params)


def test_sklearn_api_routes_through_train(datasets) -> None:
    X, y, _, _ = datasets
    runyard.lightgbm.autolog(log_models=False)
    lgb.LGBMClassifier(n_estimators=7, verbose=-1).fit(X, y, eval_set=[(X, y)])
    (run,) = runs_of_default_experiment()
    assert run.data.params["num_boost_round"] == "7"
    assert "stopped_iteration" not in run.data.metrics and "feval" not in run.data.params
    # LightGBM names an evaluation set that is the training set "training".
    history = runyard.Client().get_metric_history(run.info.run_id, "training-binary_logloss")
    assert len(history) == 7


def test_disable_restores_train() -> None:
    original, fit = lgb.train, lgb.LGBMModel.fit
    runyard.lightgbm.autolog()
    assert lgb.train is not original and lgb.LGBMModel.fit is not fit
    runyard.lightgbm.autolog(disable=True)
    assert lgb.train is original
    assert lgb.sklearn.train is original
    assert lgb.LGBMModel.fit is fit


def test_a_scikit_learn_api_model_is_logged_as_itself(datasets, tmp_path) -> None:
    """As MLflow: loading the autologged model gives back the LGBMClassifier, whose predict
    answers classes, with the training's params and per-iteration metrics on the run."""
    X, y, Xv, yv = datasets
    runyard.lightgbm.autolog()
    classifier = lgb.LGBMClassifier(n_estimators=5, verbose=-1)
    classifier.fit(X, y, eval_set=[(Xv, yv)])
    (run,) = runs_of_default_experiment()
    assert run.data.params["num_boost_round"] == "5"
    assert len(runyard.Client().get_metric_history(run.info.run_id, "valid_0-binary_logloss")) == 5
    (logged,) = runyard.search_logged_models()
    assert logged.status == LoggedModelStatus.LOGGED_MODEL_READY
    assert "valid_0-binary_logloss" in {m.key for m in logged.metrics}
    loaded = runyard.lightgbm.load_model(logged.model_uri)
    assert isinstance(loaded, lgb.LGBMClassifier)
    assert loaded.predict(Xv).tolist() == classifier.predict(Xv).tolist()
    files = Path(runyard.artifacts.download_artifacts(logged.model_uri, dst_path=tmp_path))
    assert (files / "model.pkl").is_file() and not (files / "model.lgb").exists()


def test_missing_lightgbm_gives_an_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    from runyard.autolog import lightgbm as integration

    monkeypatch.setitem(sys.modules, "lightgbm", None)
    with pytest.raises(ImportError, match=r"pip install runyard\[lightgbm\]"):
        integration.autolog()


def test_exclusive_trains_without_logging_into_the_users_run(datasets) -> None:
    X, y, _, _ = datasets
    runyard.lightgbm.autolog(exclusive=True, log_models=False)
    with runyard.start_run() as mine:
        lgb.train(PARAMS, lgb.Dataset(X, y), num_boost_round=3)
    assert runyard.get_run(mine.info.run_id).data.params == {}
    lgb.train(PARAMS, lgb.Dataset(X, y), num_boost_round=3)  # autologging's own run
    (own,) = [r for r in runs_of_default_experiment() if r.info.run_id != mine.info.run_id]
    assert own.data.tags["mlflow.autologging"] == "lightgbm"
    assert own.data.params["num_leaves"] == "7"


def test_the_training_and_validation_sets_are_dataset_inputs(datasets) -> None:
    X, y, Xv, yv = datasets
    runyard.lightgbm.autolog(log_models=False)
    train = lgb.Dataset(X, y)
    lgb.train(
        PARAMS,
        train,
        num_boost_round=3,
        valid_sets=[train, lgb.Dataset(Xv, yv)],
        valid_names=["train", "holdout"],
    )
    (run,) = runs_of_default_experiment()
    used = [(d.dataset.name, d.tags["mlflow.data.context"]) for d in run.inputs.dataset_inputs]
    assert sorted(used) == [("dataset", "train"), ("holdout", "eval"), ("train", "eval")]
    profile = {d.dataset.name: json.loads(d.dataset.profile) for d in run.inputs.dataset_inputs}
    assert profile["holdout"]["features_shape"] == list(Xv.shape)
    assert profile["dataset"]["targets_shape"] == [len(y)]
