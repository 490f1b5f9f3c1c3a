"""Request bodies read straight from the client's socket under gunicorn.

gunicorn 26's ``wsgi.input`` hands a body over 1 KiB at a time, each KiB through two layers of
``BytesIO`` read-ahead buffers. A profile of a 256 MiB upload through the artifact proxy
(py-spy, FTP destination) had 78 % of the worker's samples in that reading and 11 % in sending
the bytes on. For a body with a ``Content-Length``, :class:`SocketBody` first takes what gunicorn
has already read ahead and then ``recv_into``s the rest into the caller's buffer, keeping
gunicorn's count of what is left right after every read: gunicorn's own keep-alive handling
and a pipelined next request see exactly the state they would have seen had gunicorn read the
bytes itself. A small remainder the handler left unread is read off before the answer goes out
(:meth:`SocketBody.discard_rest`).

Anything else keeps the WSGI stream: chunked bodies, Flask's development server, a gunicorn
whose classes are not the ones checked here. The coupling is to gunicorn 26's ``Body``,
``LengthReader`` and ``SocketUnreader``, which ``pyproject.toml`` pins.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterable
from typing import Any

from gunicorn.http.body import Body, LengthReader
from gunicorn.http.unreader import SocketUnreader

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

#: An unread remainder up to this size is read off before the answer goes out (gunicorn's own
#: cap for discarding one); a larger one is left to gunicorn, which closes the connection.
DISCARD_LIMIT = 64 * 1024
#: How long the discard waits for the client to send the rest (gunicorn's drain deadline).
DISCARD_SECONDS = 5.0


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

    def discard_rest(self) -> None:
        """Read off what the handler left unread, up to DISCARD_LIMIT, before the answer is sent.

        gunicorn discards it only after the answer, with reads of 8 KiB that can also take in
        the client's next request, sent meanwhile on the same connection; those bytes then sit
        in gunicorn's buffer, the socket never becomes readable again, and the connection is
        closed at its keep-alive timeout with that request unanswered. Reading exactly the
        remainder, before the client has the answer, leaves the next request on the socket."""
        self._held = memoryview(b"")
        if not 0 < self._reader.length <= DISCARD_LIMIT:
            return
        scratch = bytearray(min(self._reader.length, 16 * 1024))
        deadline = time.monotonic() + DISCARD_SECONDS
        before = self._sock.gettimeout()
        try:
            while self._reader.length > 0:
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                self._sock.settimeout(left)
                if not self.readinto(scratch):
                    return  # the client stopped sending: gunicorn finds the body short
        except OSError:  # a timeout or a reset
            return  # gunicorn's own discard meets the same state and closes the connection
        finally:
            self._sock.settimeout(before)


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
        if fast is None:
            return app(environ, start_response)
        environ["wsgi.input"] = fast
        answer = app(environ, start_response)
        fast.discard_rest()
        return answer

    return wrapped
