"""``mlflow.lightgbm.autolog()``: per-iteration metrics, importances, a logged model."""

import json

import lightgbm as lgb
import mlflow
from sklearn.datasets import load_breast_cancer

mlflow.set_experiment("compat-lightgbm-autolog")
mlflow.lightgbm.autolog()
X, y = load_breast_cancer(return_X_y=True)
train = lgb.Dataset(X[:400], label=y[:400])
valid = lgb.Dataset(X[400:], label=y[400:], reference=train)
params = {"objective": "binary", "metric": "binary_logloss", "verbose": -1, "num_leaves": 7}
rounds = 8
with mlflow.start_run() as run:
    booster = lgb.train(
        params, train, num_boost_round=rounds, valid_sets=[valid], valid_names=["valid"]
    )
print(
    json.dumps(
        {
            "run_id": run.info.run_id,
            "experiment_id": run.info.experiment_id,
            "rounds": rounds,
            "final_logloss": float(booster.best_score["valid"]["binary_logloss"])
            if booster.best_score
            else None,
        }
    )
)
