"""Chunked answers framed with ``sendmsg``: the same bytes on the wire as gunicorn's framing,
whatever part of them each send takes."""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import threading
from pathlib import Path

from gunicorn import util
from runyard.server.chunk_framing import send_parts, write_chunk


def _received(write: object, data: bytes) -> bytes:
    """What ``write(sock, data)`` puts on a real socket, read on the other end."""
    ours, theirs = socket.socketpair()
    ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)  # many partial sends
    got = bytearray()

    def read() -> None:
        while chunk := theirs.recv(65536):
            got.extend(chunk)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        write(ours, data)  # type: ignore[operator]
    finally:
        ours.close()
        reader.join(10)
        theirs.close()
    return bytes(got)


def test_a_chunk_is_framed_as_gunicorn_frames_it() -> None:
    for data in (b"hello", b"", os.urandom(3 * 1024 * 1024 + 7)):
        ours = _received(write_chunk, data)
        assert ours == _received(util.write_chunk, data)
        assert ours == b"%X\r\n" % len(data) + data + b"\r\n"


def test_text_is_sent_as_utf8() -> None:
    assert _received(write_chunk, "é") == b"2\r\n\xc3\xa9\r\n"  # type: ignore[arg-type]


class _Trickle:
    """A socket that takes at most ``most`` bytes per ``sendmsg``, as a full one does."""

    def __init__(self, most: int) -> None:
        self.most, self.wire = most, bytearray()

    def sendmsg(self, buffers: list[memoryview]) -> int:
        taken = b"".join(bytes(b) for b in buffers)[: self.most]
        self.wire.extend(taken)
        return len(taken)


def test_every_part_goes_out_in_order_however_little_each_send_takes() -> None:
    parts = [b"A\r\n", b"0123456789", b"\r\n"]
    for most in (1, 2, 3, 4, 7, 15, 100):
        sock = _Trickle(most)
        send_parts(sock, parts)
        assert bytes(sock.wire) == b"".join(parts), most


def test_a_tls_socket_keeps_gunicorns_framing(tmp_path: Path) -> None:
    """TLS sockets have no ``sendmsg``: the chunk still arrives whole, through gunicorn's way."""
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    server_side = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_side.load_cert_chain(cert, key)
    client_side = ssl.create_default_context(cafile=str(cert))
    ours, theirs = socket.socketpair()
    data = os.urandom(200_000)
    got = bytearray()

    def read() -> None:
        with client_side.wrap_socket(theirs, server_hostname="localhost") as tls:
            while chunk := tls.recv(65536):
                got.extend(chunk)

    reader = threading.Thread(target=read)
    reader.start()
    with server_side.wrap_socket(ours, server_side=True) as tls:
        write_chunk(tls, data)
    reader.join(10)
    assert bytes(got) == b"%X\r\n" % len(data) + data + b"\r\n"
