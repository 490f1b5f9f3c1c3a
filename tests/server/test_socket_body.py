"""Request bodies read from the socket under gunicorn (``runyard.server.socket_body``).

The unit tests drive gunicorn's own ``Body``, ``LengthReader`` and ``SocketUnreader`` over a
socket pair, with the body's bytes split between gunicorn's buffers and the socket. The live
tests send requests to a real ``runyard server`` (gunicorn): requests after a body on one
keep-alive connection, after a body the handler never read, and a large body.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from gunicorn.http.body import Body, ChunkedReader, LengthReader
from gunicorn.http.unreader import SocketUnreader
from runyard.server.socket_body import SocketBody, read_bodies_from_socket, socket_body

ARTIFACTS = "/api/2.0/mlflow-artifacts/artifacts"


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    server, client = socket.socketpair()
    server.settimeout(10)  # a read past the body's end fails the test instead of hanging it
    with server, client:
        yield server, client


def gunicorn_body(sock: socket.socket, length: int) -> Body:
    return Body(LengthReader(SocketUnreader(sock), length))


def read_all(body: SocketBody, block: int) -> bytes:
    parts = []
    buffer = bytearray(block)
    while count := body.readinto(buffer):
        parts.append(bytes(buffer[:count]))
    return b"".join(parts)


@pytest.mark.parametrize("block", [1, 7, 4096, 1 << 20])
def test_a_body_split_across_gunicorns_buffers_and_the_socket_reads_back_whole(
    pair: tuple[socket.socket, socket.socket], block: int
) -> None:
    server, client = pair
    noise = os.urandom(50_000).replace(b"\n", b"")
    payload = noise[:100] + b"\n" + noise[100:]
    pipelined = b"GET /next HTTP/1.1\r\n\r\n"
    body = gunicorn_body(server, len(payload))
    # gunicorn has read the first line of the body into its line buffer and 8 KiB ahead
    client.sendall(payload)
    first_line = body.readline()
    assert first_line == payload[:101]
    client.sendall(pipelined)

    fast = SocketBody(body)
    assert first_line + read_all(fast, block) == payload
    assert body.reader.length == 0
    # the next request's bytes stay with gunicorn, which parses them next
    assert body.reader.unreader.read() == pipelined
    assert fast.readinto(bytearray(10)) == 0


def test_read_ahead_past_the_body_goes_back_to_gunicorn(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    server, client = pair
    unreader = SocketUnreader(server)
    client.sendall(b"abcdefNEXT REQUEST")
    unreader.unread(unreader.chunk())  # what the request parser leaves behind the headers
    body = Body(LengthReader(unreader, 6))
    fast = SocketBody(body)
    assert fast.read() == b"abcdef"
    assert body.reader.length == 0
    assert unreader.read() == b"NEXT REQUEST"


def test_each_read_keeps_gunicorns_count_of_what_is_left(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    server, client = pair
    body = gunicorn_body(server, 30)
    fast = SocketBody(body)
    client.sendall(b"x" * 10)
    assert fast.readinto(bytearray(100)) == 10
    assert body.reader.length == 20
    # a handler that stops here leaves gunicorn 20 bytes to discard before the next request
    client.sendall(b"y" * 20)
    assert body.read() == b"y" * 20


def test_a_body_cut_short_ends_early_and_says_how_much_was_missing(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    server, client = pair
    body = gunicorn_body(server, 1000)
    client.sendall(b"z" * 300)
    client.shutdown(socket.SHUT_WR)
    fast = SocketBody(body)
    assert fast.read() == b"z" * 300
    assert body.reader.length == 700


def test_a_body_over_tls_reads_back_whole(tmp_path: Path) -> None:
    """gunicorn with a certificate hands the worker an ``SSLSocket``: ``recv_into`` decrypts."""
    from tests.ftp_server import _certificate

    certificate = _certificate(tmp_path)
    server_side = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_side.load_cert_chain(certificate, tmp_path / "key.pem")
    client_side = ssl.create_default_context(cafile=str(certificate))
    raw_server, raw_client = socket.socketpair()
    payload = os.urandom(3 * 1024 * 1024 + 5)
    received: list[bytes] = []

    def serve() -> None:
        with server_side.wrap_socket(raw_server, server_side=True) as tls:
            tls.settimeout(30)
            body = gunicorn_body(tls, len(payload))
            received.append(body.read(100))  # gunicorn read some before the handler
            received.append(read_all(SocketBody(body), 1 << 20))

    thread = threading.Thread(target=serve)
    thread.start()
    with client_side.wrap_socket(raw_client, server_hostname="127.0.0.1") as tls:
        tls.sendall(payload)
        thread.join(60)
    assert b"".join(received) == payload


def test_only_bodies_gunicorn_reads_by_length_are_taken_over(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    server, _client = pair
    assert socket_body({"wsgi.input": gunicorn_body(server, 5)}) is not None
    chunked = Body(ChunkedReader(None, SocketUnreader(server)))
    assert socket_body({"wsgi.input": chunked}) is None
    assert socket_body({"wsgi.input": open(os.devnull, "rb")}) is None  # noqa: SIM115
    assert socket_body({}) is None

    seen: list[object] = []
    app = read_bodies_from_socket(lambda environ, start: seen.append(environ["wsgi.input"]) or [])
    app({"wsgi.input": gunicorn_body(server, 5)}, lambda *a: None)
    assert isinstance(seen[0], SocketBody)


# ---- through a live server ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    from tests.live_server import start_live_server

    tmp = tmp_path_factory.mktemp("socket-body")
    dest = tmp / "dest"
    with start_live_server(f"sqlite:///{tmp / 'db.sqlite'}", str(dest)) as server:
        yield server.url, dest


def connect(url: str) -> http.client.HTTPConnection:
    parsed = urlsplit(url)
    return http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=60)


def call(
    conn: http.client.HTTPConnection, method: str, path: str, body: bytes = b""
) -> tuple[int, bytes, bool]:
    """One request on ``conn``: status, body, and whether the server keeps the connection."""
    kind = "application/octet-stream" if ARTIFACTS in path else "application/json"
    conn.request(method, path, body=body, headers={"Content-Type": kind})
    response = conn.getresponse()
    data = response.read()
    return response.status, data, not response.will_close


def test_requests_after_bodies_on_one_connection_are_answered(live: tuple[str, Path]) -> None:
    url, _dest = live
    payload = os.urandom(3000)
    name = json.dumps({"name": "one connection"}).encode()
    conn = connect(url)
    put = call(conn, "PUT", f"{ARTIFACTS}/conn/a.bin", payload)
    sock = conn.sock
    create = call(conn, "POST", "/api/2.0/mlflow/experiments/create", name)
    get = call(conn, "GET", f"{ARTIFACTS}/conn/a.bin")
    assert conn.sock is sock  # one connection throughout
    conn.close()
    assert [answer[0] for answer in (put, create, get)] == [200, 200, 200]
    assert json.loads(create[1])["experiment_id"]
    assert get[1] == payload
    assert put[2] and create[2] and get[2]


def test_a_body_the_handler_never_read_does_not_reach_the_next_request(
    live: tuple[str, Path],
) -> None:
    url, _dest = live
    # 6 KiB that look like requests, all in gunicorn's first read: the read-ahead that
    # SocketBody takes over holds all of it. (gunicorn itself discards an unread body still on
    # the socket, up to 64 KiB, before the next request, or closes the connection.)
    refused = b"GET /health HTTP/1.1\r\n\r\n" * 250
    conn = connect(url)
    # an unsafe path is refused before the body is read
    status, answer, kept = call(conn, "PUT", f"{ARTIFACTS}/..%2Fescape.bin", refused)
    assert status == 400, answer
    assert kept
    sock = conn.sock
    query = "experiment_name=Default"
    status, found, _kept = call(conn, "GET", f"/api/2.0/mlflow/experiments/get-by-name?{query}")
    assert conn.sock is sock
    conn.close()
    assert status == 200
    assert json.loads(found)["experiment"]["name"] == "Default"


def test_a_large_upload_arrives_whole(live: tuple[str, Path]) -> None:
    url, dest = live
    payload = os.urandom(24 * 1024 * 1024 + 17)
    conn = connect(url)
    status, _answer, _kept = call(conn, "PUT", f"{ARTIFACTS}/big/one.bin", payload)
    conn.close()
    assert status == 200
    stored = (dest / "big" / "one.bin").read_bytes()
    assert hashlib.sha256(stored).digest() == hashlib.sha256(payload).digest()
