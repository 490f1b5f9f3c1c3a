"""``SftpArtifactRepo``: artifacts in a directory on an SSH server (``sftp://user@host/path``).

Connections go through OpenSSH's ``ssh`` program where it can make them (``sftp_openssh``),
else through paramiko (``sftp_paramiko``); both read the user's SSH setup the way OpenSSH
does, verify the server's host key against ``known_hosts`` and refuse unknown hosts. A
password, if the server wants one, comes from the netrc file. The URI's path is the root
directory on the server, as in MLflow (``sftp://h/srv/x`` is ``/srv/x``).

Uploads go to a hidden temporary name beside the target and are renamed over it
(``posix-rename``), so an interrupted upload never shows a partial file. Every path is checked
as text (``safe_relative_path``) and, on the server, after resolving symlinks: nothing outside
the root is read, written, listed or deleted, whatever the symlinks under the root point to.
"""

from __future__ import annotations

import contextlib
import posixpath
import stat
from collections.abc import Iterator
from typing import Any, BinaryIO, Protocol

from runyard import config
from runyard.artifacts.base import (
    CHUNK_SIZE,
    DIRECTORY_RACE_ATTEMPTS,
    UPLOAD_PREFIX,
    ArtifactRepo,
    file_in_the_way,
    import_extra,
    listable,
    not_stored,
    spared_by_delete,
    upload_temp_name,
)
from runyard.artifacts.remote import (
    ConnectionPool,
    ServerLocation,
    parse_server_uri,
    password_for,
    shared_pool,
)
from runyard.artifacts.sftp_wire import SftpPipeClient
from runyard.entities import FileInfo
from runyard.errors import (
    InvalidParameterValue,
    PermissionDenied,
    ResourceDoesNotExist,
    TemporarilyUnavailable,
)
from runyard.validation import safe_relative_path

#: Settings that change how a connection is made; connections are shared only when they match.
SETTINGS = ("sftp_identity_file", "sftp_known_hosts", "sftp_ssh_config", "netrc", "sftp_client")
#: Downloads keep READ_AHEAD bytes requested ahead (pipelined reads of the file's request size)
#: and hand each reply out as it is, so memory stays bounded by READ_AHEAD.
READ_AHEAD = 16 * CHUNK_SIZE
CLIENTS = ("auto", "openssh", "paramiko")


def parse_sftp_uri(uri: str) -> ServerLocation:
    """``sftp://[user@]host[:port]/path`` (a password in it is kept in memory only)."""
    return parse_server_uri(uri, ("sftp",))


class SftpSession(Protocol):
    """A connection of either kind (``sftp_openssh``, ``sftp_paramiko``): its SFTP client
    answers the same calls."""

    sftp: Any

    def alive(self) -> bool: ...

    def close(self) -> None: ...


