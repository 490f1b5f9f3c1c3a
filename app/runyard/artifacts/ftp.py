"""``FtpArtifactRepo``: artifacts in a directory on an FTP server (``ftp://`` and ``ftps://``).

Standard library only (``ftplib``), passive mode, binary transfers: a connection is put in
binary mode once and never leaves it, listings included (see ``ftp_wire``). ``ftps://``
(or the ``ftp_tls`` setting) upgrades the control and data connections with explicit TLS
(``AUTH TLS``, ``PROT P``), verifying the server's certificate against the system's CAs or
``ftp_ca_bundle``.
The password comes from the ``ftp_password`` setting or the netrc entry of the host; one in the
URI is used but never stored or shown. The URI's path is the root directory on the server, as in
MLflow (``ftp://h/srv/x`` is ``/srv/x``).

Uploads go to a hidden temporary name beside the target and are renamed over it (``RNFR``/
``RNTO``), so an interrupted upload never shows a partial file; servers whose rename does not
replace an existing file get a delete first, so there a concurrent reader can briefly find no
file (never a partial one). FTP cannot tell where a symlink points, so listings skip symlinks;
keep symlinks out of the served tree (or chroot the FTP account) to confine the server itself.
"""

from __future__ import annotations

import calendar
import contextlib
import ftplib
import posixpath
import ssl
import time
from collections.abc import Iterator
from typing import Any, BinaryIO

from runyard import config
from runyard.artifacts.base import (
    CHUNK_SIZE,
    DIRECTORY_RACE_ATTEMPTS,
    UPLOAD_PREFIX,
    ArtifactRepo,
    CountingReader,
    file_in_the_way,
    listable,
    spared_by_delete,
    upload_temp_name,
)
from runyard.artifacts.ftp_wire import (
    binary_lines,
    mlsd_kind,
    parse_list_line,
    parse_mlsd_line,
    send_file,
)
from runyard.artifacts.remote import (
    ConnectionPool,
    ServerLocation,
    connect_with_retries,
    parse_server_uri,
    password_for,
    shared_pool,
    timeout_seconds,
)
from runyard.entities import FileInfo
from runyard.errors import (
    InvalidParameterValue,
    PermissionDenied,
    ResourceDoesNotExist,
    RunyardError,
    TemporarilyUnavailable,
)
from runyard.validation import safe_relative_path

DEFAULT_PORT = 21
#: Settings that change how a connection is made; connections are shared only when they match.
SETTINGS = ("ftp_password", "ftp_ca_bundle", "netrc")
#: A pooled connection idle longer than this is checked with NOOP before reuse.
IDLE_CHECK_SECONDS = 10.0


def parse_ftp_uri(uri: str) -> ServerLocation:
    """``ftp[s]://[user@]host[:port]/path`` (a password in it is kept in memory only)."""
    return parse_server_uri(uri, ("ftp", "ftps"))


class _Session:
    """A logged-in control connection and when it was last used."""

    def __init__(self, ftp: ftplib.FTP) -> None:
        self.ftp = ftp
        self.used = time.monotonic()
        self.home = ftp.pwd()  # the login directory, before any CWD of ours

    def alive(self) -> bool:
        if time.monotonic() - self.used < IDLE_CHECK_SECONDS:
            return True
        try:
            self.ftp.voidcmd("NOOP")
        except (ftplib.Error, OSError, EOFError):
            return False
        return True

    def close(self) -> None:
        try:
            self.ftp.quit()
        except (ftplib.Error, OSError, EOFError):
            self.ftp.close()


