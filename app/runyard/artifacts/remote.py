"""What the file-server repositories (SFTP, FTP) share: where the server is, its password,
a small pool of logged-in connections, and bounded retries when connecting.

Roots are parsed by ``runyard.locations`` like every other location. A password written in
the URI is kept only in memory (``ServerLocation.password``); the repository's ``root_uri`` is
the canonical location, which never carries one, and messages show locations through
``locations.shown``. Otherwise the password comes from a setting (``ftp_password``) or the
netrc file.
"""

from __future__ import annotations

import contextlib
import netrc
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from urllib.parse import unquote, urlsplit

from runyard import config
from runyard.errors import InvalidParameterValue, TemporarilyUnavailable
from runyard.locations import parse_location, shown

C = TypeVar("C")
#: Idle connections kept per repository; more concurrent users simply open more.
POOL_SIZE = 4
BACKOFF_SECONDS = 0.5


@dataclass(frozen=True)
class ServerLocation:
    """A root on a file server: ``scheme://[user@]host[:port]/path`` in canonical form."""

    scheme: str
    host: str
    port: int | None
    user: str | None
    path: str  # the absolute root directory on the server, as in MLflow
    uri: str  # the canonical location (``Location.uri``): what is stored and shown
    password: str | None = field(default=None, repr=False)

    @property
    def server(self) -> str:
        """``scheme://user@host:port``, never with the password."""
        netloc = f"{self.user}@" if self.user else ""
        netloc += self.host + (f":{self.port}" if self.port else "")
        return f"{self.scheme}://{netloc}"

    @property
    def login(self) -> tuple[object, ...]:
        """Who logs in where: what connections can be shared by (the path is not part of it)."""
        return (self.scheme, self.host, self.port, self.user, self.password)


def parse_server_uri(uri: str, schemes: tuple[str, ...]) -> ServerLocation:
    """A file-server root, parsed by ``runyard.locations.parse_location`` (decoded once, no
    ``..``, query, fragment or control characters; user and host checked) and split into the
    parts a connection needs."""
    location = parse_location(uri)
    if location.scheme not in schemes:
        raise InvalidParameterValue(
            f"Not a {schemes[0]} URI: {shown(uri)!r} (expected {schemes[0]}://user@host/path)"
        )
    authority = urlsplit(f"//{location.authority}")  # already checked: user@host[:port]
    try:
        port = authority.port
    except ValueError:
        raise InvalidParameterValue(f"Invalid port in {shown(uri)!r}") from None
    if not authority.hostname:
        raise InvalidParameterValue(f"A {location.scheme}: location needs a host: {shown(uri)!r}")
    return ServerLocation(
        scheme=location.scheme,
        host=authority.hostname,
        port=port,
        user=unquote(authority.username) if authority.username else None,
        path=location.path,
        uri=location.uri,
        password=location.password,
    )


def password_for(location: ServerLocation, setting: str | None = None) -> str | None:
    """The password for ``location``: from its URI (in memory), the ``setting``, else the
    netrc entry of its host (whose login, when it has one, must match the user)."""
    if location.password is not None:
        return location.password
    if setting and config.get(setting):
        return config.get(setting)
    path = config.get_path("netrc")
    if not os.path.isfile(path):
        return None
    try:
        entry = netrc.netrc(path).authenticators(location.host)
    except (netrc.NetrcParseError, OSError) as exc:
        raise InvalidParameterValue(f"Cannot read the netrc file {path!r}: {exc}") from None
    if entry is None:
        return None
    login, _account, password = entry
    if location.user and login and login != location.user:
        return None
    return password


def timeout_seconds() -> float:
    return config.get_float("artifact_timeout")


def connect_with_retries(connect: Callable[[], C], where: str, retryable: tuple[type, ...]) -> C:
    """``connect()``, retried with backoff on ``retryable`` errors, at most
    ``artifact_connect_attempts`` times; then ``TemporarilyUnavailable`` naming ``where``."""
    attempts = max(1, config.get_int("artifact_connect_attempts"))
    for attempt in range(1, attempts + 1):
        try:
            return connect()
        except (TimeoutError, OSError, *retryable) as exc:
            if attempt == attempts:
                raise TemporarilyUnavailable(
                    f"Cannot reach {where} after {attempts} attempt(s): {_reason(exc)}"
                ) from None
            time.sleep(BACKOFF_SECONDS * 2 ** (attempt - 1))
    raise AssertionError("unreachable")


def _reason(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return f"timed out after {timeout_seconds():g}s"
    return str(exc) or type(exc).__name__


_SHARED: dict[tuple[object, ...], ConnectionPool[Any]] = {}
_SHARED_LOCK = threading.Lock()


def shared_pool(
    key: tuple[object, ...],
    open_: Callable[[], C],
    alive: Callable[[C], bool],
    close: Callable[[C], None],
) -> ConnectionPool[C]:
    """The pool of one server, login and connection settings (``key``, to which the timeout
    its connections were opened with is added), shared by every repository of this process
    that uses them: clients build a repository per call, so per-repository connections would
    be opened for every file and never reused."""
    key = (*key, timeout_seconds())
    with _SHARED_LOCK:
        pool = _SHARED.get(key)
        if pool is None:
            pool = _SHARED[key] = ConnectionPool(open_, alive, close)
        return pool


class ConnectionPool(Generic[C]):
    """Logged-in connections for one repository, each used by one caller at a time.

    Threads of a server share the repository, and a download in progress holds its connection
    while other calls run, so a caller takes a connection out (``lease``) and gives it back only
    if the call left it usable. Connections opened before a fork are never reused after it.
    """

    def __init__(
        self, open_: Callable[[], C], alive: Callable[[C], bool], close: Callable[[C], None]
    ):
        self._open = open_
        self._alive = alive
        self._close = close
        self._idle: list[tuple[int, C]] = []
        self._lock = threading.Lock()

    def take(self) -> C:
        """A usable connection: an idle one of this process, or a new one."""
        while True:
            with self._lock:
                if not self._idle:
                    break
                pid, conn = self._idle.pop()
            if pid == os.getpid() and self._alive(conn):
                return conn
            if pid == os.getpid():
                self._close(conn)
        return self._open()

    def give_back(self, conn: C) -> None:
        with self._lock:
            if len(self._idle) < POOL_SIZE:
                self._idle.append((os.getpid(), conn))
                return
        self._close(conn)

    def discard(self, conn: C) -> None:
        with contextlib.suppress(Exception):  # a broken connection may fail to close
            self._close(conn)

    @contextlib.contextmanager
    def lease(self) -> Iterator[C]:
        """A connection for one call; a call that fails drops it (its state is unknown)."""
        conn = self.take()
        try:
            yield conn
        except BaseException:
            self.discard(conn)
            raise
        self.give_back(conn)
