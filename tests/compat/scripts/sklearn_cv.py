"""A scikit-learn cross-validation script: mean scores, pickled fold models, importances."""

import hashlib
import json
import os
import pickle
import tempfile

import mlflow
import numpy as np
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import StratifiedKFold

X, y = load_iris(return_X_y=True)
mlflow.set_experiment("compat-sklearn-cv")
work = tempfile.mkdtemp()
digests = {}
with mlflow.start_run(run_name="cv") as run:
    params = {"n_estimators": 20, "max_depth": 3, "random_state": 0}
    mlflow.log_params(params)
    scores = []
    importances = []
    folds = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
    for fold, (train, test) in enumerate(folds.split(X, y)):
        model = RandomForestClassifier(**params).fit(X[train], y[train])
        score = float(model.score(X[test], y[test]))
        scores.append(score)
        importances.append(model.feature_importances_)
        mlflow.log_metric("fold_accuracy", score, step=fold)
        path = os.path.join(work, f"model_fold{fold}.pkl")
        with open(path, "wb") as f:
            pickle.dump(model, f)
        with open(path, "rb") as f:
            digests[f"models/model_fold{fold}.pkl"] = hashlib.sha256(f.read()).hexdigest()
        mlflow.log_artifact(path, "models")
    mean = float(np.mean(scores))
    mlflow.log_metrics({"mean_accuracy": mean, "std_accuracy": float(np.std(scores))})
    feature_importances = dict(
        zip(load_iris().feature_names, np.mean(importances, axis=0).tolist(), strict=True)
    )
    mlflow.log_dict(feature_importances, "feature_importances.json")

print(
    json.dumps(
        {
            "run_id": run.info.run_id,
            "experiment_id": run.info.experiment_id,
            "scores": scores,
            "mean": mean,
            "digests": digests,
            "importances": feature_importances,
        }
    )
)
