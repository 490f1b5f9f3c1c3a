"""The same script under MLflow's autologging and under runyard's logs the same runs, params,
metrics and logged models: a user switching the import sees no difference in what a
training, data preparation, an evaluation helper, a scorer or early stopping leaves behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.requirements import installed_or_skip

SCRIPT = textwrap.dedent(
    """
    import json, sys
    if sys.argv[1] == "mlflow":
        import mlflow as lib
    else:
        import runyard as lib
    lib.set_tracking_uri(sys.argv[2])
    from sklearn import model_selection
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler
    from sklearn import metrics

    X, y = load_breast_cancer(return_X_y=True)
    X = X / X.max(axis=0)
    X_train, X_test, y_train, y_test = X[:400], X[400:], y[:400], y[400:]
    lib.sklearn.autolog(log_models=False, log_datasets=False)
    estimator = LogisticRegression(C=0.5, max_iter=200)
    with lib.start_run() as evaluated:  # evaluation helpers: fits on folds, logged nowhere
        model_selection.cross_val_score(estimator, X, y, cv=2)
        model_selection.cross_validate(estimator, X, y, cv=2)
        model_selection.cross_val_predict(estimator, X, y, cv=2)
    StandardScaler().fit(X_train)  # data preparation on its own: no run in either
    model = LogisticRegression(C=0.5, max_iter=200).fit(X_train, y_train)
    trained = lib.last_active_run()
    metrics.accuracy_score(y_test, model.predict(X_test))  # through the module: followed
    model.score(X_test, y_test)
    metrics.get_scorer("accuracy")(model, X_test, y_test)  # scorers: followed by neither
    metrics.make_scorer(metrics.f1_score)(model, X_test, y_test)
    client = lib.MlflowClient()
    runs = client.search_runs([evaluated.info.experiment_id])

    def data(run_id):
        run = client.get_run(run_id)
        return {"params": sorted(run.data.params), "metrics": sorted(run.data.metrics)}

    print(json.dumps({
        "runs": len(runs),
        "evaluated": data(evaluated.info.run_id),
        "trained": data(trained.info.run_id),
    }))
    """
)


SEARCH_SCRIPT = textwrap.dedent(
    """
    import json, sys
    if sys.argv[1] == "mlflow":
        import mlflow as lib
    else:
        import runyard as lib
    lib.set_tracking_uri(sys.argv[2])
    from sklearn import metrics
    from sklearn.datasets import load_breast_cancer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import GridSearchCV

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X_train, X_test, y_train, y_test = X[:400], X[400:], y[:400], y[400:]
    lib.sklearn.autolog(max_tuning_runs=2)
    forest = RandomForestClassifier(n_estimators=5, random_state=0)
    search = GridSearchCV(forest, {"max_depth": [1, 2, 4]}, cv=2).fit(X_train, y_train)
    metrics.accuracy_score(y_test, search.predict(X_test))
    client = lib.MlflowClient()
    experiment_id = lib.last_active_run().info.experiment_id
    #: Logged by runyard only: not compared.
    charts = ("feature_importances.json", "feature_importances.png")

    def run_data(run):
        inputs = sorted(
            (d.dataset.name, d.dataset.digest, d.dataset.source_type,
             sorted(t.value for t in d.tags) if isinstance(d.tags, list)
             else sorted(d.tags.values()))
            for d in run.inputs.dataset_inputs
        )
        files = [f.path for f in client.list_artifacts(run.info.run_id)]
        return {
            "child": "mlflow.parentRunId" in run.data.tags,
            "params": dict(run.data.params),
            "metrics": sorted(run.data.metrics),
            "inputs": inputs,
            "artifacts": sorted(f for f in files if f not in charts),
        }

    runs = [run_data(r) for r in client.search_runs([experiment_id])]
    models = [
        {
            "name": m.name,
            "params": sorted(m.params),
            "metrics": sorted({(x.key, x.dataset_name) for x in m.metrics}),
        }
        for m in lib.search_logged_models(experiment_ids=[experiment_id], output_format="list")
    ]
    print(json.dumps({
        "runs": sorted(runs, key=lambda r: (r["child"], json.dumps(r["params"]))),
        "models": sorted(models, key=lambda m: m["name"]),
    }))
    """
)

LIGHTGBM_SCRIPT = textwrap.dedent(
    """
    import json, sys
    if sys.argv[1] == "mlflow":
        import mlflow as lib
    else:
        import runyard as lib
    lib.set_tracking_uri(sys.argv[2])
    import lightgbm as lgb
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_valid, y_train, y_valid = X[:400], X[400:], y[:400], y[400:]
    lib.lightgbm.autolog()
    params = {"objective": "binary", "verbose": -1, "num_leaves": 7, "learning_rate": 0.9}
    booster = lgb.train(
        params,
        lgb.Dataset(X_train, y_train),
        200,
        valid_sets=[lgb.Dataset(X_valid, y_valid)],
        valid_names=["valid"],
        callbacks=[lgb.early_stopping(3, verbose=False)],
    )
    stopped_early = lib.last_active_run().info.run_id
    estimator = lgb.LGBMClassifier(n_estimators=20, verbose=-1)
    estimator.fit(X_train, y_train, eval_set=[(X_valid, y_valid)])
    scikit_api = lib.last_active_run().info.run_id
    client = lib.MlflowClient()

    def data(run_id, key):
        run = client.get_run(run_id)
        (output,) = run.outputs.model_outputs
        model = client.get_logged_model(output.model_id)
        history = client.get_metric_history(run_id, key)
        return {
            "params": dict(run.data.params),
            "metrics": sorted(run.data.metrics),
            "tail": sorted((p.step, round(p.value, 9)) for p in history)[-3:],
            "model_params": sorted(model.params),
            "model_metrics": sorted({m.key for m in model.metrics}),
        }

    print(json.dumps({
        "stopped_early": data(stopped_early, "valid-binary_logloss"),
        "scikit_api": data(scikit_api, "valid_0-binary_logloss"),
    }))
    """
)

XGBOOST_SCRIPT = textwrap.dedent(
    """
    import json, sys
    from urllib.parse import urlparse
    if sys.argv[1] == "mlflow":
        import mlflow as lib
    else:
        import runyard as lib
    # SQLite, not the file store: MLflow's file store leaves out of a history the point that
    # names its dataset (the best iteration's, after early stopping)
    lib.set_tracking_uri("sqlite:///" + urlparse(sys.argv[2]).path + ".db")
    import xgboost as xgb
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X_train, X_valid, y_train, y_valid = X[:400], X[400:], y[:400], y[400:]
    lib.xgboost.autolog()
    params = {"objective": "binary:logistic", "max_depth": 3, "eta": 0.9,
              "eval_metric": ["logloss", "auc"]}
    train = xgb.DMatrix(X_train, y_train)
    valid = xgb.DMatrix(X_valid, y_valid)
    xgb.train(params, train, 200, evals=[(train, "train"), (valid, "valid")],
              early_stopping_rounds=3, verbose_eval=False)
    stopped_early = lib.last_active_run().info.run_id
    xgb.train({"max_depth": 2}, xgb.DMatrix(X_train.values, y_train.values), 5)
    plain = lib.last_active_run().info.run_id
    estimator = xgb.XGBClassifier(n_estimators=20, max_depth=2)
    estimator.fit(X_train, y_train, eval_set=[(X_valid, y_valid)], verbose=False)
    scikit_api = lib.last_active_run().info.run_id
    from sklearn import metrics
    metrics.accuracy_score(y_valid, estimator.predict(X_valid))  # after training: followed
    estimator.score(X_valid, y_valid)
    client = lib.MlflowClient()

    def data(run_id, key):
        run = client.get_run(run_id)
        (output,) = run.outputs.model_outputs
        model = client.get_logged_model(output.model_id)
        history = client.get_metric_history(run_id, key) if key else []
        inputs = [(i.dataset.name, i.dataset.digest, [t.value for t in i.tags]
                   if isinstance(i.tags, list) else sorted(i.tags.values()))
                  for i in run.inputs.dataset_inputs]
        return {
            "params": dict(run.data.params),
            "metrics": sorted(run.data.metrics),
            "tail": sorted((p.step, round(p.value, 9)) for p in history)[-3:],
            "artifacts": sorted(f.path for f in client.list_artifacts(run_id)),
            "inputs": sorted(inputs),
            "model_params": sorted(model.params),
            "model_metrics": sorted({m.key for m in model.metrics or []}),
            "model_files": sorted(
                f.path for f in client.list_logged_model_artifacts(model.model_id)
            ),
        }

    print(json.dumps({
        "stopped_early": data(stopped_early, "valid-logloss"),
        "plain": data(plain, None),
        "scikit_api": data(scikit_api, "validation_0-logloss"),
    }))
    """
)


def _logged_by(library: str, store: Path, script: str = SCRIPT) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNYARD_", "MLFLOW_"))}
    env["MLFLOW_ALLOW_FILE_STORE"] = "true"  # MLflow 3 deprecates its file store, still has it
    done = subprocess.run(
        [sys.executable, "-c", script, library, store.as_uri()],
        capture_output=True,
        text=True,
        env=env,
        cwd=store.parent,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _logged_by_both(tmp_path: Path, script: str) -> tuple[dict, dict]:
    """What ``script`` logged under mlflow, then under runyard, each to a fresh file store."""
    found = []
    for library in ("mlflow", "runyard"):
        (tmp_path / library).mkdir()
        found.append(_logged_by(library, tmp_path / library / "mlruns", script))
    return found[0], found[1]


@pytest.mark.slow
def test_runyard_logs_what_mlflow_logs_for_trainings_helpers_and_scorers(tmp_path: Path) -> None:
    installed_or_skip("mlflow", "mlflow")
    installed_or_skip("sklearn", "sklearn")
    theirs, ours = _logged_by_both(tmp_path, SCRIPT)
    assert ours == theirs
    assert theirs["runs"] == 2 and theirs["evaluated"] == {"params": [], "metrics": []}
    assert "C" in theirs["trained"]["params"]
    assert {"accuracy_score_X_test", "LogisticRegression_score_X_test"} <= set(
        theirs["trained"]["metrics"]
    )


@pytest.mark.slow
def test_lightgbm_logs_what_mlflow_logs_with_early_stopping_and_the_scikit_learn_api(
    tmp_path: Path,
) -> None:
    installed_or_skip("mlflow", "mlflow")
    installed_or_skip("lightgbm", "lightgbm")
    theirs, ours = _logged_by_both(tmp_path, LIGHTGBM_SCRIPT)
    assert ours == theirs
    stopped = theirs["stopped_early"]
    assert {"stopped_iteration", "best_iteration"} <= set(stopped["metrics"])
    assert "valid_names" not in stopped["params"] and stopped["model_params"] == []
    assert "stopped_iteration" not in theirs["scikit_api"]["metrics"]
    assert "num_leaves" in theirs["scikit_api"]["model_params"]


@pytest.mark.slow
def test_a_parameter_search_logs_what_mlflow_logs(tmp_path: Path) -> None:
    """Runs, child runs, params, metrics, dataset inputs (digests included), artifacts (the
    classifier's charts among them) and logged models, but for runyard's importances."""
    installed_or_skip("mlflow", "mlflow")
    installed_or_skip("sklearn", "sklearn")
    theirs, ours = _logged_by_both(tmp_path, SEARCH_SCRIPT)
    assert ours == theirs
    (parent,) = [r for r in theirs["runs"] if not r["child"]]
    assert {"estimator.html", "cv_results.csv", "training_roc_curve.png"} <= set(
        parent["artifacts"]
    )
    assert sorted(c for *_, c in parent["inputs"]) == [["eval"], ["train"]]
    by_name = {m["name"]: m for m in theirs["models"]}
    assert ["best_cv_score", "dataset"] in by_name["model"]["metrics"]


@pytest.mark.slow
def test_xgboost_logs_what_mlflow_logs_with_early_stopping_and_the_scikit_learn_api(
    tmp_path: Path,
) -> None:
    """Params with values, metrics and the tail of a history after early stopping, artifacts,
    dataset inputs with digests, and logged models with their params, metrics and files."""
    installed_or_skip("mlflow", "mlflow")
    installed_or_skip("xgboost", "xgboost")
    theirs, ours = _logged_by_both(tmp_path, XGBOOST_SCRIPT)
    assert ours == theirs
    stopped = theirs["stopped_early"]
    assert {"stopped_iteration", "best_iteration"} <= set(stopped["metrics"])
    assert stopped["params"]["early_stopping_rounds"] == "3"
    assert stopped["artifacts"] == [
        "feature_importance_weight.json",
        "feature_importance_weight.png",
    ]
    assert "model.ubj" in stopped["model_files"]
    assert sorted(name for name, *_ in stopped["inputs"]) == ["dataset", "train", "valid"]
    scikit_api = theirs["scikit_api"]
    assert "max_depth" in scikit_api["model_params"]
    assert {"accuracy_score_X_valid", "XGBClassifier_score_X_valid"} <= set(scikit_api["metrics"])
    assert ["eval"] in [contexts for *_, contexts in scikit_api["inputs"]]
