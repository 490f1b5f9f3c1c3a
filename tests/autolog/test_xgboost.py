"""XGBoost autologging on a real training of the breast-cancer data set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import runyard
import yaml
from runyard.entities import LoggedModelStatus, RunStatus

from tests.requirements import import_or_skip

xgb = import_or_skip("xgboost", "xgboost")
import_or_skip("sklearn", "sklearn")

from sklearn.datasets import load_breast_cancer  # noqa: E402

from tests.autolog.conftest import runs_of_default_experiment  # noqa: E402

PARAMS = {"objective": "binary:logistic", "max_depth": 3, "eta": 0.3}


@pytest.fixture(scope="module")
def data():
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    return X[:400], y[:400], X[400:], y[400:]


def _files(run_id: str) -> set[str]:
    return {f.path for f in runyard.Client().list_artifacts(run_id)}


def test_train_logs_params_metrics_importances_datasets_and_model(data, tmp_path: Path) -> None:
    X, y, Xv, yv = data
    runyard.xgboost.autolog()
    with runyard.start_run() as run:
        booster = xgb.train(PARAMS, xgb.DMatrix(X, y), 12, evals=[(xgb.DMatrix(Xv, yv), "valid")])
    got = runyard.get_run(run.info.run_id)
    assert dict(got.data.params) == {
        "objective": "binary:logistic",
        "max_depth": "3",
        "eta": "0.3",
        "num_boost_round": "12",
        "maximize": "None",
        "early_stopping_rounds": "None",
        "verbose_eval": "True",
        "custom_metric": "None",
    }
    assert set(got.data.metrics) == {"valid-logloss"}  # no early stopping: nothing more
    history = runyard.Client().get_metric_history(run.info.run_id, "valid-logloss")
    assert sorted(m.step for m in history) == list(range(12))
    assert _files(run.info.run_id) == {
        "feature_importance_weight.json",
        "feature_importance_weight.png",
    }
    weights = json.loads(
        Path(
            runyard.artifacts.download_artifacts(
                run_id=run.info.run_id,
                artifact_path="feature_importance_weight.json",
                dst_path=str(tmp_path),
            )
        ).read_text()
    )
    assert weights == booster.get_score(importance_type="weight")
    contexts = {(i.dataset.name, i.tags["mlflow.data.context"]) for i in got.inputs.dataset_inputs}
    assert contexts == {("dataset", "train"), ("valid", "eval")}

    (output,) = got.outputs.model_outputs
    model = runyard.get_logged_model(output.model_id)
    assert model.status == LoggedModelStatus.LOGGED_MODEL_READY
    assert {m.key for m in model.metrics} == {"valid-logloss"}
    files = Path(runyard.artifacts.download_artifacts(f"models:/{model.model_id}"))
    descriptor = yaml.safe_load((files / "MLmodel").read_text())
    columns = [c["name"] for c in json.loads(descriptor["signature"]["inputs"])]
    assert columns == list(X.columns)  # from the rows the DMatrix was built from
    loaded = runyard.xgboost.load_model(f"runs:/{run.info.run_id}/model")
    assert loaded.predict(xgb.DMatrix(Xv)).tolist() == booster.predict(xgb.DMatrix(Xv)).tolist()


def test_early_stopping_logs_the_stop_and_the_best_iterations_metrics_last(data) -> None:
    X, y, Xv, yv = data
    runyard.xgboost.autolog()
    booster = xgb.train(
        {**PARAMS, "eta": 0.9, "eval_metric": ["logloss", "auc"]},
        xgb.DMatrix(X, y),
        200,
        evals=[(xgb.DMatrix(Xv, yv), "valid")],
        early_stopping_rounds=3,
        verbose_eval=False,
    )
    (run,) = runs_of_default_experiment()
    assert run.info.status == RunStatus.FINISHED
    assert run.data.tags["mlflow.autologging"] == "xgboost"
    trained = booster.num_boosted_rounds()
    assert run.data.metrics["stopped_iteration"] == trained - 1
    assert run.data.metrics["best_iteration"] == booster.best_iteration
    client = runyard.Client()
    history = {m.step: m.value for m in client.get_metric_history(run.info.run_id, "valid-auc")}
    assert sorted(history) == list(range(trained + 1))
    assert history[trained] == history[booster.best_iteration]  # the best model's, last
    assert run.data.metrics["valid-auc"] == history[booster.best_iteration]
    assert run.data.params["eval_metric"] == "['logloss', 'auc']"


def test_a_scikit_learn_api_model_is_logged_as_itself_with_the_runs_params(data) -> None:
    X, y, Xv, yv = data
    runyard.xgboost.autolog()
    classifier = xgb.XGBClassifier(n_estimators=8, max_depth=2)
    classifier.fit(X, y, eval_set=[(Xv, yv)], verbose=False)
    (run,) = runs_of_default_experiment()
    assert run.data.params["num_boost_round"] == "8"
    assert run.data.params["max_depth"] == "2"
    assert set(run.data.metrics) == {"validation_0-logloss"}
    (output,) = run.outputs.model_outputs
    model = runyard.get_logged_model(output.model_id)
    assert model.params == run.data.params
    loaded = runyard.xgboost.load_model(f"models:/{model.model_id}")
    assert isinstance(loaded, xgb.XGBClassifier)
    assert loaded.predict(Xv).tolist() == classifier.predict(Xv).tolist()


def test_options_choose_importances_format_example_and_what_is_logged(data, tmp_path) -> None:
    X, y, _, _ = data
    runyard.xgboost.autolog(
        importance_types=["gain", "cover"],
        log_input_examples=True,
        model_format="json",
        log_datasets=False,
    )
    xgb.train(PARAMS, xgb.DMatrix(X, y), 4)
    (run,) = runs_of_default_experiment()
    assert _files(run.info.run_id) == {
        f"feature_importance_{kind}.{ext}" for kind in ("gain", "cover") for ext in ("json", "png")
    }
    assert run.inputs.dataset_inputs == ()
    (output,) = run.outputs.model_outputs
    files = Path(runyard.artifacts.download_artifacts(f"models:/{output.model_id}"))
    assert {"model.json", "input_example.json"} <= {p.name for p in files.iterdir()}

    runyard.xgboost.autolog(log_models=False)
    xgb.train(PARAMS, xgb.DMatrix(X, y), 4)
    newest = runs_of_default_experiment()[0]
    assert newest.info.run_id != run.info.run_id
    assert newest.outputs.model_outputs == ()
    with pytest.raises(runyard.MlflowException, match="model_format is one of"):
        runyard.xgboost.autolog(model_format="pickle")


def test_metric_names_with_at_are_logged_as_mlflow_renames_them(data) -> None:
    X, y, Xv, yv = data
    runyard.xgboost.autolog(log_models=False)
    xgb.train(
        {**PARAMS, "eval_metric": "error@0.7"},
        xgb.DMatrix(X, y),
        3,
        evals=[(xgb.DMatrix(Xv, yv), "valid")],
    )
    (run,) = runs_of_default_experiment()
    assert set(run.data.metrics) == {"valid-error_at_0.7"}


def test_a_failed_training_fails_its_run_and_its_model(data) -> None:
    X, y, _, _ = data
    runyard.xgboost.autolog()
    with pytest.raises(xgb.core.XGBoostError):
        xgb.train({**PARAMS, "objective": "no-such-objective"}, xgb.DMatrix(X, y), 3)
    (run,) = runs_of_default_experiment()
    assert run.info.status == RunStatus.FAILED
    (model,) = runyard.search_logged_models()
    assert model.status == LoggedModelStatus.LOGGED_MODEL_UPLOAD_FAILED


def test_a_matrix_starts_no_run_and_disable_restores_xgboost(data) -> None:
    X, y, _, _ = data
    original_train, original_init = xgb.train, xgb.DMatrix.__init__
    runyard.xgboost.autolog()
    assert xgb.train is not original_train
    xgb.DMatrix(X, y)
    assert runs_of_default_experiment() == []
    runyard.xgboost.autolog(disable=True)
    assert xgb.train is original_train and xgb.DMatrix.__init__ is original_init
    xgb.train(PARAMS, xgb.DMatrix(X, y), 2)
    assert runs_of_default_experiment() == []


def test_metrics_after_training_go_to_the_estimators_run_whatever_scikit_learn_is_told(
    data,
) -> None:
    from sklearn import metrics

    X, y, Xv, yv = data
    runyard.sklearn.autolog(log_post_training_metrics=False)
    runyard.xgboost.autolog()
    classifier = xgb.XGBClassifier(n_estimators=4, max_depth=2).fit(X, y)
    accuracy = metrics.accuracy_score(yv, classifier.predict(Xv))
    (run,) = runs_of_default_experiment()
    assert run.data.metrics["accuracy_score_Xv"] == pytest.approx(accuracy)
    contexts = sorted(i.tags["mlflow.data.context"] for i in run.inputs.dataset_inputs)
    assert contexts == ["eval", "train"]
    (output,) = run.outputs.model_outputs
    model = runyard.get_logged_model(output.model_id)
    assert "accuracy_score_Xv" in {m.key for m in model.metrics}

    runyard.xgboost.autolog(disable=True)
    metrics.accuracy_score(yv, classifier.predict(Xv))  # followed no more
    classifier.score(Xv, yv)
    assert set(runyard.get_run(run.info.run_id).data.metrics) == {"accuracy_score_Xv"}


def test_either_integration_can_be_turned_off_first(data) -> None:
    """Both follow metric functions; turning scikit-learn's off leaves XGBoost's on, and once
    both are off the functions are scikit-learn's own again."""
    from sklearn import metrics

    X, y, Xv, yv = data
    original = metrics.accuracy_score
    runyard.sklearn.autolog()
    runyard.xgboost.autolog()
    runyard.sklearn.autolog(disable=True)
    classifier = xgb.XGBClassifier(n_estimators=4, max_depth=2).fit(X, y)
    metrics.accuracy_score(yv, classifier.predict(Xv))
    (run,) = runs_of_default_experiment()
    assert "accuracy_score_Xv" in run.data.metrics
    runyard.xgboost.autolog(disable=True)
    assert metrics.accuracy_score is original
    runyard.xgboost.autolog()
    runyard.sklearn.autolog()
    runyard.xgboost.autolog(disable=True)
    runyard.sklearn.autolog(disable=True)
    assert metrics.accuracy_score is original