class FtpArtifactRepo(ArtifactRepo):
    """Files under a directory of an FTP or FTPS server."""

    def __init__(self, root_uri: str) -> None:
        self.location = parse_ftp_uri(root_uri)
        super().__init__(self.location.uri)
        self.tls = self.location.scheme == "ftps" or config.get_bool("ftp_tls")
        settings = (self.tls, *(config.get(n) for n in SETTINGS))
        self._pool: ConnectionPool[_Session] = shared_pool(
            (*self.location.login, settings),
            self._connect,
            _Session.alive,
            _Session.close,
        )
        self._mlsd = True  # until the server says it does not know MLSD

    # ---- connecting --------------------------------------------------------------------------
    def _connect(self) -> _Session:
        where = f"the FTP server {self.location.server}"
        user = self.location.user or "anonymous"
        password = password_for(self.location, "ftp_password") or ""
        timeout = timeout_seconds()

        def attempt() -> _Session:
            ftp: ftplib.FTP
            if self.tls:
                context = ssl.create_default_context(cafile=config.get("ftp_ca_bundle") or None)
                ftp = ftplib.FTP_TLS(context=context, timeout=timeout, encoding="utf-8")
            else:
                ftp = ftplib.FTP(timeout=timeout, encoding="utf-8")
            try:
                ftp.connect(self.location.host, self.location.port or DEFAULT_PORT)
                if isinstance(ftp, ftplib.FTP_TLS):
                    ftp.auth()
                ftp.login(user, password)
                if isinstance(ftp, ftplib.FTP_TLS):
                    ftp.prot_p()
                ftp.voidcmd("TYPE I")
            except ssl.SSLCertVerificationError as exc:
                ftp.close()
                raise PermissionDenied(
                    f"The TLS certificate of {where} is not trusted ({exc.verify_message}); "
                    "set ftp_ca_bundle to its CA"
                ) from None
            except ftplib.error_perm as exc:
                ftp.close()
                raise PermissionDenied(f"{where} refused to log in {user!r}: {exc}") from None
            except BaseException:
                ftp.close()
                raise
            return _Session(ftp)

        return connect_with_retries(
            attempt, where, (ftplib.error_temp, ftplib.error_reply, EOFError)
        )

    @contextlib.contextmanager
    def _ftp(self, rel: str) -> Iterator[tuple[ftplib.FTP, str]]:
        """A pooled connection and the absolute path of ``rel`` on its server."""
        with self._pool.lease() as session, _ftp_errors(self.root_uri):
            yield session.ftp, self._full(session, rel)
            session.used = time.monotonic()

    # ---- paths -------------------------------------------------------------------------------
    def _full(self, session: _Session, rel: str) -> str:
        """Absolute, because the session's working directory moves (CWD is how FTP tells a
        directory from a file); the root's path is absolute, as in MLflow."""
        base = posixpath.join(session.home, self.location.path)
        return posixpath.normpath(posixpath.join(base, rel)) if rel else posixpath.normpath(base)

    @staticmethod
    def _kind(ftp: ftplib.FTP, full: str) -> FileInfo | None:
        """What is at ``full``: a file (with its size), a directory, or None."""
        try:
            size = ftp.size(full)
            if size is not None:
                return FileInfo(full, False, int(size))
        except ftplib.error_perm:
            pass
        try:
            ftp.cwd(full)
            return FileInfo(full, True, None)
        except ftplib.error_perm:
            return None

    def _entries(self, ftp: ftplib.FTP, full: str) -> list[tuple[str, str, int]]:
        """``(name, kind, size)`` of a directory's entries; kind is file, dir or link."""
        if self._mlsd:
            try:
                ftp.sendcmd("OPTS MLST type;size;")
                return [
                    (name, mlsd_kind(facts), int(facts.get("size", 0) or 0))
                    for name, facts in map(parse_mlsd_line, binary_lines(ftp, f"MLSD {full}"))
                    if facts.get("type") not in ("cdir", "pdir")
                ]
            except ftplib.error_perm as exc:
                if not str(exc).startswith(("500", "501", "502", "504")):
                    raise
                self._mlsd = False  # an older server: parse LIST instead
        ftp.cwd(full)
        lines = binary_lines(ftp, "LIST -a")
        return [entry for line in lines if (entry := parse_list_line(line)) is not None]

    # ---- writing -----------------------------------------------------------------------------
    def write_stream(self, artifact_path: str, stream: BinaryIO) -> int:
        rel = safe_relative_path(artifact_path)
        if not rel:
            raise InvalidParameterValue("An artifact path is needed to write a file.")
        counter = CountingReader(stream)
        with self._ftp(rel) as (ftp, full):
            existing = self._kind(ftp, full)
            if existing is not None and existing.is_dir:
                raise InvalidParameterValue(f"Cannot write {rel!r}: it is a directory")
            parent = posixpath.dirname(full)
            temp = posixpath.join(parent, upload_temp_name())
            try:
                self._store(ftp, parent, temp, counter, rel)
                _rename_over(ftp, temp, full)
            except BaseException:
                with contextlib.suppress(Exception):
                    ftp.delete(temp)
                raise
        return counter.count

    def _store(
        self, ftp: ftplib.FTP, parent: str, temp: str, counter: CountingReader, rel: str
    ) -> None:
        """Upload to ``temp``. The STOR comes first, so a file into a directory that exists
        (the common case) costs no round trips to look for it; a refused STOR that read
        nothing yet is tried again once the directory is made (which says so when the parent
        is a file). A delete running at once may remove a directory just made; it is made
        again then (the delete spares it once the upload's file is in it)."""
        last = DIRECTORY_RACE_ATTEMPTS - 1
        for attempt in range(DIRECTORY_RACE_ATTEMPTS):
            try:
                send_file(ftp, f"STOR {temp}", counter, rel)
                return
            except ftplib.error_perm:
                if counter.count or attempt == last:
                    raise
            try:
                self._makedirs(ftp, parent, rel)
            except ftplib.error_perm:
                if attempt == last - 1:
                    raise

    def _makedirs(self, ftp: ftplib.FTP, path: str, rel: str) -> None:
        found = self._kind(ftp, path)
        if found is not None:
            if not found.is_dir:
                raise file_in_the_way(rel)
            return
        parent = posixpath.dirname(path)
        if parent and parent != path:
            self._makedirs(ftp, parent, rel)
        try:
            ftp.mkd(path)
        except ftplib.error_perm:
            if self._kind(ftp, path) is None:  # not created meanwhile by someone else
                raise

    # ---- reading -----------------------------------------------------------------------------
    def open_stream(self, artifact_path: str) -> Iterator[bytes]:
        rel = safe_relative_path(artifact_path)
        if not rel:
            raise ResourceDoesNotExist(f"No such artifact: '{artifact_path}'")
        session = self._pool.take()
        try:
            with _ftp_errors(self.root_uri):
                full = self._full(session, rel)
                found = self._kind(session.ftp, full)
                if found is None or found.is_dir:
                    raise ResourceDoesNotExist(f"No such artifact: '{artifact_path}'")
                data = session.ftp.transfercmd(f"RETR {full}")
        except BaseException:
            self._pool.discard(session)
            raise
        return self._chunks(session, data)

    def _chunks(self, session: _Session, data: Any) -> Iterator[bytes]:
        done = False
        try:
            with _ftp_errors(self.root_uri):
                with data, data.makefile("rb") as reader:
                    while chunk := reader.read(CHUNK_SIZE):
                        yield chunk
                    if isinstance(data, ssl.SSLSocket):
                        data.unwrap()
                session.ftp.voidresp()
            done = True
        finally:
            if done:
                session.used = time.monotonic()
                self._pool.give_back(session)
            else:
                self._pool.discard(session)  # an abandoned transfer leaves a reply pending

    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        rel = safe_relative_path(path)
        with self._ftp(rel) as (ftp, full):
            found = self._kind(ftp, full)
            if found is None or not found.is_dir:
                return []
            infos = []
            for name, kind, size in self._entries(ftp, full):
                if name.startswith(UPLOAD_PREFIX) or kind == "link" or not listable(name, rel):
                    continue
                child = f"{rel}/{name}" if rel else name
                is_dir = kind == "dir"
                infos.append(FileInfo(child, is_dir, None if is_dir else size))
        return sorted(infos, key=lambda info: info.path)

    def file_info(self, artifact_path: str) -> FileInfo | None:
        rel = safe_relative_path(artifact_path)
        with self._ftp(rel) as (ftp, full):
            found = self._kind(ftp, full)
        return None if found is None else FileInfo(rel, found.is_dir, found.file_size)

    # ---- deleting ----------------------------------------------------------------------------
    def delete_artifacts(self, artifact_path: str | None = None) -> None:
        rel = safe_relative_path(artifact_path)
        with self._ftp(rel) as (ftp, full):
            found = self._kind(ftp, full)
            if found is None:
                return
            if not found.is_dir:
                self._remove_file(ftp, full)
                return
            self._remove_children(ftp, full)
            if rel:
                self._remove_dir(ftp, full)

    def _remove_children(self, ftp: ftplib.FTP, full: str) -> None:
        """Everything below ``full`` but uploads in progress (``spared_by_delete``). What
        vanishes meanwhile is gone already; a directory that a concurrent upload has just
        written into stays, with that upload's file."""
        try:
            entries = self._entries(ftp, full)
        except ftplib.error_perm:
            if self._kind(ftp, full) is None:
                return
            raise
        for name, kind, _size in entries:
            child = posixpath.join(full, name)
            if kind == "dir":
                self._remove_children(ftp, child)
                self._remove_dir(ftp, child)
            elif not spared_by_delete(name, _modified(ftp, child, name)):
                self._remove_file(ftp, child)  # a file, or a symlink itself

    def _remove_file(self, ftp: ftplib.FTP, full: str) -> None:
        """Delete ``full``; a file no longer there was deleted by someone else meanwhile."""
        try:
            ftp.delete(full)
        except ftplib.error_perm:
            if self._kind(ftp, full) is not None:
                raise

    def _remove_dir(self, ftp: ftplib.FTP, full: str) -> None:
        """Remove the directory ``full``, unless it is gone or an upload has written into it.
        A server that lists with ``LIST`` may hide dot files (vsftpd does, by default), so
        there a directory that holds only an upload in progress looks empty: it is left to
        that upload. Where ``MLSD`` shows every entry, an empty one that stays is an error."""
        for attempt in range(3):
            try:
                ftp.rmd(full)
                return
            except ftplib.error_perm:
                try:
                    found = self._kind(ftp, full)
                    if found is None or not found.is_dir or self._entries(ftp, full):
                        return  # gone, or an upload wrote into it: left to that upload
                except ftplib.error_perm:
                    return  # gone while looking
                if not self._mlsd:
                    return  # perhaps holding an upload that LIST does not show
                if attempt == 2:
                    raise
                # empty again: another delete took what an upload had just put there


