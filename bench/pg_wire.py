"""Round trips to Postgres, counted on the wire: a TCP relay in front of the database that
counts the queries clients send, for any product and driver alike.

A round trip is a message after which the client waits for the server: a simple ``Query``
('Q', what psycopg2 sends for every statement, BEGIN and COMMIT included) or an extended
protocol ``Sync`` ('S'). The relay needs plaintext, so the URI it hands out disables TLS and
GSS encryption. Used only for the counting pass of the benchmark, never while timing.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

_UNTYPED_REQUESTS = {80877103, 80877104}  # SSLRequest, GSSENCRequest: another untyped follows
_ROUND_TRIP_TYPES = {ord("Q"), ord("S")}


class QueryCounter:
    """Counts client round trips through the relay (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.count = 0

    def add(self, n: int) -> None:
        with self._lock:
            self.count += n


class _FrontendParser:
    """Splits the client's byte stream into protocol messages and counts round trips."""

    def __init__(self, counter: QueryCounter) -> None:
        self.counter = counter
        self.buffer = b""
        self.untyped = True  # the start-up phase: messages without a type byte

    def feed(self, data: bytes) -> None:
        self.buffer += data
        found = 0
        while True:
            if self.untyped:
                if len(self.buffer) < 8:
                    break
                length, code = struct.unpack("!ii", self.buffer[:8])
                if len(self.buffer) < length:
                    break
                self.buffer = self.buffer[length:]
                self.untyped = code in _UNTYPED_REQUESTS
                continue
            if len(self.buffer) < 5:
                break
            kind = self.buffer[0]
            (length,) = struct.unpack("!i", self.buffer[1:5])
            if len(self.buffer) < 1 + length:
                break
            self.buffer = self.buffer[1 + length :]
            found += kind in _ROUND_TRIP_TYPES
        if found:
            self.counter.add(found)


def _pump(source: socket.socket, sink: socket.socket, parser: _FrontendParser | None) -> None:
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            if parser is not None:
                parser.feed(data)
            sink.sendall(data)
    for sock in (source, sink):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


@contextlib.contextmanager
def counting_relay(uri: str) -> Iterator[tuple[str, QueryCounter]]:
    """(a URI reaching the database of ``uri`` through a counting relay, its counter)."""
    parts = urlsplit(uri)
    target = (parts.hostname or "127.0.0.1", parts.port or 5432)
    counter = QueryCounter()
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def accept() -> None:
        with contextlib.suppress(OSError):
            while True:
                client, _ = listener.accept()
                server = socket.create_connection(target)
                for sock in (client, server):
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                parser = _FrontendParser(counter)
                threading.Thread(target=_pump, args=(client, server, parser), daemon=True).start()
                threading.Thread(target=_pump, args=(server, client, None), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = f"{userinfo}@127.0.0.1:{port}" if userinfo else f"127.0.0.1:{port}"
    query = "&".join(q for q in (parts.query, "sslmode=disable&gssencmode=disable") if q)
    try:
        yield urlunsplit((parts.scheme, netloc, parts.path, query, "")), counter
    finally:
        listener.close()
