"""The file store's model registry and MLflow's share one ``mlruns/models`` directory: each
reads what the other wrote (MLflow in a subprocess, as in ``test_mlflow_filestore``)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from runyard.store.file import FileStore

from tests.interop.test_mlflow_filestore import run_mlflow

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("mlflow") is None, reason="the mlflow package is not installed"
)

MLFLOW_WRITES = """
import json, mlflow
from mlflow import MlflowClient
client = MlflowClient()
with mlflow.start_run() as run:
    mlflow.log_text("flavors: {}", "model/MLmodel")
rid = run.info.run_id
client.create_registered_model("churn", tags={"team": "risk"}, description="about")
client.create_model_version("churn", f"runs:/{rid}/model", rid, tags={"validated": "true"})
client.create_model_version("churn", f"runs:/{rid}/model", rid, description="second")
client.set_registered_model_alias("churn", "champion", "1")
client.transition_model_version_stage("churn", "2", "Staging")
client.create_model_version("churn", f"runs:/{rid}/model", rid)
client.delete_model_version("churn", "3")
print(json.dumps({"run_id": rid}))
"""


def test_runyard_reads_what_mlflow_wrote(tmp_path: Path) -> None:
    root = tmp_path / "mlruns"
    out = run_mlflow(root, MLFLOW_WRITES)
    store = FileStore(root.as_uri())
    model = store.get_registered_model("churn")
    assert (model.description, dict(model.tags)) == ("about", {"team": "risk"})
    assert dict(model.aliases) == {"champion": 1}
    assert [(v.version, v.current_stage) for v in model.latest_versions] == [
        (1, "None"),
        (2, "Staging"),
    ]
    first = store.get_model_version_by_alias("churn", "champion")
    assert (first.run_id, dict(first.tags)) == (out["run_id"], {"validated": "true"})
    assert store.get_model_version("churn", 2).description == "second"
    run_artifacts = store.get_run(out["run_id"]).info.artifact_uri
    assert store.get_model_version_download_uri("churn", 1) == f"{run_artifacts}/model", (
        "MLflow records runs:/ locations; they resolve (and are checked) on read"
    )
    assert [v.version for v in store.search_model_versions("name = 'churn'")] == [2, 1]
    assert (
        store.create_model_version("churn", f"runs:/{out['run_id']}/model", out["run_id"]).version
        == 4
    ), "the deleted version's number is not reused"


def test_mlflow_reads_what_runyard_wrote(tmp_path: Path) -> None:
    root = tmp_path / "mlruns"
    store = FileStore(root.as_uri())
    experiment_id = store.create_experiment("interop-registry")
    run_id = store.create_run(experiment_id, "alice", 1_700_000_000_000).info.run_id
    store.create_registered_model("churn", tags=[("team", "risk")], description="about")
    store.create_model_version("churn", f"runs:/{run_id}/model", run_id, tags=[("k", "v")])
    store.create_model_version("churn", f"runs:/{run_id}/model", run_id)
    store.set_registered_model_alias("churn", "champion", 2)
    store.transition_model_version_stage("churn", 1, "Production")
    got = run_mlflow(
        root,
        """
        import json
        from mlflow import MlflowClient
        client = MlflowClient()
        model = client.get_registered_model("churn")
        champion = client.get_model_version_by_alias("churn", "champion")
        first = client.get_model_version("churn", "1")
        found = client.search_model_versions("name = 'churn'")
        print(json.dumps({
            "description": model.description, "tags": model.tags, "aliases": model.aliases,
            "champion": str(champion.version), "stage": first.current_stage,
            "first_tags": first.tags, "run_id": first.run_id,
            "versions": sorted(str(v.version) for v in found),
            "uri": client.get_model_version_download_uri("churn", "1"),
        }))
        """,
    )
    assert got["description"] == "about" and got["tags"] == {"team": "risk"}
    assert got["aliases"] == {"champion": "2"} and got["champion"] == "2"
    assert (got["stage"], got["first_tags"], got["run_id"]) == ("Production", {"k": "v"}, run_id)
    assert got["versions"] == ["1", "2"]
    assert got["uri"] == store.get_model_version_download_uri("churn", 1)