class SftpArtifactRepo(ArtifactRepo):
    """Files under a directory of an SFTP server."""

    def __init__(self, root_uri: str) -> None:
        self.location = parse_sftp_uri(root_uri)
        super().__init__(self.location.uri)
        self._paramiko = import_extra("paramiko", "sftp", "sftp")
        self._openssh = uses_openssh(self.location)
        settings = tuple(config.get(n) for n in SETTINGS)
        self._pool: ConnectionPool[SftpSession] = shared_pool(
            (*self.location.login, settings, self._openssh),
            self._connect,
            lambda session: session.alive(),
            lambda session: session.close(),
        )
        self._real_root: str | None = None

    def _connect(self) -> SftpSession:
        """A new connection, by OpenSSH's ``ssh`` where ``uses_openssh`` says so."""
        if self._openssh:
            from runyard.artifacts.sftp_openssh import connect_openssh

            return connect_openssh(self.location)
        from runyard.artifacts.sftp_paramiko import connect_paramiko

        return connect_paramiko(self._paramiko, self.location)

    @contextlib.contextmanager
    def _session(self) -> Iterator[Any]:
        """The SFTP client of a pooled connection; I/O failures become clear errors."""
        with self._pool.lease() as session, _sftp_errors(self.root_uri):
            yield session.sftp

    # ---- paths -------------------------------------------------------------------------------
    def _full(self, rel: str) -> str:
        return posixpath.join(self.location.path, rel) if rel else self.location.path

    @staticmethod
    def _real(sftp: Any, path: str) -> str:
        """``path`` as the server resolves it (symlinks followed); parts that do not exist yet
        are appended as written."""
        missing: list[str] = []
        current = path
        while True:
            try:
                return posixpath.join(sftp.normalize(current), *reversed(missing))
            except OSError as error:  # not there (servers say so in different words)
                parent = posixpath.dirname(current) or "."
                if parent == current or connection_lost(error):
                    raise
                missing.append(posixpath.basename(current))
                current = parent

    def _root(self, sftp: Any) -> str:
        if self._real_root is not None:
            return self._real_root
        real = self._real(sftp, self.location.path)
        if _stat(sftp, self.location.path) is not None:
            self._real_root = real  # once it exists, the root's real place cannot change
        return real

    def _checked(self, sftp: Any, rel: str) -> str:
        """The full path of ``rel`` once it is proven to stay under the root on the server."""
        full = self._full(rel)
        if rel:
            root = self._root(sftp).rstrip("/")
            real = self._real(sftp, full)
            if not real.startswith(root + "/"):
                raise InvalidParameterValue(f"Invalid path: {rel!r} leaves the artifact root")
        return full

    # ---- writing -----------------------------------------------------------------------------
    def write_stream(self, artifact_path: str, stream: BinaryIO) -> int:
        rel = safe_relative_path(artifact_path)
        if not rel:
            raise InvalidParameterValue("An artifact path is needed to write a file.")
        with self._session() as sftp:
            full = self._checked(sftp, rel)
            existing = _stat(sftp, full)
            if existing is not None and stat.S_ISDIR(existing.st_mode):
                raise InvalidParameterValue(f"Cannot write {rel!r}: it is a directory")
            parent = posixpath.dirname(full)
            temp = posixpath.join(parent, upload_temp_name())
            source = _Source(stream)
            try:
                remote = self._open_upload(sftp, rel, parent, temp)
                try:
                    remote.set_pipelined(True)
                    while chunk := source.read():
                        remote.write(chunk)
                except BaseException as exc:
                    if not source.server_lost(exc):  # else each request waits the timeout out
                        with contextlib.suppress(Exception):
                            remote.close()
                    raise _not_stored(exc, rel, source) from None
                try:
                    remote.close()
                except OSError as exc:
                    raise _not_stored(exc, rel, source) from None
                if not isinstance(sftp, SftpPipeClient):  # it reports every refused write
                    _check_stored(sftp, temp, rel, source.count)
                _rename_over(sftp, temp, full)
            except BaseException as exc:
                if not source.server_lost(exc):  # else a delete takes it once it is abandoned
                    with contextlib.suppress(Exception):
                        sftp.remove(temp)
                raise
        return source.count

    def _open_upload(self, sftp: Any, rel: str, parent: str, temp: str) -> Any:
        """The upload's temporary file, opened for writing. Opening comes first, so a file
        into a directory that exists (the common case) costs no round trip to look for it;
        a missing directory is made, and the path checked again (a symlink may have appeared
        on the way), before the next try. A delete running at once may remove a directory just
        made; it is made again then (the delete spares it once the upload's file is in it)."""
        last = DIRECTORY_RACE_ATTEMPTS - 1
        for attempt in range(DIRECTORY_RACE_ATTEMPTS):
            try:
                return sftp.open(temp, "wb")
            except OSError as error:  # OpenSSH: no such file (also when the parent is a file)
                if isinstance(error, PermissionError) or attempt == last:
                    raise
            try:
                self._makedirs(sftp, parent, rel)
            except OSError as error:  # a parent just made was deleted again
                if isinstance(error, PermissionError) or attempt == last - 1:
                    raise
            self._checked(sftp, rel)
        raise AssertionError("the last attempt returns or raises")

    def _makedirs(self, sftp: Any, path: str, rel: str) -> None:
        found = _stat(sftp, path)
        if found is not None:
            if not stat.S_ISDIR(found.st_mode):
                raise file_in_the_way(rel)
            return
        parent = posixpath.dirname(path)
        if parent and parent != path:
            self._makedirs(sftp, parent, rel)
        try:
            sftp.mkdir(path)
        except OSError:
            if _stat(sftp, path) is None:  # not created meanwhile by someone else
                raise

    # ---- reading -----------------------------------------------------------------------------
    def open_stream(self, artifact_path: str) -> Iterator[bytes]:
        rel = safe_relative_path(artifact_path)
        if not rel:
            raise ResourceDoesNotExist(f"No such artifact: '{artifact_path}'")
        session = self._pool.take()
        try:
            with _sftp_errors(self.root_uri):
                full = self._checked(session.sftp, rel)
                found = _stat(session.sftp, full)
                if found is None or not stat.S_ISREG(found.st_mode):
                    raise ResourceDoesNotExist(f"No such artifact: '{artifact_path}'")
                remote = session.sftp.open(full, "rb")
        except TemporarilyUnavailable:
            self._pool.discard(session)
            raise
        except BaseException:
            self._pool.give_back(session)
            raise
        return self._chunks(session, remote, found.st_size or 0)

    def _chunks(self, session: SftpSession, remote: Any, size: int) -> Iterator[bytes]:
        """The file in pieces of one read request each, READ_AHEAD bytes requested ahead:
        bounded memory, a busy link. A piece the size of a request comes out of paramiko's
        prefetch as received; a larger one is built by concatenating replies (with a 1 MiB
        piece, that copying was about a quarter of a download's samples). A file of one piece
        or less is one plain read: paramiko starts a thread for every prefetch, which cost
        small files more than their one round trip."""
        done = False
        piece = remote.MAX_REQUEST_SIZE
        try:
            with _sftp_errors(self.root_uri), remote:
                offset = 0
                if 0 < size <= piece:
                    yield remote.read(size)
                    offset = size
                while offset < size:
                    end = min(offset + READ_AHEAD, size)
                    windows = [
                        (start, min(piece, end - start)) for start in range(offset, end, piece)
                    ]
                    yield from remote.readv(windows)
                    offset = end
            done = True
        finally:
            if done:
                self._pool.give_back(session)
            else:
                self._pool.discard(session)

    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        rel = safe_relative_path(path)
        with self._session() as sftp:
            full = self._checked(sftp, rel)
            found = _stat(sftp, full)
            if found is None or not stat.S_ISDIR(found.st_mode):
                return []
            infos = []
            for entry in sftp.listdir_attr(full):
                name = entry.filename
                if name.startswith(UPLOAD_PREFIX) or not listable(name, rel):
                    continue
                child = f"{rel}/{name}" if rel else name
                mode = entry.st_mode
                if stat.S_ISLNK(mode):
                    try:
                        self._checked(sftp, child)
                    except InvalidParameterValue:
                        continue  # a symlink out of the root is not ours to show
                    target = _stat(sftp, self._full(child))
                    if target is None:
                        continue
                    mode, size = target.st_mode, target.st_size
                else:
                    size = entry.st_size
                if stat.S_ISDIR(mode):
                    infos.append(FileInfo(child, True, None))
                elif stat.S_ISREG(mode):
                    infos.append(FileInfo(child, False, int(size or 0)))
        return sorted(infos, key=lambda info: info.path)

    def file_info(self, artifact_path: str) -> FileInfo | None:
        rel = safe_relative_path(artifact_path)
        with self._session() as sftp:
            found = _stat(sftp, self._checked(sftp, rel))
        if found is None:
            return None
        if stat.S_ISDIR(found.st_mode):
            return FileInfo(rel, True, None)
        return (
            FileInfo(rel, False, int(found.st_size or 0)) if stat.S_ISREG(found.st_mode) else None
        )

    # ---- deleting ----------------------------------------------------------------------------
    def delete_artifacts(self, artifact_path: str | None = None) -> None:
        rel = safe_relative_path(artifact_path)
        with self._session() as sftp:
            full = self._checked(sftp, rel)
            if not rel:
                if _stat(sftp, full) is not None:
                    for name in sftp.listdir(full):
                        _remove_tree(sftp, posixpath.join(full, name))
                return
            _remove_tree(sftp, full)


