"""A lean SFTP (version 3) client over a byte pipe: OpenSSH's ``ssh -s ... sftp``.

OpenSSH's own ``sftp`` works this way: the ``ssh`` process does the transport (key exchange,
ciphers, MACs) in C, and the client speaks only SFTP over its stdin and stdout. Done in Python
by paramiko, the transport's work per SSH packet held downloads near half of OpenSSH's speed;
here Python handles one message per 250 KiB read, and ``ssh`` decrypts on the other core.

:class:`SftpPipeClient` answers the calls of paramiko's ``SFTPClient`` that the SFTP repository
makes (``stat``, ``open``, ``listdir_attr``, ``posix_rename`` ...), with the same errors:
``FileNotFoundError`` and ``PermissionError`` for those statuses, ``OSError`` for the rest,
``EOFError`` when the pipe closes and ``TimeoutError`` when the server stops answering. One
caller uses a client at a time (the repository's pool leases it). Requests in flight are
bounded, and each written request is small next to the pipes' buffers or waits for its reply,
so the two directions of the pipe cannot block each other.
"""

from __future__ import annotations

import contextlib
import os
import select
import struct
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

#: Message types of SFTP version 3 (draft-ietf-secsh-filexfer-02).
INIT, VERSION = 1, 2
OPEN, CLOSE, READ, WRITE, LSTAT = 3, 4, 5, 6, 7
OPENDIR, READDIR, REMOVE, MKDIR, RMDIR, REALPATH, STAT, RENAME = 11, 12, 13, 14, 15, 16, 17, 18
EXTENDED = 200
STATUS, HANDLE, DATA, NAME, ATTRS, EXTENDED_REPLY = 101, 102, 103, 104, 105, 201
#: Status codes.
OK, EOF, NO_SUCH_FILE, PERMISSION_DENIED = 0, 1, 2, 3
#: Open flags and attribute flags.
FXF_READ, FXF_WRITE, FXF_CREAT, FXF_TRUNC = 0x01, 0x02, 0x08, 0x10
ATTR_SIZE, ATTR_UIDGID, ATTR_PERMISSIONS, ATTR_ACMODTIME = 0x1, 0x2, 0x4, 0x8
ATTR_EXTENDED = 0x80000000
#: What every SFTP server must take in one read or write; larger sizes come from the server's
#: ``limits@openssh.com`` answer.
MIN_REQUEST_SIZE = 32 * 1024
#: OpenSSH's sftp-server takes messages up to 256 KiB; the largest request leaves room for the
#: message's own header.
MAX_REQUEST_SIZE = 250 * 1024
#: Requests of one transfer kept in flight.
MAX_IN_FLIGHT = 64
#: The largest message taken from a server (OpenSSH's own limit is 256 KiB): anything larger
#: is a broken stream, not a reason to allocate.
MAX_MESSAGE_SIZE = 16 * 1024 * 1024

_U32 = struct.Struct(">I")
_U64 = struct.Struct(">Q")
_HEADER = struct.Struct(">IBI")  # length, type, request id


@dataclass
class SftpAttributes:
    """A file's attributes, named as ``os.stat_result`` names them (paramiko's names)."""

    st_size: int | None = None
    st_uid: int | None = None
    st_gid: int | None = None
    st_mode: int | None = None
    st_atime: int | None = None
    st_mtime: int | None = None
    filename: str = ""


def _string(value: bytes | str) -> bytes:
    data = value.encode() if isinstance(value, str) else value
    return _U32.pack(len(data)) + data


class _Reader:
    """Fields of one received message, in order (``raw``: the body as received)."""

    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        self.data = memoryview(raw)
        self.pos = 0

    def u32(self) -> int:
        (value,) = _U32.unpack_from(self.data, self.pos)
        self.pos += 4
        return int(value)

    def u64(self) -> int:
        (value,) = _U64.unpack_from(self.data, self.pos)
        self.pos += 8
        return int(value)

    def bytes(self) -> bytes:
        size = self.u32()
        value = bytes(self.data[self.pos : self.pos + size])
        self.pos += size
        return value

    def text(self) -> str:
        return self.bytes().decode("utf-8", "surrogateescape")

    def attributes(self) -> SftpAttributes:
        flags = self.u32()
        found = SftpAttributes()
        if flags & ATTR_SIZE:
            found.st_size = self.u64()
        if flags & ATTR_UIDGID:
            found.st_uid, found.st_gid = self.u32(), self.u32()
        if flags & ATTR_PERMISSIONS:
            found.st_mode = self.u32()
        if flags & ATTR_ACMODTIME:
            found.st_atime, found.st_mtime = self.u32(), self.u32()
        if flags & ATTR_EXTENDED:
            for _ in range(self.u32()):
                self.bytes(), self.bytes()
        return found


