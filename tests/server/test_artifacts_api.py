"""The artifact proxy blueprint: routes, headers, errors and path safety.

The app here is the blueprint plus the server's JSON error handler, in front of a real local
directory or a real S3-protocol server. Traffic through a live server is covered by the
artifact contract suite.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from runyard.artifacts.base import ArtifactRepo
from runyard.server.api.artifact_proxy import (
    AnyPathConverter,
    bp,
    checked_path,
    content_disposition,
)
from runyard.server.errors import register_error_handlers
from runyard.server.mount import MLFLOW_ARTIFACTS, mount

from tests.s3_server import S3Server, start_s3_server

API = "/api/2.0/mlflow-artifacts/artifacts"
INVALID = {"error_code": "INVALID_PARAMETER_VALUE", "message": "Invalid path"}


def make_app(repo: ArtifactRepo | None) -> Flask:
    app = Flask(__name__)
    register_error_handlers(app)
    app.url_map.converters["anypath"] = AnyPathConverter
    mount(app, bp, MLFLOW_ARTIFACTS)
    app.config["RUNYARD_ARTIFACT_REPO"] = repo
    return app


@pytest.fixture(scope="module")
def s3_server() -> Iterator[S3Server]:
    with start_s3_server(buckets=["proxy-dest"]) as server:
        yield server


@pytest.fixture(params=["local", "s3"])
def repo(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> ArtifactRepo:
    if request.param == "local":
        local = pytest.importorskip("runyard.artifacts.local")
        root = tmp_path / "dest"
        root.mkdir()
        return local.LocalArtifactRepo(str(root))
    server: S3Server = request.getfixturevalue("s3_server")
    for key, value in server.env().items():
        monkeypatch.setenv(key, value)
    from runyard.artifacts.s3 import S3ArtifactRepo

    return S3ArtifactRepo(f"s3://proxy-dest/{tmp_path.name}")


@pytest.fixture
def client(repo: ArtifactRepo) -> FlaskClient:
    return make_app(repo).test_client()


def body_of(response) -> dict:  # type: ignore[no-untyped-def]
    body = response.get_json()
    return {k: body[k] for k in ("error_code", "message") if k in body}


def test_put_get_list_delete_roundtrip(client: FlaskClient) -> None:
    assert client.put(f"{API}/0/run/artifacts/a.txt", data=b"hello").get_json() == {}
    assert client.put(f"{API}/0/run/artifacts/sub/b.bin", data=b"\x00\x01").status_code == 200
    got = client.get(f"{API}/0/run/artifacts/a.txt")
    assert got.status_code == 200 and got.data == b"hello"
    listed = client.get(API, query_string={"path": "0/run/artifacts"}).get_json()
    assert listed == {
        "files": [
            {"path": "a.txt", "is_dir": False, "file_size": 5},
            {"path": "sub", "is_dir": True},
        ]
    }
    assert client.get(API, query_string={"path": "0/run/artifacts/sub"}).get_json() == {
        "files": [{"path": "b.bin", "is_dir": False, "file_size": 2}]
    }
    assert client.get(API).get_json() == {"files": [{"path": "0", "is_dir": True}]}
    assert client.delete(f"{API}/0/run/artifacts/sub").get_json() == {}
    assert client.get(f"{API}/0/run/artifacts/sub/b.bin").status_code == 404


def test_ajax_prefix_serves_the_same_files(client: FlaskClient) -> None:
    client.put("/ajax-api/2.0/mlflow-artifacts/artifacts/x/y.txt", data=b"y")
    assert client.get(f"{API}/x/y.txt").data == b"y"
    assert client.get("/ajax-api/2.0/mlflow-artifacts/artifacts", query_string={"path": "x"}).json


@pytest.mark.parametrize("path", ["x/a.txt", "x/missing", "nowhere"])
def test_list_of_a_file_or_missing_path_is_empty(client: FlaskClient, path: str) -> None:
    client.put(f"{API}/x/a.txt", data=b"a")
    assert client.get(API, query_string={"path": path}).get_json() == {}


def test_missing_file_is_404_json(client: FlaskClient) -> None:
    response = client.get(f"{API}/0/r/artifacts/nope.txt")
    assert response.status_code == 404
    assert body_of(response) == {
        "error_code": "RESOURCE_DOES_NOT_EXIST",
        "message": "No such artifact: '0/r/artifacts/nope.txt'",
    }


def test_directory_download_is_400(client: FlaskClient) -> None:
    client.put(f"{API}/d/f.txt", data=b"f")
    response = client.get(f"{API}/d")
    assert response.status_code == 400
    assert "directory" in response.get_json()["message"]


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("page.html", "text/html"),
        ("pic.svg", "image/svg+xml"),
        ("code.js", "text/plain"),
        ("feed.xml", "text/plain"),
        ("MLmodel", "text/plain"),
        ("model.pkl", "application/octet-stream"),
        ("plot.png", "image/png"),
    ],
)
def test_downloads_are_attachments_that_cannot_be_sniffed(
    client: FlaskClient, name: str, content_type: str
) -> None:
    client.put(f"{API}/h/{name}", data=b"<script>alert(1)</script>")
    response = client.get(f"{API}/h/{name}")
    assert response.status_code == 200
    assert response.mimetype == content_type
    assert response.headers["Content-Disposition"] == f'attachment; filename="{name}"'
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]


def test_unicode_names_round_trip_with_encoded_disposition(client: FlaskClient) -> None:
    name = "résumé ✓.txt"
    assert client.put(f"{API}/u/{name}", data="ü".encode()).status_code == 200
    response = client.get(f"{API}/u/{name}")
    assert response.data == "ü".encode()
    assert (
        "filename*=UTF-8''r%C3%A9sum%C3%A9%20%E2%9C%93.txt"
        in response.headers["Content-Disposition"]
    )
    assert client.get(API, query_string={"path": "u"}).get_json()["files"][0]["path"] == name


def test_empty_upload_makes_an_empty_file(client: FlaskClient) -> None:
    assert client.put(f"{API}/e/empty.txt", data=b"").status_code == 200
    response = client.get(f"{API}/e/empty.txt")
    assert response.status_code == 200 and response.data == b""


TRAVERSALS = [
    "a/%2E%2E/%2E%2E/outside.txt",
    "a/%2e%2e/outside.txt",
    "a/%252e%252e/%252e%252e/outside.txt",
    "a/%25252e%25252e/outside.txt",
    "..%2Foutside.txt",
    "a/..%5C..%5Coutside.txt",
    "a%5C..%5C..%5Coutside.txt",
    "a/../../outside.txt",
    "a/x%00.txt",
    "C:%5Cwindows%5Coutside.txt",
]


@pytest.mark.parametrize("path", TRAVERSALS)
@pytest.mark.parametrize("method", ["put", "get", "delete"])
def test_traversal_is_refused_in_every_disguise(
    client: FlaskClient, tmp_path: Path, path: str, method: str
) -> None:
    sentinel = tmp_path / "outside.txt"
    sentinel.write_text("keep")
    response = getattr(client, method)(f"{API}/{path}", data=b"evil")
    assert response.status_code == 400, response.data
    assert body_of(response) == INVALID
    assert sentinel.read_text() == "keep"


@pytest.mark.parametrize("path", ["../", "/etc", "a/../..", "%2e%2e", "a\\..\\..", "x\x00"])
def test_list_refuses_traversal(client: FlaskClient, path: str) -> None:
    response = client.get(API, query_string={"path": path})
    assert response.status_code == 400
    assert body_of(response) == INVALID


def test_symlink_out_of_the_root_is_refused(tmp_path: Path) -> None:
    local = pytest.importorskip("runyard.artifacts.local")
    root = tmp_path / "dest"
    outside = tmp_path / "secret"
    root.mkdir()
    outside.mkdir()
    (outside / "key.txt").write_text("secret")
    os.symlink(outside, root / "link")
    os.symlink(outside / "key.txt", root / "key-link.txt")
    client = make_app(local.LocalArtifactRepo(str(root))).test_client()
    for path in ("link/key.txt", "key-link.txt"):
        response = client.get(f"{API}/{path}")
        assert response.status_code == 400 and body_of(response) == INVALID
    assert client.put(f"{API}/link/new.txt", data=b"x").status_code == 400
    assert client.delete(f"{API}/link/key.txt").status_code == 400
    assert client.delete(f"{API}/link").status_code == 400
    assert client.get(API, query_string={"path": "link"}).status_code == 400
    assert sorted(os.listdir(outside)) == ["key.txt"]
    assert (outside / "key.txt").read_text() == "secret"


@pytest.mark.parametrize("action", ["create", "complete", "abort"])
def test_multipart_is_not_implemented(client: FlaskClient, action: str) -> None:
    response = client.post(f"/api/2.0/mlflow-artifacts/mpu/{action}/x.bin", json={"path": "x"})
    assert response.status_code == 501
    assert response.get_json()["error_code"] == "NOT_IMPLEMENTED"


def test_server_without_artifact_serving_says_so() -> None:
    response = make_app(None).test_client().get(f"{API}/a.txt")
    assert response.status_code == 501
    assert response.get_json()["error_code"] == "NOT_IMPLEMENTED"


def test_checked_path_normalises_harmless_forms() -> None:
    assert checked_path("a//b/./c.txt") == "a/b/c.txt"
    assert checked_path("100% done.txt") == "100% done.txt"
    assert checked_path(None) == ""


def test_content_disposition_never_breaks_the_header() -> None:
    value = content_disposition('we"ird\\name.txt')
    assert value.startswith("attachment; filename=\"we_ird_name.txt\"; filename*=UTF-8''we%22")


# ---- through a live gunicorn server -------------------------------------------------------------
LARGE = 320 * 1024 * 1024
RSS_BOUND = 100 * 1024 * 1024


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int, Path]]:
    from tests.live_server import start_live_server

    tmp = tmp_path_factory.mktemp("live-artifacts")
    dest = tmp / "dest"
    with start_live_server(f"sqlite:///{tmp / 'db.sqlite'}", str(dest)) as server:
        assert server.process is not None
        yield server.url, server.process.pid, dest


class TreeRss:
    """Peak resident memory of a process and its children (gunicorn master and workers)."""

    def __init__(self, pid: int) -> None:
        import psutil

        self.root = psutil.Process(pid)
        self.start = self.peak = self.now()
        self.running = True
        self.thread = threading.Thread(target=self._sample, daemon=True)

    def now(self) -> int:
        import psutil

        total = 0
        for proc in [self.root, *self.root.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                total += proc.memory_info().rss
        return total

    def _sample(self) -> None:
        while self.running:
            self.peak = max(self.peak, self.now())
            time.sleep(0.02)

    def __enter__(self) -> TreeRss:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.running = False
        self.thread.join()


def _put_raw(url: str, path: str, size: int, send: int | None = None) -> int | None:
    """PUT like MLflow's client (raw body, Content-Length, not chunked) of generated bytes.

    With ``send`` smaller than ``size``, the connection is dropped mid-body (no reply)."""
    parsed = urlsplit(url)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=120)
    conn.putrequest("PUT", f"{API}/{quote(path)}")
    conn.putheader("Content-Length", str(size))
    conn.putheader("Content-Type", "application/octet-stream")
    conn.endheaders()
    block = bytes(range(256)) * 4096  # 1 MiB
    left = size if send is None else send
    while left > 0:
        piece = block[: min(left, len(block))]
        conn.send(piece)
        left -= len(piece)
    if send is not None:
        conn.sock.shutdown(socket.SHUT_RDWR)
        conn.close()
        return None
    status = conn.getresponse().status
    conn.close()
    return status


def _generated_sha(size: int) -> str:
    block = bytes(range(256)) * 4096
    sha = hashlib.sha256()
    for start in range(0, size, len(block)):
        sha.update(block[: min(len(block), size - start)])
    return sha.hexdigest()


def test_large_upload_and_download_keep_server_memory_bounded(
    live: tuple[str, int, Path],
) -> None:
    url, pid, dest = live
    with TreeRss(pid) as upload:
        assert _put_raw(url, "big/blob.bin", LARGE) == 200
    growth = upload.peak - upload.start
    print(f"server RSS growth: upload {growth >> 20} MiB")
    assert growth < RSS_BOUND, f"upload: +{growth >> 20}MiB"
    assert (dest / "big" / "blob.bin").stat().st_size == LARGE

    sha = hashlib.sha256()
    received = 0
    with TreeRss(pid) as download, requests.get(f"{url}{API}/big/blob.bin", stream=True) as reply:
        assert reply.status_code == 200
        for chunk in reply.iter_content(1024 * 1024):
            sha.update(chunk)
            received += len(chunk)
    assert received == LARGE
    assert sha.hexdigest() == _generated_sha(LARGE)
    growth = download.peak - download.start
    print(f"server RSS growth: download {growth >> 20} MiB")
    assert growth < RSS_BOUND, f"download: +{growth >> 20}MiB"


def test_interrupted_upload_leaves_nothing_visible(live: tuple[str, int, Path]) -> None:
    from runyard.artifacts.local import UPLOAD_PREFIX

    url, _pid, dest = live
    _put_raw(url, "cut/partial.bin", 16 * 1024 * 1024, send=3 * 1024 * 1024)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        leftovers = [p for p in dest.rglob("*") if p.name.startswith(UPLOAD_PREFIX)]
        if not leftovers and time.monotonic() > deadline - 14:
            break
        time.sleep(0.1)
    assert not (dest / "cut" / "partial.bin").exists()
    assert [p for p in dest.rglob("*") if p.name.startswith(UPLOAD_PREFIX)] == []
    assert requests.get(f"{url}{API}/cut/partial.bin").status_code == 404
    # the server is still healthy and takes the next upload
    assert _put_raw(url, "cut/whole.bin", 1024) == 200
