"""A chunked request body with broken framing is the client's mistake: a 400 that says what broke.

gunicorn parses a chunked body while the handler reads it and reports bad framing with its
own exceptions. A bad chunk size, a chunk without its CRLF or a bad chunk extension is an
``OSError``, which werkzeug answers with a 400 that only says the request was not understood;
a malformed trailer is an ``InvalidHeader``, which reached the client as a 500 (and the
client's retries with it). :class:`ChunkedBody` turns each into a 400 naming the fault. A
client that hangs up mid-body (``NoMoreData``) stays what it is.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from gunicorn.http.body import Body, ChunkedReader
from gunicorn.http.errors import (
    ChunkMissingTerminator,
    InvalidChunkExtension,
    InvalidChunkSize,
    ParseException,
)
from werkzeug.exceptions import BadRequest

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

#: What gunicorn raises for a body whose framing is wrong (not for one cut short).
MALFORMED = (InvalidChunkSize, ChunkMissingTerminator, InvalidChunkExtension, ParseException)
#: The fault's text comes from the client's bytes: enough of it to find the fault.
_MAX_DETAIL = 200


class ChunkedBody:
    """gunicorn's ``Body`` of a chunked request, with framing errors raised as 400s."""

    def __init__(self, body: Body) -> None:
        self._body = body

    def read(self, size: int | None = None) -> bytes:
        with _refused_if_malformed():
            return self._body.read(size)

    def readline(self, size: int | None = None) -> bytes:
        with _refused_if_malformed():
            return self._body.readline(size)

    def readlines(self, size: int | None = None) -> list[bytes]:
        with _refused_if_malformed():
            return self._body.readlines(size)

    def __iter__(self) -> Iterator[bytes]:
        while line := self.readline():
            yield line


@contextlib.contextmanager
def _refused_if_malformed() -> Iterator[None]:
    try:
        yield
    except MALFORMED as error:
        detail = str(error)[:_MAX_DETAIL]
        raise BadRequest(f"Malformed chunked request body: {detail}") from None


def check_chunked_bodies(app: WsgiApp) -> WsgiApp:
    """``app`` with every chunked body read through :class:`ChunkedBody`."""

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        body = environ.get("wsgi.input")
        if type(body) is Body and type(body.reader) is ChunkedReader:
            environ["wsgi.input"] = ChunkedBody(body)
        return app(environ, start_response)

    return wrapped