def status_error(code: int, message: str, path: str = "") -> OSError:
    """The exception paramiko raises for a failed status, so callers handle both alike."""
    if code == NO_SUCH_FILE:
        return FileNotFoundError(2, message or "No such file", path)
    if code == PERMISSION_DENIED:
        return PermissionError(13, message or "Permission denied", path)
    text = message or f"SFTP status {code}"
    return OSError(f"{text}: {path}" if path else text)


class SftpPipeClient:
    """SFTP over a readable and a writable file descriptor (a subprocess's stdout and stdin)."""

    def __init__(self, read_fd: int, write_fd: int, timeout: float | None) -> None:
        self._read_fd = read_fd
        self._write_fd = write_fd
        os.set_blocking(write_fd, False)  # a full or empty pipe must not outwait the timeout:
        os.set_blocking(read_fd, False)  # each call tries at once and polls only if it must
        self.timeout = timeout
        self._readable = select.poll()  # poll, not select: a server's descriptors pass 1024
        self._readable.register(read_fd, select.POLLIN)
        self._writable = select.poll()
        self._writable.register(write_fd, select.POLLOUT)
        self._next_id = 0
        self._stash: dict[int, tuple[int, bytes]] = {}  # replies not yet awaited
        self.broken: Exception | None = None  # why the connection is unusable, once it is
        self.extensions: dict[str, bytes] = {}
        self.max_read = self.max_write = MIN_REQUEST_SIZE

    # ---- the pipe ----------------------------------------------------------------------------
    def _wait(self, poller: select.poll, what: str) -> None:
        """Wait for the pipe. After a timeout or a closed pipe every later call fails at once:
        the stream is out of step (a reply may still come, a request be half sent), so the
        cleanup that follows a failure does not wait out the timeout again."""
        if self.broken is not None:
            raise self.broken
        if self.timeout is not None and not poller.poll(self.timeout * 1000):
            self.broken = TimeoutError(f"The SFTP server stopped {what}")
            raise self.broken

    def _send(self, parts: list[bytes | memoryview]) -> None:
        """One message, its length first; the parts go out as they are, without joining."""
        views = [memoryview(_U32.pack(sum(len(part) for part in parts)))]
        views += [memoryview(part) for part in parts if len(part)]
        if self.broken is not None:
            raise self.broken
        while views:
            try:
                sent = os.writev(self._write_fd, views)
            except BlockingIOError:  # the pipe is full
                self._wait(self._writable, "taking requests")
                continue
            except (BrokenPipeError, ConnectionResetError):
                self.broken = EOFError("The SFTP connection closed")
                raise self.broken from None
            while sent:
                if sent >= len(views[0]):
                    sent -= len(views.pop(0))
                else:
                    views[0] = views[0][sent:]
                    sent = 0

    def _read_exact(self, size: int) -> bytes:
        """``size`` bytes from the pipe. Each read asks for just what is still due, so data
        that arrives at once lands in the returned object directly: a read reply's data is
        copied once on its way from the kernel to the caller."""
        if self.broken is not None:
            raise self.broken
        parts: list[bytes] = []
        while size:
            try:
                chunk = os.read(self._read_fd, size)
            except BlockingIOError:  # nothing yet
                self._wait(self._readable, "answering")
                continue
            if not chunk:
                self.broken = EOFError("The SFTP connection closed")
                raise self.broken
            parts.append(chunk)
            size -= len(chunk)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def _receive_any(self) -> tuple[int, int, bytes]:
        """The next message: (type, request id, body after the id); a read reply's body is
        its data alone."""
        length, kind, request = _HEADER.unpack(self._read_exact(_HEADER.size))
        if not _HEADER.size - 4 <= length <= MAX_MESSAGE_SIZE:
            self.broken = EOFError(
                f"The SFTP server sent a malformed message ({length} bytes); a login script "
                "of the account that prints text breaks SFTP"
            )
            raise self.broken
        if kind == VERSION:  # no request id: the version stands where it would be
            return kind, 0, _U32.pack(request) + self._read_exact(length - 5)
        if kind == DATA:
            (size,) = _U32.unpack(self._read_exact(4))
            if size != length - 9:
                self.broken = EOFError("The SFTP server sent a malformed read reply")
                raise self.broken
            return kind, request, self._read_exact(size)
        return kind, request, self._read_exact(length - 5)

    def _receive(self, request: int) -> tuple[int, _Reader]:
        """The reply to ``request`` (replies to others that arrive first are kept)."""
        while request not in self._stash:
            kind, got, body = self._receive_any()
            self._stash[got] = (kind, body)
        kind, body = self._stash.pop(request)
        return kind, _Reader(body)

    def _request(self, kind: int, *fields: bytes | memoryview) -> int:
        self._next_id = (self._next_id + 1) & 0xFFFFFFFF
        self._send([bytes([kind]) + _U32.pack(self._next_id), *fields])
        return self._next_id

    def _call(self, kind: int, *fields: bytes, path: str = "") -> tuple[int, _Reader]:
        """One request and its reply; a failed status raises."""
        reply, reader = self._receive(self._request(kind, *fields))
        if reply == STATUS:
            code = reader.u32()
            if code != OK:
                raise status_error(code, reader.text(), path)
        return reply, reader

    @staticmethod
    def _expect(reply: int, wanted: int) -> None:
        if reply != wanted:
            raise OSError(f"The SFTP server sent message {reply} where {wanted} was due")

    # ---- session -----------------------------------------------------------------------------
    def start(self) -> None:
        """Version 3 and the server's extensions; read and write sizes from its limits."""
        self._send([bytes([INIT]) + _U32.pack(3)])
        kind, _, body = self._receive_any()
        self._expect(kind, VERSION)
        reader = _Reader(body)
        reader.u32()
        while reader.pos < len(body):
            name = reader.text()
            self.extensions[name] = reader.bytes()
        if "limits@openssh.com" in self.extensions:
            reply, limits = self._call(EXTENDED, _string("limits@openssh.com"))
            self._expect(reply, EXTENDED_REPLY)
            limits.u64()
            largest_read, largest_write = limits.u64(), limits.u64()
            self.max_read = min(MAX_REQUEST_SIZE, largest_read or MAX_REQUEST_SIZE)
            self.max_write = min(MAX_REQUEST_SIZE, largest_write or MAX_REQUEST_SIZE)

    # ---- paths -------------------------------------------------------------------------------
    def normalize(self, path: str) -> str:
        reply, reader = self._call(REALPATH, _string(path), path=path)
        self._expect(reply, NAME)
        reader.u32()
        return reader.text()

    def stat(self, path: str) -> SftpAttributes:
        return self._attributes(STAT, path)

    def lstat(self, path: str) -> SftpAttributes:
        return self._attributes(LSTAT, path)

    def _attributes(self, kind: int, path: str) -> SftpAttributes:
        reply, reader = self._call(kind, _string(path), path=path)
        self._expect(reply, ATTRS)
        return reader.attributes()

    def mkdir(self, path: str, mode: int = 0o777) -> None:
        self._call(MKDIR, _string(path), _U32.pack(ATTR_PERMISSIONS) + _U32.pack(mode), path=path)

    def rmdir(self, path: str) -> None:
        self._call(RMDIR, _string(path), path=path)

    def remove(self, path: str) -> None:
        self._call(REMOVE, _string(path), path=path)

    def rename(self, old: str, new: str) -> None:
        self._call(RENAME, _string(old), _string(new), path=old)

    def posix_rename(self, old: str, new: str) -> None:
        if "posix-rename@openssh.com" not in self.extensions:
            raise OSError("The SFTP server has no posix-rename")
        self._call(EXTENDED, _string("posix-rename@openssh.com"), _string(old), _string(new))

    def listdir(self, path: str) -> list[str]:
        return [entry.filename for entry in self.listdir_attr(path)]

    def listdir_attr(self, path: str) -> list[SftpAttributes]:
        """The directory's entries, without ``.`` and ``..``."""
        reply, reader = self._call(OPENDIR, _string(path), path=path)
        self._expect(reply, HANDLE)
        handle = reader.bytes()
        entries: list[SftpAttributes] = []
        try:
            while True:
                reply, reader = self._receive(self._request(READDIR, _string(handle)))
                if reply == STATUS:
                    code = reader.u32()
                    if code == EOF:
                        break
                    raise status_error(code, reader.text(), path)
                self._expect(reply, NAME)
                for _ in range(reader.u32()):
                    name = reader.text()
                    reader.bytes()  # the long name, as ls -l would print it
                    found = reader.attributes()
                    if name not in (".", ".."):
                        found.filename = name
                        entries.append(found)
        finally:
            self._close_handle(handle)
        return entries

    # ---- files -------------------------------------------------------------------------------
    def open(self, path: str, mode: str = "rb") -> SftpPipeFile:
        if "r" in mode:
            flags = FXF_READ
        elif "w" in mode:
            flags = FXF_WRITE | FXF_CREAT | FXF_TRUNC
        else:
            raise ValueError(f"Unsupported mode {mode!r}")
        reply, reader = self._call(OPEN, _string(path), _U32.pack(flags), _U32.pack(0), path=path)
        self._expect(reply, HANDLE)
        return SftpPipeFile(self, reader.bytes(), path)

    def _close_handle(self, handle: bytes) -> None:
        self._call(CLOSE, _string(handle))


