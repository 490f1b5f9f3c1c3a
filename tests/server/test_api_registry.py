"""The registry's REST routes: MLflow's JSON shapes and status codes, and version files served
only from inside the version's own location."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.server.conftest import Api


@pytest.fixture
def registered(api: Api, client: FlaskClient) -> tuple[str, str]:
    """Model ``churn`` with version 1 from a run that has ``model/MLmodel``."""
    run_id = api.new_run()
    artifact_uri = api.ok_get("runs/get", run_id=run_id)["run"]["info"]["artifact_uri"]
    inner = artifact_uri.split(":", 1)[1].lstrip("/")
    put = client.put(f"/api/2.0/mlflow-artifacts/artifacts/{inner}/model/MLmodel", data=b"ok")
    assert put.status_code == 200, put.get_data(as_text=True)
    api.ok_post("registered-models/create", {"name": "churn"})
    body = {"name": "churn", "source": f"runs:/{run_id}/model", "run_id": run_id}
    api.ok_post("model-versions/create", body)
    return run_id, artifact_uri


def test_shapes_and_codes(api: Api, registered: tuple[str, str]) -> None:
    run_id, artifact_uri = registered
    mv = api.ok_get("model-versions/get", name="churn", version="1")["model_version"]
    assert mv["version"] == "1" and mv["current_stage"] == "None"
    assert (mv["description"], mv["run_link"], mv["run_id"]) == ("", "", run_id)
    status, error = api.post("registered-models/create", {"name": "churn"})
    assert (status, error["error_code"]) == (400, "RESOURCE_ALREADY_EXISTS")
    status, error = api.get("registered-models/get", name="nope")
    assert (status, error["error_code"]) == (404, "RESOURCE_DOES_NOT_EXIST")
    status, error = api.get("model-versions/get", name="churn", version="abc")
    assert status == 400 and "must be an integer" in error["message"]
    assert api.ok_get("model-versions/get-download-uri", name="churn", version="1") == {
        "artifact_uri": f"{artifact_uri}/model"
    }
    assert (
        api.ok_post("registered-models/alias", {"name": "churn", "alias": "a", "version": "1"})
        == {}
    )
    status, error = api.get("registered-models/alias", name="churn", alias="nope")
    assert (status, error["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    found = api.ok_get("registered-models/search", filter="name LIKE 'ch%'")
    [model] = found["registered_models"]
    assert model["aliases"] == [{"alias": "a", "version": "1"}]
    assert [v["version"] for v in model["latest_versions"]] == ["1"]
    ajax = Api(api.client, "/ajax-api/2.0/mlflow")
    assert ajax.ok_get("model-versions/search", filter="name = 'churn'")["model_versions"]


@pytest.mark.parametrize(
    "source",
    ["file:///etc", "/tmp", "file://localhost/etc", "mlflow-artifacts:/0/%2e%2e/%2e%2e/x"],
)
def test_disguised_sources_are_400(api: Api, registered: tuple[str, str], source: str) -> None:
    run_id, _ = registered
    status, error = api.post(
        "model-versions/create", {"name": "churn", "source": source, "run_id": run_id}
    )
    assert (status, error["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    assert "Invalid model version source" in error["message"]


def test_get_artifact(client: FlaskClient, registered: tuple[str, str]) -> None:
    url = "/model-versions/get-artifact"
    ok = client.get(url, query_string={"name": "churn", "version": "1", "path": "MLmodel"})
    assert ok.status_code == 200 and ok.data == b"ok"
    assert ok.headers["X-Content-Type-Options"] == "nosniff"
    for path in ("../../etc/passwd", "/etc/passwd", "%2e%2e/x", "a/../../x"):
        bad = client.get(url, query_string={"name": "churn", "version": "1", "path": path})
        assert bad.status_code in (400, 404) and bad.get_json()["error_code"], path
    missing = client.get(url, query_string={"name": "churn", "version": "1", "path": "nope"})
    assert missing.status_code == 404
    no_version = client.get(url, query_string={"name": "churn", "version": "9", "path": "MLmodel"})
    assert no_version.status_code == 404
