"""Models logged by runyard's client are loaded by MLflow's (``pyfunc``, ``sklearn`` and
``lightgbm`` flavors, by id and by registered version), and MLflow 3's models by runyard's,
through one runyard server; external models (``set_active_model(name=...)``) pass both ways."""

from __future__ import annotations

import pytest
import runyard
from runyard.tracking import fluent
from runyard.tracking.fluent_state import fresh_fluent_state

from tests.compat.conftest import Served


def test_models_pass_between_runyard_and_mlflow(served: Served) -> None:
    pd = pytest.importorskip("pandas")
    linear = pytest.importorskip("sklearn.linear_model")
    lgb = pytest.importorskip("lightgbm")
    frame = pd.DataFrame({"a": [0.1, 0.9, 0.2, 0.8] * 5, "b": [1, 2, 3, 4] * 5})
    ours = linear.LogisticRegression().fit(frame, [0, 1, 0, 1] * 5)
    params = {"objective": "binary", "num_leaves": 3, "min_data_in_leaf": 1, "verbose": -1}
    our_booster = lgb.train(params, lgb.Dataset(frame, [0, 1, 1, 0] * 5), 4)
    with fresh_fluent_state():
        fluent.set_tracking_uri(served.server.url)
        experiment = runyard.set_experiment(f"models-{served.backend_uri[:8]}")
        name = f"churn-{served.backend_uri[:6]}"
        with runyard.start_run():
            info = runyard.sklearn.log_model(
                ours, name="ours", input_example=frame.head(2), registered_model_name=name
            )
            gbm = runyard.lightgbm.log_model(our_booster, name="gbm", input_example=frame.head(2))
        agent = f"agent-{served.backend_uri[:6]}"
        with runyard.set_active_model(name=agent) as active:  # created, as an external model
            runyard.log_metric("latency", 1.5)
        out = served.run_script(
            "models_interop.py",
            env={
                "MODEL_FRAME": frame.to_json(orient="columns"),
                "MODEL_ID": info.model_id,
                "MODEL_NAME": name,
                "MODEL_EXPERIMENT_ID": experiment.experiment_id,
                "GBM_ID": gbm.model_id,
                "AGENT_NAME": agent,
            },
        )
        expected = ours.predict(frame).tolist()
        assert out["by_id"] == expected and out["by_version"] == expected
        assert out["signature_inputs"] == ["a", "b"]
        assert out["gbm"] == out["gbm_pyfunc"] == our_booster.predict(frame).tolist()

        theirs = runyard.sklearn.load_model(out["their_model_uri"])  # skops, MLflow's default
        assert theirs.predict(frame).tolist() == out["their_predictions"]
        by_run = runyard.sklearn.load_model(f"runs:/{out['their_run_id']}/theirs")
        assert by_run.predict(frame).tolist() == out["their_predictions"]
        their_gbm = runyard.lightgbm.load_model(out["their_gbm_uri"])
        assert their_gbm.predict(frame).tolist() == out["their_gbm_predictions"]
        served_gbm = runyard.pyfunc.load_model(f"runs:/{out['their_run_id']}/their_gbm")
        assert served_gbm.predict(frame).tolist() == out["their_gbm_predictions"]

        assert out["agent_id"] == active.model_id  # MLflow's set_active_model found ours
        assert out["agent_metadata"] == {"mlflow.model.isExternal": True}
        assert out["agent_version"] == "1"
        theirs_external = runyard.set_active_model(name=f"{agent}-theirs")
        assert theirs_external.model_id == out["their_agent_id"]
        assert theirs_external.tags["mlflow.model.isExternal"] == "true"