class SftpPipeFile:
    """An open remote file: pipelined reads (``readv``) and writes."""

    def __init__(self, client: SftpPipeClient, handle: bytes, path: str) -> None:
        self._client = client
        self._handle = handle
        self._path = path
        self._write_offset = 0
        self._writes: deque[int] = deque()
        self._closed = False
        self.MAX_REQUEST_SIZE = min(client.max_read, client.max_write)

    def set_pipelined(self, pipelined: bool = True) -> None:
        """Writes are always pipelined (kept for paramiko's interface)."""

    def read(self, size: int) -> bytes:
        return b"".join(self.readv([(0, size)]))

    def readv(self, windows: Iterable[tuple[int, int]]) -> Iterator[bytes]:
        """The bytes of each (offset, length) window in order, as replies arrive; up to
        MAX_IN_FLIGHT reads are in flight. A short reply is followed by a read of the rest;
        the end of the file ends the window early."""
        client = self._client
        handle = _string(self._handle)
        step = client.max_read
        pending = deque(
            (start, min(step, offset + length - start))
            for offset, length in windows
            for start in range(offset, offset + length, step)
        )
        flight: deque[tuple[int, int, int]] = deque()  # request id, offset, length
        while pending or flight:
            while pending and len(flight) < MAX_IN_FLIGHT:
                start, length = pending.popleft()
                request = client._request(READ, handle, _U64.pack(start), _U32.pack(length))
                flight.append((request, start, length))
            request, start, length = flight.popleft()
            reply, reader = client._receive(request)
            if reply == STATUS:
                code = reader.u32()
                if code == EOF:
                    continue
                raise status_error(code, reader.text(), self._path)
            client._expect(reply, DATA)
            data = reader.raw  # the data alone (``_receive_any``)
            size = len(data)
            if 0 < size < length:  # the rest is asked for now and awaited next
                rest = (start + size, length - size)
                request = client._request(READ, handle, _U64.pack(rest[0]), _U32.pack(rest[1]))
                flight.appendleft((request, *rest))
            if size:
                yield data

    def write(self, data: bytes) -> None:
        client = self._client
        handle = _string(self._handle)
        view = memoryview(data)
        step = client.max_write
        for start in range(0, len(view), step):
            piece = view[start : start + step]
            request = client._request(
                WRITE, handle, _U64.pack(self._write_offset), _U32.pack(len(piece)), piece
            )
            self._write_offset += len(piece)
            self._writes.append(request)
            if len(self._writes) >= MAX_IN_FLIGHT:
                self._check_status(self._writes.popleft())

    def _check_status(self, request: int) -> None:
        """The answer to ``request`` (a write or the close): a status, raised unless OK."""
        reply, reader = self._client._receive(request)
        self._client._expect(reply, STATUS)
        code = reader.u32()
        if code != OK:
            raise status_error(code, reader.text(), self._path)

    def close(self) -> None:
        """Close the handle and check every write. The close goes out before the writes'
        answers are read (the server takes a handle's requests in order), which saves a
        small file's upload a round trip; the first write that failed is the error."""
        if self._closed:
            return
        self._closed = True
        client = self._client
        closing = client._request(CLOSE, _string(self._handle))
        failed: OSError | None = None
        try:
            for request in self._writes:
                try:
                    self._check_status(request)
                except (TimeoutError, EOFError):
                    raise
                except OSError as error:  # the rest and the close are still to be read
                    failed = failed or error
        finally:
            self._writes.clear()
        try:
            self._check_status(closing)
        except OSError as error:
            if failed is None or isinstance(error, TimeoutError | EOFError):
                raise
        if failed is not None:
            raise failed

    def __enter__(self) -> SftpPipeFile:
        return self

    def __exit__(self, *exc: Any) -> None:
        if exc[0] is None:
            self.close()
            return
        with contextlib.suppress(Exception):  # the error in flight is the one to report
            self.close()
