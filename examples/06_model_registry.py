"""Train with autologging, register the model, promote it with an alias, and load it back by
that alias, as a deployment job would."""

import pickle
from pathlib import Path

import runyard
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

MODEL = "iris-classifier"


def main() -> str:
    X, y = load_iris(return_X_y=True)
    runyard.set_experiment("walkthrough-registry")
    runyard.sklearn.autolog()
    with runyard.start_run(run_name="iris-logreg") as run:
        LogisticRegression(max_iter=500).fit(X, y)

    version = runyard.register_model(f"runs:/{run.info.run_id}/model", MODEL)
    client = runyard.Client()
    client.update_model_version(MODEL, version.version, description="Logistic regression, iris")
    client.set_model_version_tag(MODEL, version.version, "validated", "true")
    client.set_registered_model_alias(MODEL, "champion", version.version)

    # Elsewhere, later: whatever "champion" points at.
    local = Path(runyard.download_artifacts(f"models:/{MODEL}@champion"))
    with open(local / "model.pkl", "rb") as fh:
        model = pickle.load(fh)  # only unpickle files you trust: this example trained it
    print(f"version={version.version} prediction={model.predict(X[:1])[0]}")
    print(f"run_id={run.info.run_id}")
    return run.info.run_id


if __name__ == "__main__":
    main()
