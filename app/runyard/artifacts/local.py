"""``LocalArtifactRepo``: artifacts in a local directory (``file:`` URIs and plain paths).

Every path is checked twice: textually by ``validation.safe_relative_path`` (no ``..``, no
absolute paths, no control characters), and on disk, where the path after resolving symlinks
(``os.path.realpath``) must still lie under the root. Uploads stream to a temporary file in the
target directory and are renamed into place, so an interrupted upload leaves nothing visible.
A delete that runs while an upload writes below it leaves the upload's temporary file (and the
directories that hold it) alone, so the upload lands after it (``spared_by_delete``).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Iterator
from typing import BinaryIO

from runyard.artifacts.base import (
    CHUNK_SIZE,
    DIRECTORY_RACE_ATTEMPTS,
    UPLOAD_PREFIX,
    ArtifactRepo,
    file_in_the_way,
    listable,
    spared_by_delete,
)
from runyard.entities import FileInfo
from runyard.errors import (
    InsufficientStorage,
    InvalidParameterValue,
    NameTooLong,
    ResourceDoesNotExist,
)
from runyard.locations import parse_location
from runyard.uris import local_path_from_uri
from runyard.validation import safe_relative_path


class LocalArtifactRepo(ArtifactRepo):
    """Files under one local directory; nothing is ever read, written, listed or deleted
    outside it, whatever the path or the symlinks inside say."""

    def __init__(self, root_uri: str) -> None:
        super().__init__(root_uri)
        location = parse_location(root_uri)  # refuses disguised roots (%2e%2e, #, ?, ...)
        if not location.rules.local:
            raise InvalidParameterValue(f"Not a local artifact location: {root_uri!r}")
        self.root = location.path

    # ---- paths -------------------------------------------------------------------------------
    def _resolve(self, artifact_path: str | None) -> tuple[str, str]:
        """``(relative, absolute)`` for a path that stays under the root on disk."""
        rel = safe_relative_path(artifact_path)
        full = os.path.join(self.root, *rel.split("/")) if rel else self.root
        if rel and not self._inside(full):
            raise InvalidParameterValue(f"Invalid path: {artifact_path!r} leaves the artifact root")
        return rel, full

    def _inside(self, full: str) -> bool:
        real_root = os.path.realpath(self.root)
        real = os.path.realpath(full)
        return real != real_root and os.path.commonpath([real_root, real]) == real_root

    # ---- writing -----------------------------------------------------------------------------
    def write_stream(self, artifact_path: str, stream: BinaryIO) -> int:
        with _disk_errors(artifact_path):
            return self._write(artifact_path, stream)

    def _write(self, artifact_path: str, stream: BinaryIO) -> int:
        rel, full = self._resolve(artifact_path)
        if not rel:
            raise InvalidParameterValue("An artifact path is needed to write a file.")
        if os.path.isdir(full) and not os.path.islink(full):
            raise InvalidParameterValue(f"Cannot write {artifact_path!r}: it is a directory")
        directory = os.path.dirname(full)
        _make_directory(artifact_path, directory)
        if not self._inside(full):  # a symlink appeared on the way while creating dirs
            raise InvalidParameterValue(f"Invalid path: {artifact_path!r} leaves the artifact root")
        fd, temp = self._temp_file(artifact_path, directory)
        written = 0
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(CHUNK_SIZE):
                    out.write(chunk)
                    written += len(chunk)
            os.chmod(temp, 0o644)
            os.replace(temp, full)
        except BaseException:
            if os.path.exists(temp):
                os.unlink(temp)
            raise
        return written

    @staticmethod
    def _temp_file(artifact_path: str, directory: str) -> tuple[int, str]:
        """The upload's temporary file in ``directory``. A delete running at once may remove
        the directory between its creation and this; it is made again then (the delete
        spares it once the temporary file is in it)."""
        for _ in range(DIRECTORY_RACE_ATTEMPTS - 1):
            try:
                return tempfile.mkstemp(dir=directory, prefix=UPLOAD_PREFIX)
            except FileNotFoundError:
                _make_directory(artifact_path, directory)
        return tempfile.mkstemp(dir=directory, prefix=UPLOAD_PREFIX)

    # ---- reading -----------------------------------------------------------------------------
    def open_stream(self, artifact_path: str) -> Iterator[bytes]:
        rel, full = self._resolve(artifact_path)
        if not rel or not os.path.isfile(full):
            raise ResourceDoesNotExist(f"No such artifact: '{artifact_path}'")
        handle = open(full, "rb")  # noqa: SIM115 - opened now so a missing file fails here

        def chunks() -> Iterator[bytes]:
            with handle:
                while chunk := handle.read(CHUNK_SIZE):
                    yield chunk

        return chunks()

    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        rel, full = self._resolve(path)
        if not os.path.isdir(full):
            return []
        infos = []
        for name in sorted(os.listdir(full)):
            if name.startswith(UPLOAD_PREFIX) or not listable(name, rel):
                continue
            child = os.path.join(full, name)
            if not self._inside(child):  # a symlink out of the root is not ours to show
                continue
            child_rel = f"{rel}/{name}" if rel else name
            if os.path.isdir(child):
                infos.append(FileInfo(path=child_rel, is_dir=True, file_size=None))
            elif os.path.isfile(child):
                infos.append(
                    FileInfo(path=child_rel, is_dir=False, file_size=os.path.getsize(child))
                )
        return infos

    def file_info(self, artifact_path: str) -> FileInfo | None:
        rel, full = self._resolve(artifact_path)
        if os.path.isdir(full):
            return FileInfo(path=rel, is_dir=True, file_size=None)
        if os.path.isfile(full):
            return FileInfo(path=rel, is_dir=False, file_size=os.path.getsize(full))
        return None

    # ---- deleting ----------------------------------------------------------------------------
    def delete_artifacts(self, artifact_path: str | None = None) -> None:
        rel, full = self._resolve(artifact_path)
        if not rel:
            with contextlib.suppress(FileNotFoundError, NotADirectoryError):
                for name in os.listdir(full):
                    self._remove(os.path.join(full, name))
            return
        self._remove(full)

    @classmethod
    def _remove(cls, full: str) -> None:
        """Remove a file, a symlink (never what it points to) or a directory tree, but no
        upload in progress. What vanishes meanwhile is gone already; a directory that a
        concurrent upload has just written into stays, with that upload's file."""
        try:
            found = os.lstat(full)
        except FileNotFoundError:
            return
        if not stat.S_ISDIR(found.st_mode):
            if not spared_by_delete(os.path.basename(full), found.st_mtime):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(full)
            return
        with contextlib.suppress(FileNotFoundError):
            for name in os.listdir(full):
                cls._remove(os.path.join(full, name))
        try:
            os.rmdir(full)
        except OSError as exc:
            if exc.errno not in (errno.ENOENT, errno.ENOTEMPTY, errno.EEXIST):
                raise


def _make_directory(artifact_path: str, directory: str) -> None:
    """``directory`` and its parents. A delete running at once may remove a parent just
    made, before its child is; the whole chain is made again then."""
    for attempt in range(DIRECTORY_RACE_ATTEMPTS):
        try:
            os.makedirs(directory, exist_ok=True)
            return
        except (FileExistsError, NotADirectoryError):
            raise file_in_the_way(artifact_path) from None
        except FileNotFoundError:
            if attempt == DIRECTORY_RACE_ATTEMPTS - 1:
                raise


@contextlib.contextmanager
def _disk_errors(artifact_path: str) -> Iterator[None]:
    """What the file system refuses becomes the client's 400 or a 507 that clears by itself
    when space is freed, never a 500 (the upload was discarded either way)."""
    try:
        yield
    except OSError as exc:
        if exc.errno == errno.ENAMETOOLONG:
            raise NameTooLong(
                f"Invalid path: {artifact_path[:80]!r}… is longer than the file system allows."
            ) from None
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise InsufficientStorage(
                f"The artifact store is out of disk space; {artifact_path[:200]!r} was not "
                "stored and nothing else was changed. Retry once space is freed."
            ) from None
        raise


__all__ = ["LocalArtifactRepo", "local_path_from_uri"]
