"""Models both ways: load the model runyard's client logged, log one with MLflow."""

import json
import os

import mlflow
import mlflow.pyfunc
import mlflow.sklearn
import pandas as pd
from sklearn.linear_model import LogisticRegression

frame = pd.DataFrame(json.loads(os.environ["MODEL_FRAME"]))
by_id = mlflow.pyfunc.load_model(f"models:/{os.environ['MODEL_ID']}")
by_version = mlflow.sklearn.load_model(f"models:/{os.environ['MODEL_NAME']}/1")
info = mlflow.models.get_model_info(f"models:/{os.environ['MODEL_ID']}")
mlflow.set_experiment(experiment_id=os.environ["MODEL_EXPERIMENT_ID"])
with mlflow.start_run() as run:
    theirs = LogisticRegression().fit(frame, [1, 0, 1, 0])
    logged = mlflow.sklearn.log_model(theirs, name="theirs", input_example=frame.head(2))
print(
    json.dumps(
        {
            "by_id": by_id.predict(frame).tolist(),
            "by_version": by_version.predict(frame).tolist(),
            "signature_inputs": info.signature.inputs.input_names(),
            "their_model_uri": logged.model_uri,
            "their_run_id": run.info.run_id,
            "their_predictions": theirs.predict(frame).tolist(),
        }
    )
)
