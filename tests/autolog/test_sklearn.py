"""scikit-learn autologging on real estimators and the breast-cancer data set."""

from __future__ import annotations

import json
import pickle
import warnings
from pathlib import Path

import pytest
import runyard
import yaml
from runyard.autolog.patch import AutologgingWarning

from tests.requirements import import_or_skip

import_or_skip("sklearn", "sklearn")

from sklearn.datasets import load_breast_cancer  # noqa: E402
from sklearn.ensemble import RandomForestClassifier  # noqa: E402
from sklearn.linear_model import LinearRegression, LogisticRegression  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from tests.autolog.conftest import runs_of_default_experiment  # noqa: E402

CLASSIFIER_METRICS = {
    "training_score",
    "training_accuracy_score",
    "training_precision_score",
    "training_recall_score",
    "training_f1_score",
    "training_log_loss",
    "training_roc_auc",
}


#: A binary classifier's charts, as MLflow names them.
BINARY_CHARTS = {
    "training_confusion_matrix.png",
    "training_roc_curve.png",
    "training_precision_recall_curve.png",
}


@pytest.fixture(scope="module")
def data():
    return load_breast_cancer(return_X_y=True, as_frame=True)


def artifact_paths(run_id: str, path: str | None = None) -> set[str]:
    return {f.path for f in runyard.Client().list_artifacts(run_id, path)}


