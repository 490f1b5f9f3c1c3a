"""Write a small MLflow deployment with the real mlflow client (tracking URI from the
environment); print what was written as JSON on the last line."""

from __future__ import annotations

import json
import math
import os
import time

import mlflow
import pandas as pd
from mlflow import MlflowClient

LONG_POINTS = int(os.environ.get("LONG_POINTS", "100000"))

client = MlflowClient()
experiment_id = client.create_experiment("moved", tags={"team": "vision"})
gone_id = client.create_experiment("gone")
now = int(time.time() * 1000)

with mlflow.start_run(experiment_id=experiment_id, run_name="first") as run:
    mlflow.log_params({"lr": "0.1", "layers": "3"})
    mlflow.set_tags({"stage": "dev"})
    for step in range(5):
        mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
    mlflow.log_metric("nan_metric", math.nan)
    frame = pd.DataFrame({"x": [1, 2, 3], "y": [0, 1, 0]})
    mlflow.log_input(mlflow.data.from_pandas(frame, name="train-set"), context="training")
    mlflow.log_text("hello", "notes/a.txt")
    model = mlflow.initialize_logged_model(name="net", experiment_id=experiment_id)
    first = run.info.run_id

with mlflow.start_run(experiment_id=experiment_id, run_name="long") as run:
    long_id = run.info.run_id
    for start in range(0, LONG_POINTS, 1000):
        metrics = [
            mlflow.entities.Metric("curve", float(i % 977), now + i, i)
            for i in range(start, min(start + 1000, LONG_POINTS))
        ]
        client.log_batch(long_id, metrics=metrics)

deleted = client.create_run(experiment_id, run_name="deleted").info.run_id
client.log_param(deleted, "p", "v")
client.delete_run(deleted)
client.create_run(gone_id, run_name="in-deleted-experiment")
client.delete_experiment(gone_id)

client.create_registered_model("clf", tags={"team": "vision"}, description="a classifier")
client.create_model_version(
    "clf", f"runs:/{first}/model", run_id=first, tags={"v": "1"}, description="first"
)
client.create_model_version("clf", f"models:/{model.model_id}", model_id=model.model_id)
client.create_model_version("clf", f"runs:/{first}/other", run_id=first)
client.delete_model_version("clf", "3")  # its number is never reused
client.set_registered_model_alias("clf", "champion", "2")
client.transition_model_version_stage("clf", "1", "Production")
client.set_model_version_tag("clf", "2", "checked", "yes")
client.create_registered_model("empty")

print(
    json.dumps(
        {
            "experiment_id": experiment_id,
            "gone_id": gone_id,
            "first": first,
            "long": long_id,
            "deleted": deleted,
            "model_id": model.model_id,
        }
    )
)
