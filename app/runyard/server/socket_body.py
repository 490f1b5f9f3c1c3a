"""Request bodies read straight from the client's socket under gunicorn.

gunicorn 26's ``wsgi.input`` hands a body over 1 KiB at a time, each KiB through two layers of
``BytesIO`` read-ahead buffers. A profile of a 256 MiB upload through the artifact proxy
(py-spy, FTP destination) had 78 % of the worker's samples in that reading and 11 % in sending
the bytes on. For a body with a ``Content-Length``, :class:`SocketBody` first takes what gunicorn
has already read ahead and then ``recv_into``s the rest into the caller's buffer, keeping
gunicorn's count of what is left right after every read: gunicorn's own keep-alive handling
(which discards an unread remainder before the next request) and a pipelined next request see
exactly the state they would have seen had gunicorn read the bytes itself.

Anything else keeps the WSGI stream: chunked bodies, Flask's development server, a gunicorn
whose classes are not the ones checked here. The coupling is to gunicorn 26's ``Body``,
``LengthReader`` and ``SocketUnreader``, which ``pyproject.toml`` pins.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from typing import Any

from gunicorn.http.body import Body, LengthReader
from gunicorn.http.unreader import SocketUnreader

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class SocketBody(io.RawIOBase):
    """A ``Content-Length`` body: gunicorn's read-ahead first, then the socket itself."""

    def __init__(self, body: Any) -> None:
        super().__init__()
        reader = body.reader
        self._reader = reader
        self._sock = reader.unreader.sock
        # Bytes gunicorn already took off the body: its line buffer, then its read-ahead. The
        # read-ahead may run past this body into a pipelined request; that part goes back.
        held = body.buf.getvalue()
        body.buf = io.BytesIO()
        ahead = reader.unreader.take_buffered()
        mine = ahead[: reader.length]
        reader.unreader.unread(ahead[len(mine) :])
        reader.length -= len(mine)
        self._held = memoryview(held + mine)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if not len(view):
            return 0
        if self._held:
            count = min(len(view), len(self._held))
            view[:count] = self._held[:count]
            self._held = self._held[count:]
            return count
        remaining = self._reader.length
        if remaining <= 0:
            return 0
        count = self._sock.recv_into(view[: min(len(view), remaining)])
        self._reader.length -= count
        return count


def socket_body(environ: dict[str, Any]) -> SocketBody | None:
    """A :class:`SocketBody` for this request's input when gunicorn reads it by length."""
    body = environ.get("wsgi.input")
    if type(body) is not Body:
        return None
    reader = body.reader
    if type(reader) is not LengthReader or type(reader.unreader) is not SocketUnreader:
        return None
    return SocketBody(body)


def read_bodies_from_socket(app: WsgiApp) -> WsgiApp:
    """``app`` with every ``Content-Length`` body read by :class:`SocketBody`."""

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        fast = socket_body(environ)
        if fast is not None:
            environ["wsgi.input"] = fast
        return app(environ, start_response)

    return wrapped
