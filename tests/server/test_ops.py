"""/health, /ready, /metrics, /version."""

from __future__ import annotations

import re

from packaging.version import Version
from runyard.server.limits import MAX_QUERY_STRING_BYTES
from runyard.server.ops.routes import MLFLOW_API_LEVEL
from runyard.version import runyard_version


def test_health_touches_nothing(make_client) -> None:
    response = make_client().get("/health")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "OK"


def test_ready_when_store_and_artifacts_are_reachable(client) -> None:
    response = client.get("/ready")
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"status": "ready", "checks": {"store": "ok", "artifacts": "ok"}}


def test_artifact_store_outage_keeps_the_server_ready_and_tracking(
    make_client, monkeypatch
) -> None:
    """Readiness means "can serve tracking": S3 away answers artifact calls 503, not /ready."""
    from tests.live_server import free_port

    monkeypatch.setenv("RUNYARD_S3_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    client = make_client(artifacts_destination="s3://runyard-artifacts/root")

    ready = client.get("/ready")
    assert ready.status_code == 200, ready.get_json()
    checks = ready.get_json()["checks"]
    assert checks["store"] == "ok"
    assert "unreachable" in checks["artifacts"]

    run = client.post("/api/2.0/mlflow/runs/create", json={"experiment_id": "0"}).get_json()
    run_id = run["run"]["info"]["run_id"]
    logged = client.post(
        "/api/2.0/mlflow/runs/log-metric",
        json={"run_id": run_id, "key": "loss", "value": 1.0, "timestamp": 1, "step": 0},
    )
    assert logged.status_code == 200

    upload = client.put(
        f"/api/2.0/mlflow-artifacts/artifacts/0/{run_id}/artifacts/a.txt", data=b"x"
    )
    assert upload.status_code == 503
    assert upload.headers["Retry-After"].isdigit()
    assert upload.get_json()["error_code"] == "TEMPORARILY_UNAVAILABLE"

    text = client.get("/metrics").get_data(as_text=True)
    assert re.search(r'^runyard_artifact_store_up\{pid="\d+"\} 0\.0$', text, re.MULTILINE)
    assert re.search(r'^runyard_store_up\{pid="\d+"\} 1\.0$', text, re.MULTILINE)


def test_ready_is_503_when_tracking_directory_is_gone(make_client, tmp_path) -> None:
    import shutil

    root = tmp_path / "vanishing"
    client = make_client(backend_store_uri=str(root))
    shutil.rmtree(root)
    response = client.get("/ready")
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert response.get_json()["error_code"] == "TEMPORARILY_UNAVAILABLE"
    assert response.get_json()["checks"]["store"] != "ok"


def test_version(make_client) -> None:
    response = make_client().get("/version")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert response.headers["X-Runyard-Version"] == runyard_version()
    version = Version(text)  # as MLflow's client parses it
    assert version.public == MLFLOW_API_LEVEL and version < Version("3.4")
    assert version.local.startswith("runyard.")


def test_metrics_prometheus_text(make_client) -> None:
    client = make_client()
    client.get("/api/2.0/mlflow/experiments/get", query_string={"experiment_id": "0"})
    client.get("/api/2.0/mlflow/experiments/get", query_string={"experiment_id": "424242"})
    client.get("/api/2.0/mlflow/nope")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    assert re.search(
        r'runyard_http_requests_total\{endpoint="/api/2.0/mlflow/experiments/get",'
        r'method="GET",status="200",pid="\d+"\} 1',
        text,
    )
    assert 'status="404"' in text
    assert re.search(
        r'runyard_http_errors_total\{endpoint="/api/2.0/mlflow/experiments/get",'
        r'error_code="RESOURCE_DOES_NOT_EXIST",pid="\d+"\} 1',
        text,
    )
    assert 'endpoint="unmatched"' in text
    bucket = re.search(
        r'runyard_http_request_duration_seconds_count\{endpoint="/api/2.0/mlflow/experiments/get",'
        r'method="GET",pid="\d+"\} 2',
        text,
    )
    assert bucket
    for line in text.splitlines():
        assert line.startswith("#") or re.match(r"^[a-z_]+(\{.*\})? [-0-9.e+]+$", line), line


def test_metrics_include_db_pool_for_sql_stores(make_client, tmp_path) -> None:
    client = make_client(backend_store_uri=f"sqlite:///{tmp_path / 'pool.db'}")
    client.get("/api/2.0/mlflow/experiments/get", query_string={"experiment_id": "0"})
    text = client.get("/metrics").get_data(as_text=True)
    assert re.search(r'runyard_db_pool_checked_out\{pid="\d+"\} \d', text), text[-500:]


def test_ready_reports_a_missing_bucket_and_a_reachable_one(make_client, monkeypatch) -> None:
    from tests.s3_server import start_s3_server

    with start_s3_server(buckets=["present"]) as server:
        for key, value in server.env().items():
            monkeypatch.setenv(key, value)
        present = make_client(artifacts_destination="s3://present/root").get("/ready")
        assert present.get_json()["checks"] == {"store": "ok", "artifacts": "ok"}
        missing = make_client(artifacts_destination="s3://absent/root").get("/ready")
        assert missing.status_code == 200
        assert "'absent' does not exist" in missing.get_json()["checks"]["artifacts"]


def test_query_strings_up_to_64_kib_are_served_and_longer_ones_get_json(make_client) -> None:
    client = make_client()
    padding = "x" * (MAX_QUERY_STRING_BYTES - 100)
    response = client.get(f"/api/2.0/mlflow/experiments/get?experiment_id=0&pad={padding}")
    assert response.status_code == 200, response.get_json()
    response = client.get(f"/api/2.0/mlflow/experiments/get?experiment_id=0&pad={padding * 2}")
    assert response.status_code == 414
    assert response.get_json()["error_code"] == "BAD_REQUEST"
