"""Request bodies read from the socket under gunicorn (``runyard.server.socket_body``).

The unit tests drive gunicorn's own ``Body``, ``LengthReader`` and ``SocketUnreader`` over a
socket pair, with the body's bytes split between gunicorn's buffers and the socket. The live
tests send requests to a real ``runyard server`` (gunicorn): requests after a body on one
keep-alive connection, after a body the handler never read, and a large body.
"""

from __future__ import annotations

import hashlib
import http.client
import io
import json
import os
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from gunicorn.http.body import Body, ChunkedReader, LengthReader
from gunicorn.http.unreader import SocketUnreader
from runyard.server.socket_body import (
    IdleLimitedUnreader,
    SocketBody,
    read_bodies_from_socket,
    socket_body,
)

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
    server, client = pair
    assert socket_body({"wsgi.input": gunicorn_body(server, 5)}) is not None
    chunked = Body(ChunkedReader(None, SocketUnreader(server)))
    assert socket_body({"wsgi.input": chunked}) is None
    assert socket_body({"wsgi.input": open(os.devnull, "rb")}) is None  # noqa: SIM115
    assert socket_body({}) is None

    seen: list[object] = []
    client.sendall(b"12345")  # the body the handler leaves unread, read off after it
    app = read_bodies_from_socket(lambda environ, start: seen.append(environ["wsgi.input"]) or [])
    app({"wsgi.input": gunicorn_body(server, 5)}, lambda *a: None)
    assert isinstance(seen[0], SocketBody)


