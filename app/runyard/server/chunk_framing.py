"""Chunked answers framed without copying each chunk.

gunicorn frames a chunk of a streamed answer (a proxied artifact download, a metric history) by
joining its size line, its bytes and a CRLF into a new bytes object: every byte the server
streams is copied once more in Python, 1 GiB for a 1 GiB download. ``write_chunk`` sends the
three parts with one ``sendmsg`` instead. A TLS socket has no ``sendmsg``; it keeps gunicorn's
framing. ``install`` puts it in gunicorn's place in a worker process.
"""

from __future__ import annotations

import ssl
from typing import Any

from gunicorn import util

_gunicorn_write_chunk = util.write_chunk


def write_chunk(sock: Any, data: bytes | str) -> None:
    """One chunk of a chunked answer: ``<size in hex>\\r\\n<data>\\r\\n``."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if isinstance(sock, ssl.SSLSocket) or not hasattr(sock, "sendmsg"):
        _gunicorn_write_chunk(sock, data)
        return
    send_parts(sock, [b"%X\r\n" % len(data), data, b"\r\n"])


def send_parts(sock: Any, parts: list[bytes]) -> None:
    """All of ``parts``, in order, with as few ``sendmsg`` calls as the socket allows: a call
    may take only some of the bytes, and the rest go in the next. A socket that takes nothing
    for its send timeout raises, as ``sendall`` does."""
    views = [memoryview(part) for part in parts if part]
    while views:
        sent = sock.sendmsg(views)
        while sent:
            first = views[0]
            if sent >= len(first):
                sent -= len(first)
                views.pop(0)
            else:
                views[0] = first[sent:]
                sent = 0


def install() -> None:
    """Frame this process's chunked answers with ``write_chunk`` (gunicorn's ``util.write``
    looks the function up in its module at each call)."""
    util.write_chunk = write_chunk
