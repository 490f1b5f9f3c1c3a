"""LightGBM autologging plus a hand-logged ``test_score`` in the same run."""

import lightgbm as lgb
import runyard
from sklearn.datasets import load_breast_cancer
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

PARAMS = {"objective": "binary", "metric": "binary_logloss", "learning_rate": 0.1, "verbose": -1}


def main() -> str:
    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0)
    X_train, X_valid, y_train, y_valid = train_test_split(
        X_train, y_train, test_size=0.25, random_state=0
    )
    runyard.set_experiment("walkthrough-lightgbm")
    runyard.lightgbm.autolog()
    with runyard.start_run(run_name="lgbm-autolog") as run:
        booster = lgb.train(
            PARAMS,
            lgb.Dataset(X_train, y_train),
            num_boost_round=50,
            valid_sets=[lgb.Dataset(X_valid, y_valid)],
            callbacks=[lgb.early_stopping(10, verbose=False)],
        )
        test_score = roc_auc_score(y_test, booster.predict(X_test))
        runyard.log_metric("test_score", test_score)
    print(f"test_score={test_score:.4f}")
    print(f"run_id={run.info.run_id}")
    return run.info.run_id


if __name__ == "__main__":
    main()