def test_what_the_handler_left_unread_is_read_off_exactly_before_the_answer(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    server, client = pair
    body = gunicorn_body(server, 3000)
    pipelined = b"GET /next HTTP/1.1\r\n\r\n"
    client.sendall(os.urandom(3000) + pipelined)
    answered: list[int] = []

    def handler(environ: dict, start: object) -> list[bytes]:
        assert environ["wsgi.input"].read(100)  # reads a little, leaves the rest
        answered.append(body.reader.length)
        return [b"refused"]

    assert read_bodies_from_socket(handler)({"wsgi.input": body}, lambda *a: None) == [b"refused"]
    assert answered and body.reader.length == 0
    # the next request is still on the socket, where the worker's poller sees it; gunicorn's own
    # discard (8 KiB reads) would have taken it into a buffer the poller cannot see
    assert body.reader.unreader.take_buffered() == b""
    assert server.recv(1024) == pipelined


def test_a_remainder_over_the_limit_is_left_to_gunicorn(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    from runyard.server.socket_body import DISCARD_LIMIT

    server, client = pair
    body = gunicorn_body(server, DISCARD_LIMIT + 1)
    client.sendall(b"x" * 10)
    read_bodies_from_socket(lambda environ, start: [])({"wsgi.input": body}, lambda *a: None)
    assert body.reader.length == DISCARD_LIMIT + 1
    assert server.recv(100) == b"x" * 10


def test_a_client_that_stops_sending_is_not_waited_for_past_the_deadline(
    pair: tuple[socket.socket, socket.socket], monkeypatch: pytest.MonkeyPatch
) -> None:
    from runyard.server import socket_body as module

    monkeypatch.setattr(module, "DISCARD_SECONDS", 0.2)
    server, client = pair
    body = gunicorn_body(server, 30)
    client.sendall(b"y" * 10)
    read_bodies_from_socket(lambda environ, start: [])({"wsgi.input": body}, lambda *a: None)
    assert body.reader.length == 20
    assert server.gettimeout() == 10  # the socket's own timeout is left as it was


def test_a_client_that_stops_sending_mid_body_is_let_go(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    server, client = pair
    server.settimeout(None)  # blocking, as gunicorn hands it over (pytest-timeout guards)
    body = Body(LengthReader(IdleLimitedUnreader(server, 0.2), 30))
    client.sendall(b"x" * 10)
    fast = SocketBody(body)
    assert fast.read() == b"x" * 10  # then nothing more for longer than the limit
    assert body.reader.length == 20
    assert client.recv(10) == b""  # the connection is ended, not left hanging


def test_a_client_that_stops_sending_its_headers_is_let_go(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    server, client = pair
    reader = IdleLimitedUnreader(server, 0.2)
    client.sendall(b"GET / HTTP/1.1\r\n")
    assert reader.chunk() == b"GET / HTTP/1.1\r\n"
    assert reader.chunk() == b""
    assert client.recv(10) == b""


def test_only_http1_socket_readers_get_the_idle_limit(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    from gunicorn.http.parser import RequestParser
    from runyard.server.socket_body import limit_idle_reads

    server, _client = pair
    parser = RequestParser(type("Cfg", (), {})(), server, ("127.0.0.1", 1))
    parser.unreader.unread(b"GET /")  # read ahead before the limit is put in place
    limit_idle_reads(parser, 7)
    assert type(parser.unreader) is IdleLimitedUnreader
    assert parser.unreader.idle_seconds == 7
    assert parser.unreader.read() == b"GET /"
    other = type("Http2", (), {})()
    limit_idle_reads(other, 7)  # no unreader: left alone
    assert not hasattr(other, "unreader")


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


class OneReader(io.BufferedReader):
    """A socket's reader that every ``HTTPResponse`` on it shares (as its ``makefile``), so the
    bytes one response read ahead belong to the next; responses' ``close`` leaves it open."""

    def __init__(self, sock: socket.socket) -> None:
        super().__init__(socket.SocketIO(sock, "rb"))

    def makefile(self, mode: str) -> OneReader:
        return self

    def close(self) -> None:
        pass


def test_a_body_sent_after_the_refusal_does_not_swallow_the_next_request(
    live: tuple[str, Path],
) -> None:
    """The handler refuses the upload from its headers alone; the body arrives later, with
    the next request right behind it: both must be read apart, whatever the timing."""
    url, _dest = live
    parsed = urlsplit(url)
    body = b"z" * 6000
    head = (
        f"PUT {ARTIFACTS}/..%2Fescape.bin HTTP/1.1\r\nHost: x\r\n"
        f"Content-Type: application/octet-stream\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    follow = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
    for _ in range(5):
        with socket.create_connection((parsed.hostname, parsed.port), timeout=30) as sock:
            sock.sendall(head)
            time.sleep(0.05)  # the handler has answered (or is waiting for the body)
            sock.sendall(body + follow)
            replies = OneReader(sock)  # both answers may come in one read
            refused = http.client.HTTPResponse(replies)  # type: ignore[arg-type]
            refused.begin()
            assert refused.status == 400
            refused.read()
            health = http.client.HTTPResponse(replies)  # type: ignore[arg-type]
            health.begin()
            assert health.status == 200
            assert health.read().strip()


def test_pipelined_requests_are_all_answered_at_once(live: tuple[str, Path]) -> None:
    """Requests sent back to back in one write: the worker reads them all in one go, and must
    answer each without waiting for the socket to become readable again (it would not: the
    connection would be closed at its keep-alive timeout, the rest unanswered)."""
    url, _dest = live
    parsed = urlsplit(url)
    put = (
        f"PUT {ARTIFACTS}/pipelined/a.bin HTTP/1.1\r\nHost: x\r\n"
        "Content-Type: application/octet-stream\r\nContent-Length: 5\r\n\r\nhello"
    ).encode()
    get = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
    with socket.create_connection((parsed.hostname, parsed.port), timeout=30) as sock:
        sock.sendall(put + get + get)
        replies = OneReader(sock)
        statuses = []
        for _ in range(3):
            answer = http.client.HTTPResponse(replies)  # type: ignore[arg-type]
            answer.begin()
            answer.read()
            statuses.append(answer.status)
    assert statuses == [200, 200, 200]


def test_stalled_clients_do_not_take_the_servers_threads(tmp_path: Path) -> None:
    """One worker thread; a client stalls in its headers, another in its upload's body, a third
    stops reading a download. Each is let go after ``--client-timeout``, /health is answered
    meanwhile, nothing of the upload is kept and the log holds no traceback."""
    from tests.live_server import start_live_server

    dest = tmp_path / "dest"
    extra = ["--threads", "1", "--client-timeout", "1"]
    with start_live_server(f"sqlite:///{tmp_path / 'db.sqlite'}", str(dest), extra_args=extra) as (
        server
    ):
        big = os.urandom(32 * 1024 * 1024)  # far more than the socket buffers hold
        status, _answer, _kept = call(connect(server.url), "PUT", f"{ARTIFACTS}/big.bin", big)
        assert status == 200
        parsed = urlsplit(server.url)
        stalled = []
        for opening in (
            b"GET /health HTTP/1.1\r\nHost: x\r\n",
            f"PUT {ARTIFACTS}/stalled/a.bin HTTP/1.1\r\nHost: x\r\n"
            "Content-Type: application/octet-stream\r\nContent-Length: 100000\r\n\r\n".encode()
            + b"a" * 1000,
            f"GET {ARTIFACTS}/big.bin HTTP/1.1\r\nHost: x\r\n\r\n".encode(),
        ):
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.settimeout(30)
            sock.connect((parsed.hostname, parsed.port))
            sock.sendall(opening)
            stalled.append(sock)
        time.sleep(0.5)  # the first holds the only thread; the others wait for it
        health = connect(server.url)
        status, _body, _kept = call(health, "GET", "/health")
        health.close()
        received = []
        for sock in stalled:
            with sock:
                received.append(0)
                while chunk := sock.recv(1 << 20):  # to the connection's end, which comes
                    received[-1] += len(chunk)
        log = server.log()
    assert status == 200
    assert received[:2] == [0, 0]
    assert received[2] < len(big)  # the download was cut off, not waited out
    assert not (dest / "stalled").exists() or not any((dest / "stalled").iterdir())
    assert "Traceback" not in log


def test_a_large_upload_arrives_whole(live: tuple[str, Path]) -> None:
    url, dest = live
    payload = os.urandom(24 * 1024 * 1024 + 17)
    conn = connect(url)
    status, _answer, _kept = call(conn, "PUT", f"{ARTIFACTS}/big/one.bin", payload)
    conn.close()
    assert status == 200
    stored = (dest / "big" / "one.bin").read_bytes()
    assert hashlib.sha256(stored).digest() == hashlib.sha256(payload).digest()
