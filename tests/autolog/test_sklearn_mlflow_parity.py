"""The same scikit-learn script under ``mlflow.sklearn.autolog()`` and under runyard's logs the
same runs, params and metrics: a user switching the import sees no difference in what a
training, data preparation, an evaluation helper or a scorer leaves behind."""

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


def _logged_by(library: str, store: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNYARD_", "MLFLOW_"))}
    env["MLFLOW_ALLOW_FILE_STORE"] = "true"  # MLflow 3 deprecates its file store, still has it
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, library, store.as_uri()],
        capture_output=True,
        text=True,
        env=env,
        cwd=store.parent,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_runyard_logs_what_mlflow_logs_for_trainings_helpers_and_scorers(tmp_path: Path) -> None:
    installed_or_skip("mlflow", "mlflow")
    installed_or_skip("sklearn", "sklearn")
    (tmp_path / "mlflow").mkdir()
    (tmp_path / "runyard").mkdir()
    theirs = _logged_by("mlflow", tmp_path / "mlflow" / "mlruns")
    ours = _logged_by("runyard", tmp_path / "runyard" / "mlruns")
    assert ours == theirs
    assert theirs["runs"] == 2 and theirs["evaluated"] == {"params": [], "metrics": []}
    assert "C" in theirs["trained"]["params"]
    assert {"accuracy_score_X_test", "LogisticRegression_score_X_test"} <= set(
        theirs["trained"]["metrics"]
    )