def test_random_forest_logs_params_tags_metrics_model_and_importances(data, tmp_path) -> None:
    X, y = data
    runyard.sklearn.autolog()
    model = RandomForestClassifier(n_estimators=10, max_depth=4, random_state=0)
    assert model.fit(X, y) is model
    score = model.score(X, y)  # after training: a post-training metric, as in MLflow
    after_training = {"RandomForestClassifier_score_X"}
    (run,) = runs_of_default_experiment()
    rid = run.info.run_id
    assert run.info.status == "FINISHED"
    assert run.data.tags["mlflow.autologging"] == "sklearn"
    assert run.data.tags["estimator_name"] == "RandomForestClassifier"
    assert run.data.tags["estimator_class"] == "sklearn.ensemble._forest.RandomForestClassifier"
    assert dict(run.data.params) == {k: str(v) for k, v in model.get_params(deep=True).items()}
    assert set(run.data.metrics) == CLASSIFIER_METRICS | after_training
    assert run.data.metrics["training_score"] == pytest.approx(score)
    assert run.data.metrics["RandomForestClassifier_score_X"] == pytest.approx(score)
    assert artifact_paths(rid) == {
        "estimator.html",
        "feature_importances.json",
        "feature_importances.png",
        "metric_info.json",
        *BINARY_CHARTS,
    }
    # The model is MLflow 3's logged model, the run's output, reached by its id or the run.
    (logged,) = runyard.search_logged_models()
    assert (logged.name, logged.source_run_id) == ("model", rid)
    # As MLflow 3: the model carries the estimator's params, and the training metrics are its.
    assert logged.params == dict(run.data.params)
    assert {m.key for m in logged.metrics} == CLASSIFIER_METRICS | after_training
    assert [o.model_id for o in run.outputs.model_outputs] == [logged.model_id]
    files = Path(
        runyard.artifacts.download_artifacts(
            f"models:/{logged.model_id}", dst_path=tmp_path / "model"
        )
    )
    assert {p.name for p in files.iterdir()} == {
        "model.pkl",
        "MLmodel",
        "requirements.txt",
        "python_env.yaml",
        "conda.yaml",
    }
    with open(files / "model.pkl", "rb") as fh:
        loaded = pickle.load(fh)
    assert (loaded.predict(X) == model.predict(X)).all()
    by_run = runyard.sklearn.load_model(f"runs:/{rid}/model")
    assert (by_run.predict(X) == model.predict(X)).all()
    descriptor = yaml.safe_load((files / "MLmodel").read_text())
    assert descriptor["run_id"] == rid and descriptor["model_id"] == logged.model_id
    inputs = json.loads(descriptor["signature"]["inputs"])  # from the training data, as MLflow
    assert [column["name"] for column in inputs] == list(X.columns)
    assert descriptor["flavors"]["sklearn"]["pickled_model"] == "model.pkl"
    local = runyard.Client().download_artifacts(rid, "", tmp_path / "run")
    page = Path(local, "estimator.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "RandomForestClassifier" in page
    importances = json.loads(Path(local, "feature_importances.json").read_text())
    assert list(importances) == list(X.columns)
    assert importances["mean radius"] == pytest.approx(model.feature_importances_[0])


def test_each_autologged_model_is_registered_as_a_new_version_when_asked(data) -> None:
    X, y = data
    runyard.sklearn.autolog(registered_model_name="cancer")
    first = LinearRegression().fit(X, y)
    LinearRegression(fit_intercept=False).fit(X, y)
    versions = sorted(
        runyard.search_model_versions(filter_string="name='cancer'"), key=lambda v: int(v.version)
    )
    assert [int(v.version) for v in versions] == [1, 2]
    loaded = runyard.sklearn.load_model("models:/cancer/1")
    assert loaded.predict(X).tolist() == first.predict(X).tolist()
    runyard.sklearn.autolog(log_models=False)  # the name is not kept for a later call


def test_mlflows_autolog_options_shape_the_model_and_the_run(data, tmp_path) -> None:
    X, y = data
    runyard.autolog(
        log_input_examples=True,
        log_model_signatures=False,
        extra_tags={"team": "vision"},
        silent=True,
    )
    LinearRegression().fit(X, y)
    (run,) = runs_of_default_experiment()
    assert run.data.tags["team"] == "vision" and run.data.tags["mlflow.autologging"] == "sklearn"
    (model,) = runyard.search_logged_models()
    files = Path(runyard.artifacts.download_artifacts(model.model_uri, dst_path=tmp_path / "m"))
    descriptor = yaml.safe_load((files / "MLmodel").read_text())
    assert "signature" not in descriptor
    example = json.loads((files / "input_example.json").read_text())
    assert example["columns"] == list(X.columns) and len(example["data"]) == 5

    unpicklable = LinearRegression()
    unpicklable.hook = lambda: None  # the model cannot be logged: silent says nothing
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        unpicklable.fit(X, y)
    runyard.sklearn.autolog()  # not silent any more
    with pytest.warns(AutologgingWarning, match="autologging failed"):
        unpicklable.fit(X, y)


def test_coef_importances_and_user_metric_in_the_same_run(data) -> None:
    X, y = data
    runyard.sklearn.autolog(log_models=False)
    with runyard.start_run() as run:
        LogisticRegression(solver="liblinear").fit(X.values, y.values)
        runyard.log_metric("test_score", 0.9)
    got = runyard.get_run(run.info.run_id)
    assert got.data.metrics["test_score"] == 0.9
    assert set(got.data.metrics) >= CLASSIFIER_METRICS
    assert artifact_paths(run.info.run_id) == {
        "estimator.html",
        "feature_importances.json",
        "feature_importances.png",
        *BINARY_CHARTS,
    }


def test_regressor_metrics(data) -> None:
    X, y = data
    runyard.sklearn.autolog(log_models=False)
    LinearRegression().fit(X, y)
    (run,) = runs_of_default_experiment()
    assert set(run.data.metrics) == {
        "training_score",
        "training_mean_squared_error",
        "training_root_mean_squared_error",
        "training_mean_absolute_error",
        "training_r2_score",
    }


def test_meta_estimator_logs_once(data) -> None:
    X, y = data
    runyard.sklearn.autolog(log_models=False)
    pipeline = make_pipeline(StandardScaler(), RandomForestClassifier(n_estimators=5))
    pipeline.fit(X, y)
    (run,) = runs_of_default_experiment()
    assert run.data.tags["estimator_name"] == "Pipeline"
    assert run.data.params["randomforestclassifier__n_estimators"] == "5"


class Verbose(LogisticRegression):
    """An estimator with a param value longer than a store accepts (6000 characters)."""

    def __init__(self, long_param: str = "y" * 7000, max_iter: int = 5000) -> None:
        self.long_param = long_param
        super().__init__(max_iter=max_iter, solver="liblinear")


def test_over_long_param_values_are_cut_not_fatal(data) -> None:
    from runyard.autolog.patch import safe_patch
    from runyard.autolog.sklearn import _log_fit

    X, y = data
    safe_patch(Verbose, "fit", _log_fit, integration="sklearn")
    with pytest.warns(UserWarning, match="truncated"):
        Verbose().fit(X.values, y.values)
    (run,) = runs_of_default_experiment()
    assert run.data.params["long_param"] == "y" * 6000
    assert run.data.tags["estimator_name"] == "Verbose"


def test_disable_restores_the_original_fit() -> None:
    runyard.sklearn.autolog()
    assert "fit" in vars(RandomForestClassifier)
    runyard.sklearn.autolog(disable=True)
    assert "fit" not in vars(RandomForestClassifier)
    assert not hasattr(RandomForestClassifier.fit, "__runyard_original__")


def test_autolog_applies_to_installed_frameworks() -> None:
    import runyard.autolog

    assert runyard.autolog.autolog() == ["sklearn", "lightgbm", "xgboost"]
    import lightgbm

    assert hasattr(lightgbm.train, "__runyard_original__")
    assert runyard.autolog.autolog(disable=True) == ["sklearn", "lightgbm", "xgboost"]
    assert not hasattr(lightgbm.train, "__runyard_original__")


def test_fit_transform_and_fit_predict_log_the_outer_estimator_once(data) -> None:
    """A pipeline's fit_transform calls its steps' fit_transform, not its own fit: it is a
    training of its own, as MLflow patches it."""
    from sklearn.cluster import KMeans
    from sklearn.decomposition import PCA

    X, _ = data
    runyard.sklearn.autolog(log_models=False)
    reduced = make_pipeline(StandardScaler(), PCA(2)).fit_transform(X)
    assert reduced.shape == (len(X), 2)
    labels = KMeans(n_clusters=2, n_init=1, random_state=0).fit_predict(X)
    assert len(labels) == len(X)
    names = sorted(r.data.tags["estimator_name"] for r in runs_of_default_experiment())
    assert names == ["KMeans", "Pipeline"]
