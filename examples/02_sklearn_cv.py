"""Cross-validation by hand: a RandomForest on breast-cancer data, 5 folds.

Logs per-fold scores (step = fold), the mean and standard deviation of each score, every fold's
model as a pickle under ``folds/`` and the mean feature importances as JSON.
"""

import json
import os
import pickle
import tempfile

import numpy as np
import runyard
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold

PARAMS = {"n_estimators": 50, "max_depth": 6, "random_state": 42}
N_SPLITS = 5


def main() -> str:
    data = load_breast_cancer()
    X, y = data.data, data.target
    runyard.set_experiment("walkthrough-sklearn-cv")
    folds = StratifiedKFold(n_splits=N_SPLITS, shuffle=True, random_state=42)
    scores: dict[str, list[float]] = {"accuracy": [], "f1": [], "roc_auc": []}
    importances = []
    with runyard.start_run(run_name="rf-5fold") as run, tempfile.TemporaryDirectory() as tmp:
        runyard.log_params({**PARAMS, "n_splits": N_SPLITS})
        for fold, (train, test) in enumerate(folds.split(X, y)):
            model = RandomForestClassifier(**PARAMS).fit(X[train], y[train])
            predicted = model.predict(X[test])
            fold_scores = {
                "accuracy": accuracy_score(y[test], predicted),
                "f1": f1_score(y[test], predicted),
                "roc_auc": roc_auc_score(y[test], model.predict_proba(X[test])[:, 1]),
            }
            for name, value in fold_scores.items():
                scores[name].append(value)
            runyard.log_metrics({f"fold_{k}": v for k, v in fold_scores.items()}, step=fold)
            path = os.path.join(tmp, f"model_fold{fold}.pkl")
            with open(path, "wb") as fh:
                pickle.dump(model, fh)
            runyard.log_artifact(path, "folds")
            importances.append(model.feature_importances_)
        for name, values in scores.items():
            runyard.log_metric(f"cv_mean_{name}", float(np.mean(values)))
            runyard.log_metric(f"cv_std_{name}", float(np.std(values)))
        mean_importance = np.mean(importances, axis=0)
        ranked = dict(
            sorted(
                zip(data.feature_names, mean_importance.tolist(), strict=True),
                key=lambda kv: -kv[1],
            )
        )
        runyard.log_dict(ranked, "feature_importances.json")
        print(json.dumps({k: round(float(np.mean(v)), 4) for k, v in scores.items()}))
    print(f"run_id={run.info.run_id}")
    return run.info.run_id


if __name__ == "__main__":
    main()
