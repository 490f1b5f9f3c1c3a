"""A hand-written autologger for a scikit-learn class, with runyard's safe-patching helper.

The patched ``fit`` logs two params before training and the training accuracy after it. The
helper guarantees training itself is untouched: the original ``fit`` runs exactly once, its
result and exceptions pass through, and a failure in the logging code is only a warning.
"""

import runyard
from runyard.autolog.patch import revert_patches, safe_patch
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import RandomForestClassifier


def log_forest_fit(original, self, X, y, *args, **kwargs):
    runyard.log_params({"n_estimators": self.n_estimators, "max_depth": self.max_depth})
    fitted = original(self, X, y, *args, **kwargs)  # the training itself
    runyard.log_metric("train_accuracy", self.score(X, y))
    runyard.set_tag("autologged_by", "04_custom_autolog")
    return fitted


def main() -> str:
    X, y = load_breast_cancer(return_X_y=True)
    runyard.set_experiment("walkthrough-custom-autolog")
    safe_patch(RandomForestClassifier, "fit", log_forest_fit, integration="my_forest")
    try:
        RandomForestClassifier(n_estimators=20, max_depth=4, random_state=0).fit(X, y)
    finally:
        revert_patches("my_forest")  # RandomForestClassifier.fit is the original again
    run = runyard.last_active_run()
    print(f"run_id={run.info.run_id}")
    return run.info.run_id


if __name__ == "__main__":
    main()
