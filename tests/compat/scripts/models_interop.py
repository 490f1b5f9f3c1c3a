"""Models both ways: load the models runyard's client logged (scikit-learn and LightGBM), log
one of each with MLflow; external models both ways."""

import json
import os

import lightgbm as lgb
import mlflow
import mlflow.lightgbm
import mlflow.pyfunc
import mlflow.sklearn
import pandas as pd
from sklearn.linear_model import LogisticRegression

frame = pd.DataFrame(json.loads(os.environ["MODEL_FRAME"]))
by_id = mlflow.pyfunc.load_model(f"models:/{os.environ['MODEL_ID']}")
by_version = mlflow.sklearn.load_model(f"models:/{os.environ['MODEL_NAME']}/1")
info = mlflow.models.get_model_info(f"models:/{os.environ['MODEL_ID']}")
booster = mlflow.lightgbm.load_model(f"models:/{os.environ['GBM_ID']}")
gbm_pyfunc = mlflow.pyfunc.load_model(f"models:/{os.environ['GBM_ID']}")
mlflow.set_experiment(experiment_id=os.environ["MODEL_EXPERIMENT_ID"])
with mlflow.start_run() as run:
    theirs = LogisticRegression().fit(frame, [1, 0, 1, 0] * (len(frame) // 4))
    logged = mlflow.sklearn.log_model(theirs, name="theirs", input_example=frame.head(2))
    params = {"objective": "binary", "num_leaves": 3, "min_data_in_leaf": 1, "verbose": -1}
    their_booster = lgb.train(params, lgb.Dataset(frame, [0, 0, 1, 1] * (len(frame) // 4)), 4)
    their_gbm = mlflow.lightgbm.log_model(their_booster, name="their_gbm")
# An external model runyard created, found by name, read and registered; and one of MLflow's.
agent = mlflow.set_active_model(name=os.environ["AGENT_NAME"])
agent_info = mlflow.models.get_model_info(f"models:/{agent.model_id}")
agent_version = mlflow.register_model(f"models:/{agent.model_id}", os.environ["AGENT_NAME"])
their_agent = mlflow.create_external_model(name=os.environ["AGENT_NAME"] + "-theirs")
print(
    json.dumps(
        {
            "by_id": by_id.predict(frame).tolist(),
            "by_version": by_version.predict(frame).tolist(),
            "signature_inputs": info.signature.inputs.input_names(),
            "gbm": booster.predict(frame).tolist(),
            "gbm_pyfunc": gbm_pyfunc.predict(frame).tolist(),
            "their_model_uri": logged.model_uri,
            "their_run_id": run.info.run_id,
            "their_predictions": theirs.predict(frame).tolist(),
            "their_gbm_uri": their_gbm.model_uri,
            "their_gbm_predictions": their_booster.predict(frame).tolist(),
            "agent_id": agent.model_id,
            "agent_metadata": agent_info.metadata,
            "agent_version": str(agent_version.version),
            "their_agent_id": their_agent.model_id,
        }
    )
)
