"""The model registry through the unmodified mlflow client: the snippet users copy from the
docs (register, alias, load by alias, search), then the rest of the registry API."""

import json
import warnings

import mlflow
import pandas as pd

warnings.filterwarnings("ignore", category=FutureWarning)


class Doubler(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        return model_input * 2


mlflow.set_experiment("compat-registry")
with mlflow.start_run() as run:
    mlflow.pyfunc.log_model(name="model", python_model=Doubler())
run_id = run.info.run_id

# ---- the snippet, unmodified ----
mv = mlflow.register_model(f"runs:/{run_id}/model", "churn")  # version 1
client = mlflow.MlflowClient()
client.set_registered_model_alias("churn", "champion", mv.version)
model = mlflow.pyfunc.load_model("models:/churn@champion")  # downloads through runyard
client.search_model_versions("name = 'churn' and tags.validated = 'true'")
# ---- end of the snippet ----

prediction = model.predict(pd.DataFrame({"x": [1, 2]}))["x"].tolist()
client.set_model_version_tag("churn", mv.version, "validated", "true")
validated = client.search_model_versions("name = 'churn' and tags.validated = 'true'")

mv2 = mlflow.register_model(f"runs:/{run_id}/model", "churn")
client.update_registered_model("churn", description="Churn classifier")
client.set_registered_model_tag("churn", "team", "growth")
client.update_model_version("churn", mv2.version, description="second")
client.transition_model_version_stage("churn", mv2.version, "Staging")
latest = client.get_latest_versions("churn", stages=["Staging"])
by_alias = client.get_model_version_by_alias("churn", "champion")
download_uri = client.get_model_version_download_uri("churn", mv2.version)
loaded_v2 = mlflow.pyfunc.load_model(f"models:/churn/{mv2.version}")
files = sorted(
    p.name
    for p in __import__("pathlib")
    .Path(mlflow.artifacts.download_artifacts(f"models:/churn/{mv2.version}"))
    .iterdir()
)

copied = client.copy_model_version("models:/churn/1", "churn-prod")

client.create_registered_model("fraud", tags={"team": "risk"})
client.rename_registered_model("fraud", "fraud-v2")
found = [m.name for m in client.search_registered_models("name LIKE '%fraud%'")]
page = client.search_registered_models(max_results=1)

errors = {}
for label, call in {
    "duplicate": lambda: client.create_registered_model("churn"),
    "missing_version": lambda: client.get_model_version("churn", "99"),
    "bad_filter": lambda: client.search_model_versions("metrics.x > 1"),
    "bad_source": lambda: client.create_model_version("churn", "file:///etc", run_id),
    "missing_alias": lambda: client.get_model_version_by_alias("churn", "nope"),
}.items():
    try:
        call()
        errors[label] = None
    except mlflow.exceptions.MlflowException as exc:
        errors[label] = exc.error_code

client.delete_registered_model_alias("churn", "champion")
client.delete_model_version("churn", mv2.version)
client.delete_registered_model("fraud-v2")
remaining = [(v.name, v.version) for v in client.search_model_versions("name = 'churn'")]

print(
    json.dumps(
        {
            "run_id": run_id,
            "version": str(mv.version),
            "prediction": prediction,
            "validated": [v.version for v in validated],
            "latest_staging": [v.version for v in latest],
            "alias_version": by_alias.version,
            "download_uri": download_uri,
            "v2_loaded": loaded_v2.predict(pd.DataFrame({"x": [3]}))["x"].tolist(),
            "files": files,
            "found": found,
            "page": [m.name for m in page],
            "page_token": bool(page.token),
            "errors": errors,
            "remaining": [[n, str(v)] for n, v in remaining],
            "copied": [copied.name, str(copied.version), copied.run_id],
        }
    )
)
