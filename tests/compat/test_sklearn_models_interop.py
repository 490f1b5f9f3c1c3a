"""scikit-learn models logged by runyard's client are loaded by MLflow's (``pyfunc`` and
``sklearn`` flavors, by id and by registered version), and MLflow 3's models by runyard's,
through one runyard server."""

from __future__ import annotations

import pytest
import runyard
from runyard.tracking import fluent
from runyard.tracking.fluent_state import fresh_fluent_state

from tests.compat.conftest import Served


def test_sklearn_models_pass_between_runyard_and_mlflow(served: Served) -> None:
    pd = pytest.importorskip("pandas")
    linear = pytest.importorskip("sklearn.linear_model")
    frame = pd.DataFrame({"a": [0.1, 0.9, 0.2, 0.8], "b": [1, 2, 3, 4]})
    ours = linear.LogisticRegression().fit(frame, [0, 1, 0, 1])
    with fresh_fluent_state():
        fluent.set_tracking_uri(served.server.url)
        experiment = runyard.set_experiment(f"models-{served.backend_uri[:8]}")
        name = f"churn-{served.backend_uri[:6]}"
        with runyard.start_run():
            info = runyard.sklearn.log_model(
                ours, name="ours", input_example=frame.head(2), registered_model_name=name
            )
        out = served.run_script(
            "sklearn_models.py",
            env={
                "MODEL_FRAME": frame.to_json(orient="columns"),
                "MODEL_ID": info.model_id,
                "MODEL_NAME": name,
                "MODEL_EXPERIMENT_ID": experiment.experiment_id,
            },
        )
        expected = ours.predict(frame).tolist()
        assert out["by_id"] == expected and out["by_version"] == expected
        assert out["signature_inputs"] == ["a", "b"]

        theirs = runyard.sklearn.load_model(out["their_model_uri"])  # skops, MLflow's default
        assert theirs.predict(frame).tolist() == out["their_predictions"]
        by_run = runyard.sklearn.load_model(f"runs:/{out['their_run_id']}/theirs")
        assert by_run.predict(frame).tolist() == out["their_predictions"]
