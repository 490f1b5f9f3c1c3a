"""MLflow's autolog options beyond the basics, on real estimators: parameter searches with
their child runs, ``exclusive``, ``pos_label``, ``serialization_format``, untested library
versions, the options accepted but not acted on, and ``exclude_flavors``."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import runyard
import yaml
from runyard.autolog import options
from runyard.errors import InvalidParameterValue

from tests.requirements import import_or_skip

import_or_skip("sklearn", "sklearn")

from sklearn.datasets import load_breast_cancer  # noqa: E402
from sklearn.ensemble import RandomForestClassifier  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import precision_score  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402

from tests.autolog.conftest import runs_of_default_experiment  # noqa: E402

PARENT = "mlflow.parentRunId"


@pytest.fixture(scope="module")
def data():
    return load_breast_cancer(return_X_y=True, as_frame=True)


def _search() -> GridSearchCV:
    forest = RandomForestClassifier(n_estimators=5, random_state=0)
    return GridSearchCV(forest, {"max_depth": [1, 2, 4]}, cv=2)


def test_a_parameter_search_logs_its_best_candidates_as_child_runs(data, tmp_path) -> None:
    X, y = data
    runyard.sklearn.autolog(max_tuning_runs=2)
    search = _search().fit(X, y)
    runs = runs_of_default_experiment()
    (parent,) = [r for r in runs if PARENT not in r.data.tags]
    children = [r for r in runs if r.data.tags.get(PARENT) == parent.info.run_id]
    assert len(runs) == 3 and len(children) == 2
    assert parent.data.tags["estimator_name"] == "GridSearchCV"
    assert "estimator__n_estimators" not in parent.data.params  # the search's own params
    assert parent.data.params["best_max_depth"] == str(search.best_params_["max_depth"])
    assert parent.data.metrics["best_cv_score"] == pytest.approx(search.best_score_)

    results = search.cv_results_
    best_two = sorted(range(3), key=lambda i: results["rank_test_score"][i])[:2]
    expected_depths = sorted(str(results["params"][i]["max_depth"]) for i in best_two)
    assert sorted(c.data.params["max_depth"] for c in children) == expected_depths
    (train,) = parent.inputs.dataset_inputs
    for child in children:
        assert [d.dataset.digest for d in child.inputs.dataset_inputs] == [train.dataset.digest]
        assert child.info.status == "FINISHED"
        assert child.data.params["n_estimators"] == "5"  # the seed's params, then the candidate's
        assert child.data.tags["estimator_name"] == "RandomForestClassifier"
        assert child.data.tags["mlflow.autologging"] == "sklearn"
        assert {"mean_test_score", "std_test_score", "rank_test_score", "mean_fit_time"} <= set(
            child.data.metrics
        )
        assert not any(key.startswith("split") for key in child.data.metrics)
        depth = int(child.data.params["max_depth"])
        index = [p["max_depth"] for p in results["params"]].index(depth)
        assert child.data.metrics["mean_test_score"] == pytest.approx(
            results["mean_test_score"][index]
        )

    table = runyard.artifacts.download_artifacts(
        f"runs:/{parent.info.run_id}/cv_results.csv", dst_path=tmp_path
    )
    rows = list(csv.DictReader(Path(table).read_text().splitlines()))
    assert len(rows) == 3 and float(rows[0]["mean_test_score"]) == pytest.approx(
        results["mean_test_score"][0]
    )

    models = {m.name: m for m in runyard.search_logged_models()}
    assert set(models) == {"model", "best_estimator"}
    assert models["model"].params["best_max_depth"] == str(search.best_params_["max_depth"])
    best = runyard.get_logged_model(models["best_estimator"].model_id)
    assert {m.key for m in best.metrics} >= {"mean_test_score"}  # the best candidate's scores
    reloaded = runyard.sklearn.load_model(best.model_uri)
    assert reloaded.predict(X).tolist() == search.best_estimator_.predict(X).tolist()


def test_max_tuning_runs_none_logs_every_candidate_and_a_bad_one_is_refused(data) -> None:
    X, y = data
    runyard.sklearn.autolog(max_tuning_runs=None, log_models=False)
    _search().fit(X, y)
    runs = runs_of_default_experiment()
    assert len(runs) == 4 and sum(PARENT in r.data.tags for r in runs) == 3
    for wrong in (-1, 1.5, True):
        with pytest.raises(ValueError, match="max_tuning_runs"):
            runyard.sklearn.autolog(max_tuning_runs=wrong)


def test_exclusive_leaves_the_users_runs_alone(data) -> None:
    X, y = data
    runyard.sklearn.autolog(exclusive=True, log_models=False)
    with runyard.start_run() as mine:
        LogisticRegression(solver="liblinear").fit(X, y)
    assert runyard.get_run(mine.info.run_id).data.params == {}
    LogisticRegression(solver="liblinear").fit(X, y)  # no run of the user's: autologging's own
    runs = runs_of_default_experiment()
    (own,) = [r for r in runs if r.info.run_id != mine.info.run_id]
    assert own.data.tags["mlflow.autologging"] == "sklearn" and own.data.params
    runyard.sklearn.autolog(exclusive=False, log_models=False)
    with runyard.start_run() as joined:
        LogisticRegression(solver="liblinear").fit(X, y)
    assert runyard.get_run(joined.info.run_id).data.params


def test_pos_label_scores_one_class_as_mlflow_does(data) -> None:
    X, y = data
    labels = y.map({0: "benign", 1: "malignant"})
    runyard.sklearn.autolog(pos_label="benign", log_models=False)
    model = LogisticRegression(solver="liblinear").fit(X, labels)
    (run,) = runs_of_default_experiment()
    expected = precision_score(labels, model.predict(X), pos_label="benign")
    assert run.data.metrics["training_precision_score"] == pytest.approx(expected)
    weighted = precision_score(labels, model.predict(X), average="weighted")
    assert expected != pytest.approx(weighted)  # the option made a difference


@pytest.mark.parametrize("kind", ["cloudpickle", "skops"])
def test_serialization_format_is_written_and_read_back(data, tmp_path, kind: str) -> None:
    import_or_skip(kind, kind)
    X, y = data
    runyard.sklearn.autolog(serialization_format=kind)
    model = LogisticRegression(solver="liblinear").fit(X, y)
    (logged,) = runyard.search_logged_models()
    files = Path(runyard.artifacts.download_artifacts(logged.model_uri, dst_path=tmp_path))
    conf = yaml.safe_load((files / "MLmodel").read_text())["flavors"]["sklearn"]
    assert conf["serialization_format"] == kind
    assert (files / conf["pickled_model"]).is_file()
    assert runyard.sklearn.load_model(logged.model_uri).predict(X).tolist() == (
        model.predict(X).tolist()
    )
    with pytest.raises(InvalidParameterValue, match="serialization_format"):
        runyard.sklearn.autolog(serialization_format="joblib")


def test_an_untested_version_warns_and_with_the_option_stays_off(data, monkeypatch) -> None:
    X, y = data
    monkeypatch.setitem(options.SUPPORTED_VERSIONS, "sklearn", ((0, 1), (0, 2)))
    with pytest.warns(options.UnsupportedVersionWarning, match="autologging stays off"):
        runyard.sklearn.autolog(disable_for_unsupported_versions=True)
    LogisticRegression(solver="liblinear").fit(X, y)
    assert runs_of_default_experiment() == []
    with pytest.warns(options.UnsupportedVersionWarning, match="may fail to log"):
        runyard.sklearn.autolog(log_models=False)
    LogisticRegression(solver="liblinear").fit(X, y)
    assert len(runs_of_default_experiment()) == 1


def test_the_training_data_is_a_dataset_input_the_metrics_name(data) -> None:
    X, y = data
    runyard.sklearn.autolog(log_models=False)
    LogisticRegression(solver="liblinear").fit(X, y)
    (run,) = runs_of_default_experiment()
    (used,) = run.inputs.dataset_inputs
    assert used.tags == {"mlflow.data.context": "train"}
    assert used.dataset.name == "dataset" and used.dataset.source_type == "code"
    assert json.loads(used.dataset.profile) == {"num_rows": len(X), "num_elements": X.size}
    history = runyard.Client().get_metric_history(run.info.run_id, "training_score")
    assert [(p.dataset_name, p.dataset_digest) for p in history] == [
        ("dataset", used.dataset.digest)
    ]
    runyard.sklearn.autolog(log_models=False, log_datasets=False)
    LogisticRegression(solver="liblinear").fit(X.values, y.values)
    latest = max(runs_of_default_experiment(), key=lambda r: r.info.start_time)
    assert latest.info.run_id != run.info.run_id and not latest.inputs.dataset_inputs


def test_mlflows_autolog_takes_every_option_and_excludes_flavors() -> None:
    applied = runyard.autolog(
        log_input_examples=False,
        log_model_signatures=True,
        log_models=False,
        log_datasets=False,
        log_traces=False,
        exclusive=False,
        disable_for_unsupported_versions=False,
        silent=False,
        extra_tags={"team": "a"},
        exclude_flavors=["lightgbm", "xgboost"],
    )
    assert applied == ["sklearn"]


def test_metrics_computed_after_training_are_logged_as_mlflow_names_them(data, tmp_path) -> None:
    import sklearn.metrics

    X, y = data
    X_train, X_test, y_train, y_test = X[:400], X[400:], y[:400], y[400:]
    runyard.sklearn.autolog()
    model = LogisticRegression(solver="liblinear").fit(X_train, y_train)
    predictions = model.predict(X_test)
    accuracy = sklearn.metrics.accuracy_score(y_test, predictions)
    sklearn.metrics.accuracy_score(y_test, predictions, normalize=False)  # a second call
    score = model.score(X_test, y_test)
    unfollowed = LogisticRegression(solver="liblinear")
    with runyard.start_run() as mine:  # fitted while autologging was off: not followed
        runyard.sklearn.autolog(disable=True)
        unfollowed.fit(X_train, y_train)
    runyard.sklearn.autolog()
    sklearn.metrics.f1_score(y_test, unfollowed.predict(X_test))

    (run,) = [r for r in runs_of_default_experiment() if r.info.run_id != mine.info.run_id]
    metrics = run.data.metrics
    assert metrics["accuracy_score_X_test"] == pytest.approx(accuracy)
    assert metrics["accuracy_score-2_X_test"] == pytest.approx(accuracy * len(X_test))
    assert metrics["LogisticRegression_score_X_test"] == pytest.approx(score)
    assert not any(key.startswith("f1_score") for key in metrics)
    assert runyard.get_run(mine.info.run_id).data.metrics == {}
    info = runyard.artifacts.load_dict(f"runs:/{run.info.run_id}/metric_info.json")
    assert info["accuracy_score_X_test"] == "accuracy_score(y_true=y_test, y_pred=predictions)"
    assert info["LogisticRegression_score_X_test"] == (
        "LogisticRegression.score(X=X_test, y=y_test)"
    )
    (logged,) = runyard.search_logged_models()
    model_metrics = {m.key for m in runyard.get_logged_model(logged.model_id).metrics}
    assert {"accuracy_score_X_test", "LogisticRegression_score_X_test"} <= model_metrics


def test_post_training_metrics_can_be_turned_off(data) -> None:
    import sklearn.metrics

    X, y = data
    runyard.sklearn.autolog(log_post_training_metrics=False, log_models=False)
    model = LogisticRegression(solver="liblinear").fit(X, y)
    sklearn.metrics.accuracy_score(y, model.predict(X))
    model.score(X, y)
    (run,) = runs_of_default_experiment()
    assert not any(key.endswith("_X") for key in run.data.metrics)


def test_patching_keeps_methods_that_exist_only_sometimes_absent(data) -> None:
    """scikit-learn's code asks hasattr(estimator, "predict_proba") to choose how to score:
    autologging must not make a method appear that the instance does not have."""
    import sklearn.metrics
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    X, y = data
    runyard.sklearn.autolog(log_models=False)
    assert not hasattr(SVC(), "predict_proba") and hasattr(SVC(probability=True), "predict_proba")
    assert not hasattr(make_pipeline(StandardScaler()), "predict")
    pipeline = make_pipeline(StandardScaler(), LogisticRegression(solver="liblinear")).fit(X, y)
    X_check = X.head(50)
    sklearn.metrics.accuracy_score(y.head(50), pipeline.predict(X_check))  # through the descriptor
    (run,) = runs_of_default_experiment()
    assert run.data.tags["estimator_name"] == "Pipeline"
    assert "accuracy_score_X_check" in run.data.metrics


def test_model_selection_helpers_log_nothing_as_in_mlflow(data) -> None:
    """cross_val_score and its kin fit copies of an estimator on folds: those fits, and the
    scores computed on them, are not the user's trainings and must not overwrite the run's
    params and metrics or leave runs behind."""
    from sklearn import model_selection

    X, y = data
    runyard.sklearn.autolog()
    estimator = LogisticRegression(solver="liblinear")
    with runyard.start_run() as mine:
        scores = model_selection.cross_val_score(estimator, X, y, cv=2)
        model_selection.cross_validate(estimator, X, y, cv=2, return_estimator=True)
        model_selection.cross_val_predict(estimator, X, y, cv=2)
        model_selection.learning_curve(estimator, X, y, cv=2, train_sizes=[0.5, 1.0])
        model_selection.validation_curve(
            estimator, X, y, param_name="C", param_range=[0.1, 1.0], cv=2
        )
        model_selection.permutation_test_score(estimator, X, y, cv=2, n_permutations=2)
    assert len(scores) == 2
    (run,) = runs_of_default_experiment()
    assert run.info.run_id == mine.info.run_id
    assert run.data.params == {} and run.data.metrics == {}
    assert runyard.search_logged_models() == []
    estimator.fit(X, y)  # a training of the user's own is still logged
    (trained,) = [r for r in runs_of_default_experiment() if r.info.run_id != mine.info.run_id]
    assert trained.data.params["C"] == "1.0"
