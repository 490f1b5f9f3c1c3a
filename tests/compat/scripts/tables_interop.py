"""Tables both ways: read the table runyard's client logged, log one (with an image column)."""

import json
import os

import mlflow
import numpy as np
from PIL import Image

experiment_id = os.environ["TABLE_EXPERIMENT_ID"]
mlflow.set_experiment(experiment_id=experiment_id)
theirs = mlflow.load_table("eval/predictions.json", extra_columns=["run_id"])
with mlflow.start_run() as run:
    image = Image.fromarray(np.zeros((300, 600, 3), dtype=np.uint8))
    mlflow.log_table({"input": ["c"], "output": [3], "picture": [image]}, "eval/predictions.json")
print(
    json.dumps(
        {
            "read": theirs[["input", "output", "run_id"]].values.tolist(),
            "run_id": run.info.run_id,
        }
    )
)
