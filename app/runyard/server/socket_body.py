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

Every read waits at most ``client_timeout`` seconds for the client's next bytes
(:class:`IdleLimitedUnreader` for what gunicorn reads, headers included; :class:`SocketBody` for
the rest), and every send as long for the client to take more (:func:`limit_idle_writes`): a
client that stalls or vanishes mid-request (a laptop put to sleep, a half-open TCP connection)
would otherwise hold a worker thread forever, and as many such clients as threads would stop
the server answering anyone, its health checks included.

Anything else keeps the WSGI stream: chunked bodies, Flask's development server, a gunicorn
whose classes are not the ones checked here. The coupling is to gunicorn 26's ``Body``,
``LengthReader`` and ``SocketUnreader``, which ``pyproject.toml`` pins.
"""

from __future__ import annotations

import contextlib
import io
import select
import socket
import struct
import time
from collections.abc import Callable, Iterable
from typing import Any

from gunicorn.http.body import Body, LengthReader
from gunicorn.http.unreader import SocketUnreader
from gunicorn.workers.gthread import DEFAULT_WORKER_DATA_TIMEOUT

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

#: An unread remainder up to this size is read off before the answer goes out (gunicorn's own
#: cap for discarding one); a larger one is left to gunicorn, which closes the connection.
DISCARD_LIMIT = 64 * 1024
#: How long the discard waits for the client to send the rest (gunicorn's drain deadline).
DISCARD_SECONDS = DEFAULT_WORKER_DATA_TIMEOUT


def wait_readable(sock: Any, seconds: float) -> bool:
    """Whether the socket has bytes to read (or its end) within ``seconds``."""
    pending = getattr(sock, "pending", None)
    if pending is not None and pending():  # TLS: already decrypted, the fd may look idle
        return True
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(max(0, int(seconds * 1000))))


def give_up_on(sock: Any) -> None:
    """End a connection whose client stopped sending: the reads see its end, and the answer
    (if any) fails quietly the way it does for a client that hung up."""
    with contextlib.suppress(OSError):  # already gone
        sock.shutdown(socket.SHUT_RDWR)


class IdleLimitedUnreader(SocketUnreader):
    """gunicorn's reader of a connection, whose reads wait at most ``idle_seconds`` for the
    client; then the connection ends, as if the client had closed it."""

    def __init__(self, sock: Any, idle_seconds: float, max_chunk: int = 8192) -> None:
        super().__init__(sock, max_chunk)
        self.idle_seconds = idle_seconds

    def chunk(self) -> bytes:
        if not wait_readable(self.sock, self.idle_seconds):
            give_up_on(self.sock)
            return b""
        return bytes(self.sock.recv(self.mxchunk))


def limit_idle_reads(parser: Any, idle_seconds: float) -> None:
    """Make an HTTP/1 parser's reads wait at most ``idle_seconds`` for the client (HTTP/2
    connections and other readers are left as they are)."""
    unreader = getattr(parser, "unreader", None)
    if type(unreader) is SocketUnreader:
        limited = IdleLimitedUnreader(unreader.sock, idle_seconds, unreader.mxchunk)
        limited.unread(unreader.take_buffered())
        parser.unreader = limited


def limit_idle_writes(sock: Any, idle_seconds: float) -> None:
    """Make each send on the socket wait at most ``idle_seconds`` for the client to take bytes
    (``SO_SNDTIMEO``; a send that moved nothing then fails with ``EAGAIN``). A client that stops
    reading an answer would otherwise hold the thread that writes it for good."""
    whole = int(idle_seconds)
    micro = int((idle_seconds - whole) * 1_000_000)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, struct.pack("ll", whole, micro))


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
        self._idle_seconds: float | None = getattr(reader.unreader, "idle_seconds", None)

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
        count = self._receive(view, self._idle_seconds)
        if count is None:  # the client stopped sending
            give_up_on(self._sock)
            return 0
        return count

    def _receive(self, view: memoryview, wait: float | None) -> int | None:
        """Bytes of the body from the socket into ``view``, waiting at most ``wait`` seconds
        (None: as long as it takes) for the first; None when none came in time."""
        remaining = self._reader.length
        if remaining <= 0:
            return 0
        into = view[: min(len(view), remaining)]
        count = self._receive_now(into) if wait is not None else None
        if count is None:
            if wait is not None and not wait_readable(self._sock, wait):
                return None
            count = self._sock.recv_into(into)
        self._reader.length -= count
        return count

    def _receive_now(self, into: memoryview) -> int | None:
        """What has arrived already, without waiting (None: nothing yet): a body streaming in
        is mostly read this way, without a poll before each read. TLS sockets take no flags,
        and a socket with a timeout would wait for it before reading."""
        if type(self._sock) is not socket.socket or self._sock.gettimeout() is not None:
            return None
        try:
            return self._sock.recv_into(into, 0, socket.MSG_DONTWAIT)
        except BlockingIOError:
            return None

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
        scratch = memoryview(bytearray(min(self._reader.length, 16 * 1024)))
        deadline = time.monotonic() + DISCARD_SECONDS
        try:
            while self._reader.length > 0:
                if not self._receive(scratch, max(0.0, deadline - time.monotonic())):
                    return  # late, or at its end: gunicorn's own discard then closes it
        except OSError:  # a reset
            return


_SOCKET_READERS = (SocketUnreader, IdleLimitedUnreader)


def socket_body(environ: dict[str, Any]) -> SocketBody | None:
    """A :class:`SocketBody` for this request's input when gunicorn reads it by length."""
    body = environ.get("wsgi.input")
    if type(body) is not Body:
        return None
    reader = body.reader
    if type(reader) is not LengthReader or type(reader.unreader) not in _SOCKET_READERS:
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
