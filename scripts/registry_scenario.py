"""Drive a tracking server's model registry with the real ``mlflow`` client, step by step.

Each step first calls ``GET /health?step=<name>`` so a recording proxy's log shows which client
call made which requests. Errors are printed, not raised: error cases are part of the scenario.

    MLFLOW_TRACKING_URI=http://127.0.0.1:5702 python scripts/registry_scenario.py
"""

from __future__ import annotations

import os
import tempfile
import urllib.request

import mlflow
from mlflow import MlflowClient

URI = os.environ["MLFLOW_TRACKING_URI"]


def step(name: str) -> None:
    urllib.request.urlopen(f"{URI}/health?step={name}").read()


def attempt(name: str, call) -> object:
    step(name)
    try:
        result = call()
        print(name, "->", result)
        return result
    except Exception as exc:
        print(name, "!!", type(exc).__name__, str(exc)[:300])
        return None


class Tiny(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        return [len(str(x)) for x in model_input]


def main() -> None:
    client = MlflowClient()
    mlflow.set_experiment("registry-scenario")
    with mlflow.start_run() as run:
        step("log_model")
        info = mlflow.pyfunc.log_model(name="model", python_model=Tiny())
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "notes.txt")
            with open(path, "w") as fh:
                fh.write("hello")
            mlflow.log_artifact(path, "extra")
    run_id = run.info.run_id
    attempt(
        "register_model_runs_uri", lambda: mlflow.register_model(f"runs:/{run_id}/model", "churn")
    )
    attempt("register_model_logged_model", lambda: mlflow.register_model(info.model_uri, "churn"))
    attempt(
        "create_registered_model",
        lambda: client.create_registered_model(
            "fraud", tags={"team": "risk"}, description="fraud model"
        ),
    )
    attempt("create_registered_model_dup", lambda: client.create_registered_model("fraud"))
    attempt("create_registered_model_empty", lambda: client.create_registered_model(""))
    attempt("get_registered_model", lambda: client.get_registered_model("churn"))
    attempt("get_registered_model_missing", lambda: client.get_registered_model("nope"))
    attempt("update_registered_model", lambda: client.update_registered_model("fraud", "new desc"))
    attempt("rename_registered_model", lambda: client.rename_registered_model("fraud", "fraud2"))
    attempt(
        "rename_registered_model_taken", lambda: client.rename_registered_model("fraud2", "churn")
    )
    attempt(
        "set_registered_model_tag", lambda: client.set_registered_model_tag("churn", "owner", "ml")
    )
    attempt(
        "delete_registered_model_tag", lambda: client.delete_registered_model_tag("churn", "owner")
    )
    attempt(
        "delete_registered_model_tag_missing",
        lambda: client.delete_registered_model_tag("churn", "zzz"),
    )
    attempt(
        "create_model_version",
        lambda: client.create_model_version(
            "churn", f"runs:/{run_id}/model", run_id, tags={"validated": "true"}, description="v3"
        ),
    )
    attempt(
        "create_model_version_raw_source",
        lambda: client.create_model_version("churn", f"{run.info.artifact_uri}/model", run_id),
    )
    attempt(
        "create_model_version_bad_source",
        lambda: client.create_model_version("churn", "file:///etc", run_id),
    )
    attempt(
        "create_model_version_missing_model",
        lambda: client.create_model_version("nope", f"runs:/{run_id}/model", run_id),
    )
    attempt("get_model_version", lambda: client.get_model_version("churn", "1"))
    attempt("get_model_version_missing", lambda: client.get_model_version("churn", "99"))
    attempt("get_model_version_bad", lambda: client.get_model_version("churn", "abc"))
    attempt("update_model_version", lambda: client.update_model_version("churn", "1", "first"))
    attempt(
        "set_model_version_tag",
        lambda: client.set_model_version_tag("churn", "1", "validated", "true"),
    )
    attempt(
        "delete_model_version_tag",
        lambda: client.delete_model_version_tag("churn", "2", "validated"),
    )
    attempt(
        "set_registered_model_alias",
        lambda: client.set_registered_model_alias("churn", "champion", "1"),
    )
    attempt(
        "set_alias_missing_version", lambda: client.set_registered_model_alias("churn", "x", "99")
    )
    attempt("set_alias_bad_name", lambda: client.set_registered_model_alias("churn", "v1", "1"))
    attempt("set_alias_latest", lambda: client.set_registered_model_alias("churn", "latest", "1"))
    attempt(
        "get_model_version_by_alias", lambda: client.get_model_version_by_alias("churn", "champion")
    )
    attempt(
        "get_model_version_by_alias_missing",
        lambda: client.get_model_version_by_alias("churn", "nope"),
    )
    attempt("set_alias2", lambda: client.set_registered_model_alias("churn", "challenger", "2"))
    attempt(
        "delete_registered_model_alias",
        lambda: client.delete_registered_model_alias("churn", "challenger"),
    )
    attempt("delete_alias_missing", lambda: client.delete_registered_model_alias("churn", "nope"))
    attempt(
        "transition_stage", lambda: client.transition_model_version_stage("churn", "1", "Staging")
    )
    attempt(
        "transition_stage_archive",
        lambda: client.transition_model_version_stage(
            "churn", "2", "Production", archive_existing_versions=True
        ),
    )
    attempt(
        "transition_stage_bad", lambda: client.transition_model_version_stage("churn", "1", "Bogus")
    )
    attempt("get_latest_versions", lambda: client.get_latest_versions("churn"))
    attempt("get_latest_versions_stage", lambda: client.get_latest_versions("churn", ["Staging"]))
    attempt(
        "get_model_version_download_uri",
        lambda: client.get_model_version_download_uri("churn", "1"),
    )
    attempt("search_registered_models", lambda: client.search_registered_models())
    attempt(
        "search_registered_models_filter",
        lambda: client.search_registered_models(
            "name LIKE 'ch%'", order_by=["name DESC"], max_results=1
        ),
    )
    attempt(
        "search_registered_models_tag",
        lambda: client.search_registered_models("tags.team = 'risk'"),
    )
    attempt("search_registered_models_page", lambda: client.search_registered_models(max_results=1))
    attempt(
        "search_registered_models_bad_filter",
        lambda: client.search_registered_models("bogus = 'x'"),
    )
    attempt(
        "search_registered_models_bad_order",
        lambda: client.search_registered_models(order_by=["version_number"]),
    )
    attempt(
        "search_registered_models_or",
        lambda: client.search_registered_models("name = 'a' OR name = 'b'"),
    )
    attempt(
        "search_registered_models_too_many",
        lambda: client.search_registered_models(max_results=100000),
    )
    attempt("search_model_versions", lambda: client.search_model_versions("name = 'churn'"))
    attempt(
        "search_model_versions_tags",
        lambda: client.search_model_versions("name = 'churn' and tags.validated = 'true'"),
    )
    attempt(
        "search_model_versions_order",
        lambda: client.search_model_versions(
            "name='churn'", order_by=["version_number ASC"], max_results=1
        ),
    )
    attempt(
        "search_model_versions_run", lambda: client.search_model_versions(f"run_id = '{run_id}'")
    )
    attempt(
        "search_model_versions_in", lambda: client.search_model_versions("version_number IN (1, 2)")
    )
    attempt(
        "search_model_versions_source",
        lambda: client.search_model_versions("source_path LIKE '%model%'"),
    )
    attempt("search_model_versions_bad", lambda: client.search_model_versions("metrics.x > 1"))
    attempt(
        "search_model_versions_too_many", lambda: client.search_model_versions(max_results=300000)
    )
    attempt("load_model_alias", lambda: mlflow.pyfunc.load_model("models:/churn@champion"))
    attempt("load_model_version", lambda: mlflow.pyfunc.load_model("models:/churn/2"))
    attempt("load_model_latest", lambda: mlflow.pyfunc.load_model("models:/churn/latest"))
    attempt(
        "download_artifacts_models", lambda: mlflow.artifacts.download_artifacts("models:/churn/1")
    )
    attempt("delete_model_version", lambda: client.delete_model_version("churn", "2"))
    attempt("delete_model_version_missing", lambda: client.delete_model_version("churn", "2"))
    attempt("get_registered_model_after", lambda: client.get_registered_model("churn"))
    attempt("delete_registered_model", lambda: client.delete_registered_model("fraud2"))
    attempt("delete_registered_model_missing", lambda: client.delete_registered_model("fraud2"))


if __name__ == "__main__":
    main()
