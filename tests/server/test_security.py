"""Host check, cross-origin writes, content types, size limits, artifact locations, headers."""

from __future__ import annotations

import pytest
from runyard.errors import InvalidParameterValue
from runyard.server.security import check_artifact_location, host_allowed
from runyard.server.settings import ServerConfig

from tests.server.conftest import Api


def _cfg(**overrides) -> ServerConfig:
    return ServerConfig.resolve(overrides)


@pytest.mark.parametrize(
    "host",
    [
        "localhost:5000",
        "127.0.0.1:5000",
        "[::1]:5000",
        "10.1.2.3:5000",
        "192.168.0.7",
        "172.16.4.4:80",
        "runyard",
        "runyard.ml.svc",
        "runyard.ml.svc.cluster.local:5000",
    ],
)
def test_default_allowed_hosts(host: str) -> None:
    assert host_allowed(host, _cfg())


@pytest.mark.parametrize("host", ["evil.example.com", "evil.example.com:5000", "8.8.8.8", ""])
def test_default_refused_hosts(host: str) -> None:
    assert not host_allowed(host, _cfg())


def test_explicit_allowed_hosts_with_wildcards() -> None:
    cfg = _cfg(allowed_hosts="mlflow.example.com,*.corp.example")
    assert host_allowed("mlflow.example.com:443", cfg)
    assert host_allowed("a.corp.example", cfg)
    assert host_allowed("10.0.0.1", cfg)  # IP literals on private networks stay allowed
    assert not host_allowed("localhost.evil.example", cfg)
    assert not host_allowed("runyard", cfg)
    assert host_allowed("anything.example", _cfg(allowed_hosts="*"))


def test_bad_host_header_is_403_but_probes_answer(make_client) -> None:
    client = make_client()
    response = client.get(
        "/api/2.0/mlflow/experiments/get?experiment_id=0", headers={"Host": "rebind.evil.com"}
    )
    assert response.status_code == 403
    assert response.get_json()["error_code"] == "PERMISSION_DENIED"
    assert client.get("/health", headers={"Host": "rebind.evil.com"}).status_code == 200


def test_content_type_must_be_json(make_client) -> None:
    client = make_client()
    url = "/api/2.0/mlflow/experiments/create"
    response = client.post(url, data="name=x", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert response.get_json()["message"] == (
        "Bad Request. Content-Type must be one of ['application/json']."
    )
    response = client.post(url, data='{"name": "x"}')
    assert response.status_code == 400
    assert response.get_json()["message"] == "Bad Request. Content-Type header is missing."
    response = client.post(
        url, data='{"name": "x"}', content_type="application/json; charset=utf-8"
    )
    assert response.status_code == 200


def test_cross_origin_writes_refused_unless_allowed(make_client) -> None:
    client = make_client()
    url = "/api/2.0/mlflow/experiments/create"
    response = client.post(url, json={"name": "x"}, headers={"Origin": "https://evil.example"})
    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response.headers
    same = client.post(url, json={"name": "y"}, headers={"Origin": "http://localhost"})
    assert same.status_code == 200

    allowed = make_client(cors_allowed_origins="https://ui.example")
    response = allowed.post(url, json={"name": "z"}, headers={"Origin": "https://ui.example"})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "https://ui.example"
    preflight = allowed.options(
        url,
        headers={"Origin": "https://ui.example", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 204
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    refused = allowed.options(url, headers={"Origin": "https://evil.example"})
    assert refused.status_code == 403


def test_request_too_large_is_413_before_parsing(make_client) -> None:
    client = make_client(max_request_bytes=1000)
    body = '{"name": "' + "x" * 2000 + '"}'
    response = client.post(
        "/api/2.0/mlflow/experiments/create", data=body, content_type="application/json"
    )
    assert response.status_code == 413
    assert response.get_json()["error_code"] == "REQUEST_LIMIT_EXCEEDED"
    small = client.post("/api/2.0/mlflow/experiments/create", json={"name": "ok"})
    assert small.status_code == 200


def test_artifact_uploads_have_their_own_cap(make_client) -> None:
    client = make_client(max_request_bytes=100, max_artifact_bytes=1000)
    url = "/api/2.0/mlflow-artifacts/artifacts/0/r/artifacts/big.bin"
    assert client.put(url, data=b"x" * 2000).status_code == 413
    response = client.put(url, data=b"x" * 500)
    assert response.status_code != 413


def test_security_headers(make_client) -> None:
    response = make_client().get("/api/2.0/mlflow/experiments/get?experiment_id=0")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"]


def test_artifact_location_rules(tmp_path) -> None:
    serving = _cfg(artifacts_destination=str(tmp_path / "dest"))
    assert check_artifact_location("mlflow-artifacts:/team-a", serving)
    assert check_artifact_location(str(tmp_path / "dest" / "sub"), serving)
    for bad in (
        "/etc",
        str(tmp_path / "dest" / ".." / "other"),
        "file:///etc/passwd",
        "http://169.254.169.254/latest",
        "s3://someone-elses-bucket/x",
        "mlflow-artifacts://evil.example/x",
    ):
        with pytest.raises(InvalidParameterValue, match=r"not allowed|Invalid"):
            check_artifact_location(bad, serving)
    not_serving = _cfg(serve_artifacts="false", default_artifact_root="s3://bucket/runs")
    assert check_artifact_location("s3://bucket/runs/team", not_serving)
    for bad in ("s3://bucket/other", "s3://bucket/runs/../x", "mlflow-artifacts:/x"):
        with pytest.raises(InvalidParameterValue, match=r"not allowed|Invalid"):
            check_artifact_location(bad, not_serving)


def test_create_experiment_with_foreign_location_is_400(make_client) -> None:
    api = Api(make_client())
    status, body = api.post("experiments/create", {"name": "x", "artifact_location": "/etc"})
    assert (status, body["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    status, body = api.post(
        "experiments/create", {"name": "y", "artifact_location": "mlflow-artifacts:/custom"}
    )
    assert status == 200, body
