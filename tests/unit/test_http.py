"""The shared HTTP client against a real local HTTP server that answers from a script."""

from __future__ import annotations

import gzip
import io
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from runyard.entities import Param
from runyard.errors import (
    InvalidParameterValue,
    ResourceDoesNotExist,
    RunyardError,
    TemporarilyUnavailable,
)
from runyard.http import BODY_BLOCK_SIZE, HttpClient, backoff_delay, retry_after_seconds


class ScriptedServer:
    """Answers each request with the next scripted (status, headers, body); records requests."""

    def __init__(self) -> None:
        self.script: list[tuple[int, dict[str, str], bytes]] = []
        self.requests: list[dict[str, object]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                outer.requests.append(
                    {
                        "method": self.command,
                        "path": self.path,
                        "headers": dict(self.headers),
                        "body": self.rfile.read(length),
                    }
                )
                status, headers, body = outer.script.pop(0) if outer.script else (200, {}, b"{}")
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = _answer

            def log_message(self, *args: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def reply(self, status: int, body: object = None, **headers: str) -> None:
        raw = body if isinstance(body, bytes) else json.dumps(body or {}).encode()
        self.script.append((status, headers, raw))


@pytest.fixture(scope="module")
def _running_server() -> Iterator[ScriptedServer]:
    srv = ScriptedServer()
    yield srv
    srv.server.shutdown()
    srv.server.server_close()


@pytest.fixture
def server(_running_server: ScriptedServer) -> ScriptedServer:
    _running_server.script.clear()
    _running_server.requests.clear()
    return _running_server


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client(url: str, retries: int = 3, **kwargs: object) -> tuple[HttpClient, Sleeps]:
    sleeps = Sleeps()
    return HttpClient(url, max_retries=retries, backoff_factor=0.5, sleep=sleeps, **kwargs), sleeps


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_transient_statuses_are_retried_then_succeed(server: ScriptedServer, status: int) -> None:
    server.reply(status, {"error_code": "TEMPORARILY_UNAVAILABLE", "message": "busy"})
    server.reply(status, b"<html>proxy</html>")
    server.reply(200, {"ok": 1})
    http, sleeps = client(server.url)
    assert http.call("POST", "/api/x", json_body={"a": 1}) == {"ok": 1}
    assert len(server.requests) == 3
    assert len(sleeps) == 2
    # the write was replayed with the same body each time
    assert {r["body"] for r in server.requests} == {b'{"a": 1}'}


def test_retry_after_is_honoured(server: ScriptedServer) -> None:
    server.reply(429, {}, **{"Retry-After": "3"})
    server.reply(200, {})
    http, sleeps = client(server.url)
    http.call("GET", "/x")
    assert sleeps == [3.0]


def test_exhausted_503_raises_temporarily_unavailable(server: ScriptedServer) -> None:
    for _ in range(3):
        server.reply(503, b"down for maintenance")
    http, sleeps = client(server.url, retries=2)
    with pytest.raises(TemporarilyUnavailable, match="HTTP 503"):
        http.call("GET", "/x")
    assert len(server.requests) == 3
    assert len(sleeps) == 2


def test_exhausted_502_returns_the_error(server: ScriptedServer) -> None:
    for _ in range(2):
        server.reply(502, b"bad gateway")
    http, _ = client(server.url, retries=1)
    with pytest.raises(RunyardError, match="HTTP 502") as info:
        http.call("GET", "/x")
    assert not isinstance(info.value, TemporarilyUnavailable)


def test_connection_refused_raises_temporarily_unavailable_after_retries() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    http, sleeps = client(f"http://127.0.0.1:{port}", retries=2)
    with pytest.raises(TemporarilyUnavailable, match="3 tries"):
        http.call("POST", "/x", json_body={})
    assert len(sleeps) == 2


@pytest.mark.parametrize(
    ("status", "body", "expected", "code"),
    [
        (
            400,
            {"error_code": "INVALID_PARAMETER_VALUE", "message": "bad"},
            InvalidParameterValue,
            None,
        ),
        (
            404,
            {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "gone"},
            ResourceDoesNotExist,
            None,
        ),
        (404, b"<html>Not Found</html>", RunyardError, "ENDPOINT_NOT_FOUND"),
        (500, {"error_code": "INTERNAL_ERROR", "message": "boom"}, RunyardError, "INTERNAL_ERROR"),
    ],
)
def test_errors_are_not_retried_and_map_to_runyard_errors(
    server: ScriptedServer, status: int, body: object, expected: type, code: str | None
) -> None:
    server.reply(status, body)
    http, sleeps = client(server.url)
    with pytest.raises(expected) as info:
        http.call("GET", "/x")
    assert len(server.requests) == 1 and sleeps == []
    if code:
        assert info.value.error_code == code


def test_seekable_upload_is_rewound_on_retry(server: ScriptedServer) -> None:
    server.reply(503, {})
    server.reply(200, {})
    http, _ = client(server.url)
    payload = io.BytesIO(b"0123456789")
    payload.seek(2)
    http.request("PUT", "/f", data=payload)
    assert [r["body"] for r in server.requests] == [b"23456789", b"23456789"]


class _CountingFile(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.sizes: list[int] = []

    def read(self, size: int | None = -1) -> bytes:
        self.sizes.append(-1 if size is None else size)
        return super().read(size)


def test_a_file_body_is_sent_in_large_blocks(server: ScriptedServer) -> None:
    """An uploaded artifact is read and written in ``BODY_BLOCK_SIZE`` blocks, not urllib3's
    16 KiB: a fifth of the client's and the server's CPU per proxied byte."""
    data = b"x" * (3 * BODY_BLOCK_SIZE + 5)
    body = _CountingFile(data)
    http, _ = client(server.url)
    http.request("PUT", "/f", data=body, headers={"Content-Length": str(len(data))})
    assert server.requests[0]["body"] == data
    assert set(body.sizes) == {BODY_BLOCK_SIZE}
    assert len(body.sizes) == 5  # four blocks, then the empty read that ends the body


def test_one_shot_stream_is_not_retried(server: ScriptedServer) -> None:
    server.reply(502, {})
    http, sleeps = client(server.url)
    response = http.request("PUT", "/f", data=iter([b"abc"]))
    assert response.status_code == 502
    assert sleeps == []


def test_basic_auth_from_settings(server: ScriptedServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNYARD_TRACKING_USERNAME", "ann")
    monkeypatch.setenv("RUNYARD_TRACKING_PASSWORD", "s3cret")
    http, _ = client(server.url)
    http.call("GET", "/x")
    assert server.requests[0]["headers"]["Authorization"] == "Basic YW5uOnMzY3JldA=="


def test_bearer_token_from_mlflow_name(
    server: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", "tok")
    http, _ = client(server.url)
    http.call("GET", "/x")
    assert server.requests[0]["headers"]["Authorization"] == "Bearer tok"


def test_gzip_replies_are_decoded(server: ScriptedServer) -> None:
    server.reply(200, gzip.compress(b'{"big": true}'), **{"Content-Encoding": "gzip"})
    http, _ = client(server.url)
    assert http.call("GET", "/x") == {"big": True}
    assert "gzip" in server.requests[0]["headers"]["Accept-Encoding"]


def test_settings_supply_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNYARD_HTTP_TIMEOUT", "7")
    monkeypatch.setenv("RUNYARD_HTTP_MAX_RETRIES", "2")
    monkeypatch.setenv("RUNYARD_HTTP_BACKOFF_FACTOR", "0.25")
    http = HttpClient("http://127.0.0.1:1/")
    assert (http.timeout, http.max_retries, http.backoff_factor) == (7.0, 2, 0.25)
    assert http.url("/api/x") == "http://127.0.0.1:1/api/x"


def test_backoff_is_full_jitter_and_capped() -> None:
    assert backoff_delay(3, 0.5, rng=lambda: 1.0) == 4.0
    assert backoff_delay(3, 0.5, rng=lambda: 0.0) == 0.0
    assert backoff_delay(30, 0.5, rng=lambda: 1.0) == 60.0


def test_retry_after_parsing() -> None:
    assert retry_after_seconds("2.5") == 2.5
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0


# ---- RestStore over the same transport ----------------------------------------------------------
def test_rest_store_follows_metric_history_pages(server: ScriptedServer) -> None:
    from runyard.store.rest import RestStore

    server.reply(200, {"metrics": [{"key": "m", "value": 1, "timestamp": 5, "step": 0}]})
    server.reply(200, {"next_page_token": "t2"} | {"metrics": []})
    server.reply(200, {"metrics": [{"key": "m", "value": "NaN", "timestamp": 6, "step": 1}]})
    http, _ = client(server.url)
    store = RestStore(server.url, http=http)
    first = store.get_metric_history("r1", "m", max_results=1)
    assert [m.value for m in first] == [1.0] and first.token is None
    everything = store.get_metric_history("r1", "m")
    assert len(everything) == 1 and everything.token is None
    assert "page_token=t2" in str(server.requests[-1]["path"])
    assert "run_uuid=r1" in str(server.requests[0]["path"])


def test_rest_store_raises_temporarily_unavailable_when_the_server_is_away() -> None:
    from runyard.store.rest import RestStore

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    http, sleeps = client(url, retries=2)
    store = RestStore(url, http=http)
    with pytest.raises(TemporarilyUnavailable):
        store.log_batch("r1", params=[Param("p", "1")])
    assert len(sleeps) == 2
    with pytest.raises(TemporarilyUnavailable):
        store.check_ready()


def test_rest_store_check_ready_reports_an_unhealthy_server(server: ScriptedServer) -> None:
    from runyard.store.rest import RestStore

    server.reply(500, b"database is down")
    http, sleeps = client(server.url)
    with pytest.raises(TemporarilyUnavailable, match="not ready"):
        RestStore(server.url, http=http).check_ready()
    assert sleeps == [] and server.requests[0]["path"] == "/health"


def test_rest_store_validates_a_batch_before_sending(server: ScriptedServer) -> None:
    from runyard.store.rest import RestStore

    http, _ = client(server.url)
    with pytest.raises(InvalidParameterValue, match="Duplicate"):
        RestStore(server.url, http=http).log_batch("r1", params=[Param("p", "1"), Param("p", "2")])
    assert server.requests == []
