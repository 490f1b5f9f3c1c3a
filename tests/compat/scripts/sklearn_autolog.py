"""``mlflow.sklearn.autolog()``: params, training metrics, a logged model that loads back and
that MLflow's client finds by its metrics and params."""

import json

import mlflow
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression

mlflow.set_experiment("compat-sklearn-autolog")
mlflow.sklearn.autolog()
X, y = load_breast_cancer(return_X_y=True)
X = X[:200] / X.max(axis=0)
y = y[:200]
with mlflow.start_run() as run:
    model = LogisticRegression(max_iter=200, C=0.5).fit(X, y)
models = mlflow.search_logged_models(experiment_ids=[run.info.experiment_id], output_format="list")
assert len(models) == 1, models
filtered = mlflow.search_logged_models(
    experiment_ids=[run.info.experiment_id],
    filter_string="metrics.training_accuracy_score > 0.5 AND params.C = '0.5'",
    output_format="list",
)
assert [m.model_id for m in filtered] == [models[0].model_id], filtered
assert not mlflow.search_logged_models(
    experiment_ids=[run.info.experiment_id],
    filter_string="metrics.training_accuracy_score > 1.5",
    output_format="list",
)
# MLflow's autolog links the training metrics to its training dataset: order by them there
run_inputs = mlflow.get_run(run.info.run_id).inputs.dataset_inputs
train_dataset = run_inputs[0].dataset
on_training_data = mlflow.search_logged_models(
    experiment_ids=[run.info.experiment_id],
    order_by=[
        {
            "field_name": "metrics.training_accuracy_score",
            "ascending": False,
            "dataset_name": train_dataset.name,
            "dataset_digest": train_dataset.digest,
        }
    ],
    output_format="list",
)
assert [m.model_id for m in on_training_data] == [models[0].model_id], on_training_data
loaded = mlflow.sklearn.load_model(f"models:/{models[0].model_id}")
assert np.array_equal(loaded.predict(X), model.predict(X))
print(
    json.dumps(
        {
            "run_id": run.info.run_id,
            "experiment_id": run.info.experiment_id,
            "model_id": models[0].model_id,
            "train_accuracy": float(model.score(X, y)),
        }
    )
)