def uses_openssh(location: ServerLocation) -> bool:
    """Whether connections to ``location`` go through OpenSSH's ``ssh`` (setting
    ``sftp_client``): in ``auto``, when it is installed and no password is at hand for the
    host, since ``ssh`` in batch mode takes none."""
    from runyard.artifacts.sftp_openssh import ssh_program

    choice = (config.get("sftp_client") or "auto").strip().lower()
    if choice not in CLIENTS:
        raise InvalidParameterValue(
            f"Invalid sftp_client {choice!r}: expected one of {', '.join(CLIENTS)}"
        )
    if choice == "paramiko":
        return False
    if ssh_program() is None:
        if choice == "openssh":
            raise InvalidParameterValue("sftp_client is openssh, but ssh is not installed")
        return False
    return choice == "openssh" or password_for(location) is None


def _stat(sftp: Any, path: str) -> Any:
    """``stat`` (symlinks followed), or None when nothing is there."""
    try:
        return sftp.stat(path)
    except FileNotFoundError:
        return None


def _rename_over(sftp: Any, source: str, target: str) -> None:
    """Atomic replace where the server offers it (OpenSSH's posix-rename), else remove+rename."""
    with contextlib.suppress(OSError):
        sftp.posix_rename(source, target)
        return
    with contextlib.suppress(FileNotFoundError):
        sftp.remove(target)
    sftp.rename(source, target)


