"""Chunked request bodies under gunicorn (``runyard.server.chunked_body``): broken framing is a
400 that names the fault, never a 500, keeps nothing of an upload and leaves no traceback; a
well-formed chunked body is read like any other."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.live_server import LiveServer

CREATE = "/api/2.0/mlflow/experiments/create"
ARTIFACTS = "/api/2.0/mlflow-artifacts/artifacts"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, Path]]:
    from tests.live_server import start_live_server

    tmp = tmp_path_factory.mktemp("chunked-body")
    dest = tmp / "dest"
    with start_live_server(f"sqlite:///{tmp / 'db.sqlite'}", str(dest)) as server:
        yield server, dest


def chunked(server: LiveServer, method: str, path: str, framed: bytes) -> tuple[int, dict]:
    """Send ``framed`` as the chunked body of one request; the status and the JSON answer."""
    parsed = urlsplit(server.url)
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    ).encode()
    with socket.create_connection((parsed.hostname, parsed.port), timeout=30) as sock:
        sock.sendall(head + framed)
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while data := sock.recv(65536):
            answer += data
    status_line, _, rest = answer.partition(b"\r\n")
    return int(status_line.split()[1]), json.loads(rest.partition(b"\r\n\r\n")[2])


def framed(*chunks: bytes, trailer: bytes = b"") -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n" + trailer + b"\r\n"


def test_a_well_formed_chunked_body_is_read(live: tuple[LiveServer, Path]) -> None:
    server, _dest = live
    status, answer = chunked(server, "POST", CREATE, framed(b'{"name": ', b'"chunked"}'))
    assert status == 200 and answer["experiment_id"]


@pytest.mark.parametrize(
    ("body", "fault"),
    [
        (b'zz\r\n{"name": "a"}\r\n0\r\n\r\n', "Invalid chunk size"),
        (b'-1\r\n{"name": "a"}\r\n0\r\n\r\n', "Invalid chunk size"),
        (b'e\r\n{"name": "b"}XX0\r\n\r\n', "Invalid chunk terminator"),
        (framed(b'{"name": "c"}', trailer=b"Not A Trailer\r\n"), "Invalid HTTP Header"),
    ],
    ids=["bad-size", "negative-size", "no-terminator", "bad-trailer"],
)
def test_broken_framing_is_a_400_naming_the_fault(
    live: tuple[LiveServer, Path], body: bytes, fault: str
) -> None:
    server, _dest = live
    status, answer = chunked(server, "POST", CREATE, body)
    assert status == 400
    assert answer["error_code"] == "BAD_REQUEST"
    assert answer["message"].startswith(f"Malformed chunked request body: {fault}")
    assert "Traceback" not in server.log()


def test_an_upload_with_broken_framing_keeps_nothing(live: tuple[LiveServer, Path]) -> None:
    server, dest = live
    good = framed(b"hello ", b"world")
    bad_mid = b"6\r\nhello \r\nzz\r\nworld\r\n0\r\n\r\n"
    bad_trailer = framed(b"hello ", b"world", trailer=b"Not A Trailer\r\n")
    answers = [
        chunked(server, "PUT", f"{ARTIFACTS}/chunked/{name}.txt", body)
        for name, body in (("good", good), ("bad-mid", bad_mid), ("bad-trailer", bad_trailer))
    ]
    assert [status for status, _ in answers] == [200, 400, 400]
    assert sorted(p.name for p in (dest / "chunked").iterdir()) == ["good.txt"]
    assert (dest / "chunked" / "good.txt").read_bytes() == b"hello world"
    assert "Traceback" not in server.log()
