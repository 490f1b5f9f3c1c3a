"""``ArtifactRepo``: where a run's files live, behind one interface.

Local directories, S3 buckets and the server's artifact proxy all pass the same contract suite
(``tests/contract/test_artifact_contract.py``). Every path handed in is relative to the
repository's root and goes through ``runyard.validation.safe_relative_path`` first, so no
repository ever reads, writes or deletes outside its root.
"""

from __future__ import annotations

import abc
import functools
import importlib
import logging
import os
import secrets
import time
from collections.abc import Iterator
from types import ModuleType
from typing import BinaryIO

from runyard.entities import FileInfo
from runyard.errors import (
    InsufficientStorage,
    InvalidParameterValue,
    NotImplementedByBackend,
    ResourceDoesNotExist,
)
from runyard.locations import canonical_artifact_path
from runyard.validation import safe_relative_path

CHUNK_SIZE = 1024 * 1024
#: Prefix of in-progress uploads on file systems and file servers; listings never show them.
UPLOAD_PREFIX = ".runyard-upload-"


#: How long an upload's temporary file may go unwritten before a delete takes it for the
#: leftover of an upload whose process died. A live upload writes to it far more often: a
#: client that stalls longer than ``client_timeout`` is dropped and its file removed.
ABANDONED_UPLOAD_SECONDS = 3600


#: Tries to open an upload's temporary file while deletes running at once keep removing the
#: directory just made for it. One delete's pass removes that directory at most once, so a few
#: tries outlast the deletes of a cleanup sweep; the bound keeps a delete loop from holding an
#: upload forever.
DIRECTORY_RACE_ATTEMPTS = 5


def upload_temp_name() -> str:
    """A unique name for an upload in progress, renamed to the real name when complete."""
    return f"{UPLOAD_PREFIX}{secrets.token_hex(8)}"


def spared_by_delete(name: str, modified: float) -> bool:
    """Whether a delete must leave the entry ``name`` (last written at ``modified``, seconds
    since the epoch) alone: an upload is writing it. Deleting it would fail that upload, which
    then could not move its file into place; left alone, the upload lands after the delete,
    as if it had started after it. Its directory stays for it."""
    return name.startswith(UPLOAD_PREFIX) and time.time() - modified < ABANDONED_UPLOAD_SECONDS


def file_in_the_way(artifact_path: str) -> InvalidParameterValue:
    """The refusal of a write below a file (``a.txt/b.txt`` where ``a.txt`` is a file) on
    stores whose paths are directories, naming the artifact's path, never the store's."""
    return InvalidParameterValue(
        f"Cannot write {artifact_path!r}: a file stands where one of its directories would be"
    )


def not_stored(what: str) -> InsufficientStorage:
    """A file server that could not store an upload, most likely for lack of space (SFTP and
    FTP do not say): a 507 that clears once space is freed, as on local disk."""
    return InsufficientStorage(
        f"{what}; its disk may be full. Nothing was replaced. Retry once space is freed."
    )


def import_extra(module: str, extra: str, scheme: str) -> ModuleType:
    """``module``, or an error that says which optional extra to install for ``scheme``."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise NotImplementedByBackend(
            f"{scheme}:// artifact locations need the {module.split('.')[0]!r} package: "
            f"pip install 'runyard[{extra}]'"
        ) from None


log = logging.getLogger("runyard.artifacts")


def listable(name: str, where: str) -> bool:
    """Whether ``name``, found in a directory or bucket listing, can be an artifact's name.
    One that cannot (``..``, ``.``, empty, absolute, with a backslash or a still-encoded
    sequence) was put there behind runyard's back: it is skipped, and the log says so."""
    try:
        ok = bool(name) and "/" not in name and canonical_artifact_path(name) == name
    except InvalidParameterValue:
        ok = False
    if not ok:
        log.warning("skipped %r in the listing of %r: not a valid artifact name", name, where)
    return ok


class ArtifactRepo(abc.ABC):
    """Files under one root URI (a run's ``artifact_uri``, or a server's destination)."""

    def __init__(self, root_uri: str) -> None:
        self.root_uri = root_uri

    def log_artifact(
        self, local_file: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        """Copy one local file to ``<artifact_path>/<basename>`` through ``write_stream``."""
        local_file = os.fspath(local_file)
        if not os.path.isfile(local_file):
            raise ResourceDoesNotExist(f"No such local file: '{local_file}'")
        base = safe_relative_path(artifact_path)
        name = os.path.basename(local_file)
        with open(local_file, "rb") as stream:
            self.write_stream(f"{base}/{name}" if base else name, stream)

    def log_artifacts(
        self, local_dir: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        """Copy a directory tree, keeping its sub-directories, under ``artifact_path``, a few
        files at a time (``runyard.artifacts.transfers``)."""
        from runyard.artifacts.transfers import run_transfers

        local_dir = os.fspath(local_dir)
        jobs = []
        for dirpath, _dirnames, filenames in os.walk(local_dir):
            rel = os.path.relpath(dirpath, local_dir)
            target = artifact_path or ""
            if rel != ".":
                target = "/".join(p for p in (target, rel.replace(os.sep, "/")) if p)
            for filename in sorted(filenames):
                local = os.path.join(dirpath, filename)
                jobs.append(functools.partial(self.log_artifact, local, target or None))
        run_transfers(jobs)

    @abc.abstractmethod
    def write_stream(self, artifact_path: str, stream: BinaryIO) -> int:
        """Write a file from a stream, in bounded memory; an interrupted write leaves nothing
        visible at ``artifact_path``. Returns the number of bytes written."""

    @abc.abstractmethod
    def open_stream(self, artifact_path: str) -> Iterator[bytes]:
        """Yield a file's bytes in chunks. A missing file or a directory is
        ``ResourceDoesNotExist``."""

    @abc.abstractmethod
    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        """Direct children of ``path``; their paths are relative to the repository root
        (``sub/a.txt``). A file or missing path gives an empty list."""

    @abc.abstractmethod
    def file_info(self, artifact_path: str) -> FileInfo | None:
        """What is at ``artifact_path``: a file, a directory, or None."""

    @abc.abstractmethod
    def delete_artifacts(self, artifact_path: str | None = None) -> None:
        """Delete a file or a whole directory (the root when ``artifact_path`` is None)."""

    def download_artifacts(
        self, artifact_path: str, dst_path: str | os.PathLike[str], keep_parents: bool = True
    ) -> str:
        """Copy a file or directory into ``dst_path`` (under its parents' directories, unless
        ``keep_parents`` is False); return the local path of the copy."""
        from runyard.artifacts.download import download_tree

        return download_tree(self, artifact_path, os.fspath(dst_path), keep_parents)


class CountingReader:
    """A read-only file object that counts the bytes handed to an uploader.

    It fills each ``read(n)`` (looping over short reads of sockets and raw streams), because
    uploaders (boto3's, Google's) take a short read for the end of the data."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self.count = 0

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            data = self._stream.read()
        else:
            parts: list[bytes] = []
            got = 0
            while got < size:
                chunk = self._stream.read(size - got)
                if not chunk:
                    break
                parts.append(chunk)
                got += len(chunk)
            data = b"".join(parts)
        self.count += len(data)
        return data

    def readable(self) -> bool:
        return True