def _remove_tree(sftp: Any, path: str) -> None:
    """Remove a file, a symlink (never what it points to) or a directory tree, but no upload
    in progress (``spared_by_delete``). What vanishes meanwhile is gone already; a directory
    that a concurrent upload has just written into stays, with that upload's file."""
    try:
        found = sftp.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(found.st_mode):
        if not spared_by_delete(posixpath.basename(path), found.st_mtime or 0):
            with contextlib.suppress(FileNotFoundError):
                sftp.remove(path)
        return
    with contextlib.suppress(FileNotFoundError):
        for name in sftp.listdir(path):
            _remove_tree(sftp, posixpath.join(path, name))
    for attempt in range(3):
        try:
            sftp.rmdir(path)
            return
        except OSError:  # SFTP says only "Failure" for a directory that is not empty
            try:
                if sftp.listdir(path):
                    return  # an upload wrote into it: left to that upload
            except FileNotFoundError:
                return  # gone: another delete removed it
            if attempt == 2:
                raise
            # empty again: another delete took what an upload had just put there


def _not_stored(exc: BaseException, rel: str, source: _Source) -> BaseException:
    """A write the server refused: SFTP says only "Failure", which for a write is nearly
    always a full disk or quota (a 507 that clears once space is freed, as on local disk);
    lost connections, refusals of access and the input's own errors stay what they are."""
    if (
        source.failed
        or not isinstance(exc, OSError)
        or isinstance(exc, PermissionError)
        or connection_lost(exc)
    ):
        return exc
    return not_stored(f"The SFTP server refused to store {rel!r}")  # its words name its paths


def _check_stored(sftp: Any, temp: str, rel: str, size: int) -> None:
    """The uploaded file holds every byte sent. paramiko does not report pipelined writes the
    server refused (their answers are read and dropped), so a full disk left a short file
    that was then renamed into place; this one request catches that."""
    stored = _stat(sftp, temp)
    if stored is None or stored.st_size != size:
        got = 0 if stored is None else stored.st_size
        raise not_stored(f"The SFTP server stored {got} of {size} bytes of {rel!r}")


class _Source:
    """An upload's input, read in chunks; it tells the input's failures (a client that went
    away mid-upload) from the server's, whose connection may be lost."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self.count = 0
        self.failed = False

    def read(self) -> bytes:
        try:
            chunk = self._stream.read(CHUNK_SIZE)
        except BaseException:
            self.failed = True
            raise
        self.count += len(chunk)
        return chunk

    def server_lost(self, exc: BaseException) -> bool:
        return not self.failed and connection_lost(exc)


def connection_lost(exc: BaseException) -> bool:
    """Whether ``exc`` says the connection dropped or stopped answering (either client)."""
    return isinstance(exc, TimeoutError | EOFError | ConnectionError) or type(exc).__name__ in (
        "SSHException",
        "ChannelException",
    )


class _sftp_errors:
    """Dropped connections and timeouts become 503s that name the server (not its password);
    permission problems on the server become 403s."""

    def __init__(self, where: str) -> None:
        self.where = where

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> bool:
        if exc is None or not isinstance(exc, Exception):
            return False
        if isinstance(exc, PermissionError):
            raise PermissionDenied(f"The SFTP server {self.where} refused access: {exc}") from None
        if connection_lost(exc):
            raise TemporarilyUnavailable(
                f"The SFTP server {self.where} stopped answering: {exc or type(exc).__name__}"
            ) from None
        return False


__all__ = ["SftpArtifactRepo", "parse_sftp_uri"]
