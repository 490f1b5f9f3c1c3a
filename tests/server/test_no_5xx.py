"""A client's mistake or a passing fault is never a 5xx that MLflow's client would retry for
minutes: long names, deep JSON, disguised paths, a full disk, an S3 endpoint that went away."""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from runyard.errors import InvalidParameterValue
from runyard.tracking.client import Client

from tests.s3_server import start_s3_server
from tests.server.conftest import Api
from tests.tiny_disk import tiny_disk

ARTIFACTS = "/api/2.0/mlflow-artifacts/artifacts"


def test_artifact_name_longer_than_the_filesystem_allows_is_400(make_client, tmp_path) -> None:
    client = make_client()
    for prefix in ("/api/2.0", "/ajax-api/2.0"):
        response = client.put(f"{prefix}/mlflow-artifacts/artifacts/d/{'n' * 300}", data=b"x")
        assert response.status_code == 400, response.data
        assert "longer" in response.get_json()["message"]
    local = Client(str(tmp_path / "local-mlruns"))
    run_id = local.create_run("0").info.run_id
    source = tmp_path / "src.txt"
    source.write_text("x")
    with pytest.raises(InvalidParameterValue, match="longer than the file system allows"):
        local.log_artifact(run_id, str(source), "a" * 300)


@pytest.mark.parametrize(
    "path",
    [
        "a%2523b",  # the server sees a%23b: still encoded
        "a%23b",  # the server sees a#b
        "%2e%2e%2fetc%2fpasswd",
        "%25252525252e%25252525252e/etc",  # encoded six times
        "/etc/passwd",  # artifacts//etc/passwd: absolute, not a redirect
        "a/\uff0e\uff0e/\uff0e\uff0e/etc",
    ],
)
@pytest.mark.parametrize("method", ["put", "get", "delete"])
def test_disguised_and_absolute_artifact_paths_are_400(
    make_client, tmp_path: Path, path: str, method: str
) -> None:
    client = make_client()
    response = getattr(client, method)(f"{ARTIFACTS}/{path}", data=b"evil")
    assert response.status_code == 400, (path, response.status_code, response.data)
    assert response.get_json()["message"] == "Invalid path"
    assert not [f for _, _, files in os.walk(tmp_path / "mlartifacts") for f in files]


def _json_routes(app) -> Iterator[tuple[str, str]]:  # type: ignore[no-untyped-def]
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<[^>]+>", "x", rule.rule)
        if not path.startswith(("/api/", "/ajax-api/")) or "mlflow-artifacts" in path:
            continue
        for method in sorted((rule.methods or set()) & {"POST", "PATCH", "DELETE"}):
            yield method, path


def test_deeply_nested_json_is_400_quickly_on_every_json_endpoint(make_client) -> None:
    client = make_client()
    routes = list(_json_routes(client.application))
    assert len(routes) > 20
    body = "[" * 200_000
    for method, path in routes:
        started = time.monotonic()
        response = client.open(path, method=method, data=body, content_type="application/json")
        if method == "DELETE" and path.endswith("/x"):  # takes its id from the URL only
            assert response.status_code == 404, (method, path, response.data[:200])
        else:
            assert response.status_code == 400, (method, path, response.data[:200])
        assert time.monotonic() - started < 2.0, (method, path)


def test_full_artifact_disk_is_507_keeps_data_and_recovers(make_client, tmp_path: Path) -> None:
    with tiny_disk(tmp_path / "disk") as disk:
        client = make_client(artifacts_destination=str(disk))
        assert client.put(f"{ARTIFACTS}/keep.txt", data=b"precious").status_code == 200
        response = client.put(f"{ARTIFACTS}/big.bin", data=b"x" * (2 * 1024 * 1024))
        assert response.status_code == 507, response.data
        assert "out of disk space" in response.get_json()["message"]
        assert sorted(os.listdir(disk)) == ["keep.txt"]  # no partial upload left behind
        assert client.get(f"{ARTIFACTS}/keep.txt").data == b"precious"
        filler = disk / "filler"
        with contextlib.suppress(OSError), open(filler, "wb") as out:
            out.write(b"\0" * (2 * 1024 * 1024))
        assert client.put(f"{ARTIFACTS}/small.txt", data=b"s" * 8192).status_code == 507
        filler.unlink()  # space returns: the same request now succeeds, nothing restarted
        assert client.put(f"{ARTIFACTS}/small.txt", data=b"s" * 8192).status_code == 200
        assert client.get(f"{ARTIFACTS}/small.txt").data == b"s" * 8192


def test_s3_endpoint_down_during_download_is_503_with_retry_after(
    make_client, monkeypatch: pytest.MonkeyPatch
) -> None:
    with start_s3_server(buckets=["down-test"]) as server:
        for key, value in server.env().items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
        client = make_client(artifacts_destination="s3://down-test/dest")
        assert client.put(f"{ARTIFACTS}/a.txt", data=b"hello").status_code == 200
    # the S3 server is gone now
    for prefix in (ARTIFACTS, "/ajax-api/2.0/mlflow-artifacts/artifacts"):
        response = client.get(f"{prefix}/a.txt")
        assert response.status_code == 503, response.data
        assert response.headers["Retry-After"]
        assert "unreachable" in response.get_json()["message"]
    listing = client.get(ARTIFACTS)
    assert listing.status_code == 503 and listing.headers["Retry-After"]


def test_location_over_the_limit_is_400_on_every_store(
    make_client, tmp_path: Path, any_store_uri: str
) -> None:
    api = Api(make_client(backend_store_uri=any_store_uri))
    location = f"mlflow-artifacts:/{'a' * 2100}"
    status, body = api.post("experiments/create", {"name": "long", "artifact_location": location})
    assert status == 400 and "longer than" in body["message"], body