def _modified(ftp: ftplib.FTP, full: str, name: str) -> float:
    """When an upload's temporary file was last written (``MDTM``), as seconds since the
    epoch: now when the server cannot tell, so an upload is never cut short. Other names are
    never spared, and cost no round trip."""
    if not name.startswith(UPLOAD_PREFIX):
        return 0.0
    try:
        reply = ftp.sendcmd(f"MDTM {full}")
        stamp = time.strptime(reply.split()[1][:14], "%Y%m%d%H%M%S")
        return float(calendar.timegm(stamp))
    except (ftplib.Error, IndexError, ValueError):
        return time.time()


def _rename_over(ftp: ftplib.FTP, source: str, target: str) -> None:
    try:
        ftp.rename(source, target)
    except ftplib.error_perm:
        with contextlib.suppress(ftplib.error_perm):
            ftp.delete(target)
        ftp.rename(source, target)


class _ftp_errors:
    """FTP replies and dropped connections as runyard errors naming the server (never its
    password): 4xx replies, timeouts and resets are 503s; refusals are 403s."""

    def __init__(self, where: str) -> None:
        self.where = where

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> bool:
        if exc is None or isinstance(exc, RunyardError) or not isinstance(exc, Exception):
            return False
        if isinstance(exc, ftplib.error_perm):
            raise PermissionDenied(f"The FTP server {self.where} refused: {exc}") from None
        if isinstance(exc, ftplib.Error | OSError | EOFError):
            raise TemporarilyUnavailable(
                f"The FTP server {self.where} stopped answering: {exc or type(exc).__name__}"
            ) from None
        return False


__all__ = ["FtpArtifactRepo", "parse_ftp_uri"]
