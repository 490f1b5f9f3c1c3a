"""``GcsArtifactRepo``: artifacts in a Google Cloud Storage bucket (``gs://bucket/prefix``).

Credentials come the usual Google way (``GOOGLE_APPLICATION_CREDENTIALS``, ``gcloud auth
application-default login``, or the metadata server on Google Cloud); ``STORAGE_EMULATOR_HOST``
points the client at an emulator, as Google's own client does. Files up to one chunk go up in
one request; larger ones through a resumable upload in chunks of ``CHUNK_BYTES``, so memory
stays bounded. GCS shows an object only once its upload completes, so an interrupted upload
never leaves a partial object. A download is one streamed request, as the client's own
``download_to_file`` makes it (``pushed_stream``), for the generation found when it started.
"""

from __future__ import annotations

import contextlib
import io
import mimetypes
from collections.abc import Iterator
from typing import Any, BinaryIO

from runyard.artifacts.base import (
    ArtifactRepo,
    CountingReader,
    import_extra,
    listable,
)
from runyard.artifacts.pushed_stream import pushed_chunks
from runyard.artifacts.remote import timeout_seconds
from runyard.entities import FileInfo
from runyard.errors import (
    InvalidParameterValue,
    PermissionDenied,
    ResourceDoesNotExist,
    RunyardError,
    TemporarilyUnavailable,
)
from runyard.locations import parse_location, shown
from runyard.validation import safe_relative_path

#: Resumable upload chunk: a multiple of 256 KiB, as GCS requires. Each is one request and a
#: round trip; an upload holds about three in memory (49 MiB measured for 256 MiB sent).
CHUNK_BYTES = 16 * 1024 * 1024


def parse_gcs_uri(uri: str) -> tuple[str, str]:
    """``gs://bucket/prefix`` -> ``(bucket, prefix)``, parsed by ``runyard.locations`` (decoded
    once, no ``..``, query, fragment or user information)."""
    location = parse_location(uri)
    if location.scheme != "gs":
        raise InvalidParameterValue(f"Not a GCS URI: {shown(uri)!r} (expected gs://bucket/prefix)")
    return location.authority, location.path.strip("/")


class GcsArtifactRepo(ArtifactRepo):
    """Objects under ``gs://bucket/prefix``; paths handed in are relative to the prefix."""

    def __init__(self, root_uri: str, client: Any = None) -> None:
        super().__init__(root_uri)
        self.bucket_name, self.prefix = parse_gcs_uri(root_uri)
        self._storage = import_extra("google.cloud.storage", "gcs", "gs")
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            with _gcs_errors(""):
                self._client = self._storage.Client()
        return self._client

    @property
    def bucket(self) -> Any:
        return self.client.bucket(self.bucket_name)

    # ---- keys --------------------------------------------------------------------------------
    def _key(self, rel: str) -> str:
        return "/".join(p for p in (self.prefix, rel) if p)

    def _rel(self, key: str) -> str:
        return key[len(self.prefix) + 1 :] if self.prefix else key

    def _dir_prefix(self, rel: str) -> str:
        key = self._key(rel)
        return f"{key}/" if key else ""

    # ---- writing -----------------------------------------------------------------------------
    def write_stream(self, artifact_path: str, stream: BinaryIO) -> int:
        rel = safe_relative_path(artifact_path)
        if not rel:
            raise InvalidParameterValue("Invalid path: cannot write a file at the artifact root")
        key = self._key(rel)
        content_type = mimetypes.guess_type(key)[0] or "application/octet-stream"
        reader = CountingReader(stream)
        head = reader.read(CHUNK_BYTES)
        with _gcs_errors(rel):
            if len(head) < CHUNK_BYTES:  # the whole file: one request
                blob = self.bucket.blob(key)
                blob.upload_from_string(head, content_type=content_type, **_bounded())
            else:
                blob = self.bucket.blob(key, chunk_size=CHUNK_BYTES)
                rejoined = _Rejoined(head, reader)
                del head  # read through ``rejoined``: not held a second time
                blob.upload_from_file(
                    rejoined, content_type=content_type, timeout=timeout_seconds()
                )  # not retried: a one-way stream cannot be replayed
        return reader.count

    # ---- reading -----------------------------------------------------------------------------
    def open_stream(self, artifact_path: str) -> Iterator[bytes]:
        rel = safe_relative_path(artifact_path)
        if not rel:
            raise ResourceDoesNotExist(f"No such artifact: '{artifact_path}'")
        with _gcs_errors(rel):
            blob = self.bucket.get_blob(self._key(rel), **_bounded())
        if blob is None:
            raise ResourceDoesNotExist(f"No such artifact: '{artifact_path}'")
        return self._chunks(blob, rel)

    @staticmethod
    def _chunks(blob: Any, rel: str) -> Iterator[bytes]:
        def download(into: Any) -> None:
            blob.download_to_file(into, if_generation_match=blob.generation, **_bounded())

        with _gcs_errors(rel):
            yield from pushed_chunks(download)

    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        rel = safe_relative_path(path)
        prefix = self._dir_prefix(rel)
        infos: list[FileInfo] = []
        with _gcs_errors(rel):
            listing = self.client.list_blobs(
                self.bucket_name, prefix=prefix, delimiter="/", **_bounded()
            )
            for blob in listing:
                name = blob.name[len(prefix) :]
                if blob.name != prefix and listable(name, rel):  # not a "directory marker"
                    infos.append(FileInfo(self._rel(blob.name), False, int(blob.size or 0)))
            for sub in listing.prefixes:
                if listable(sub[len(prefix) : -1], rel):
                    infos.append(FileInfo(self._rel(sub.rstrip("/")), True, None))
        return sorted(infos, key=lambda info: info.path)

    def file_info(self, artifact_path: str) -> FileInfo | None:
        rel = safe_relative_path(artifact_path)
        if not rel:
            return FileInfo("", True)
        with _gcs_errors(rel):
            blob = self.bucket.get_blob(self._key(rel), **_bounded())
            if blob is not None:
                return FileInfo(rel, False, int(blob.size or 0))
            children = self.client.list_blobs(
                self.bucket_name, prefix=self._dir_prefix(rel), max_results=1, **_bounded()
            )
            return FileInfo(rel, True) if any(True for _ in children) else None

    # ---- deleting ----------------------------------------------------------------------------
    def delete_artifacts(self, artifact_path: str | None = None) -> None:
        rel = safe_relative_path(artifact_path)
        with _gcs_errors(rel):
            listing = self.client.list_blobs(
                self.bucket_name, prefix=self._dir_prefix(rel), **_bounded()
            )
            blobs = list(listing)
            if rel:
                single = self.bucket.get_blob(self._key(rel), **_bounded())
                if single is not None:
                    blobs.append(single)
            for blob in blobs:
                with contextlib.suppress(self._not_found()):
                    blob.delete(**_bounded())

    @staticmethod
    def _not_found() -> type[Exception]:
        from google.api_core.exceptions import NotFound

        return NotFound


def _bounded() -> dict[str, Any]:
    """Per-request timeout and a retry budget of the same length (Google's default is 120 s)."""
    from google.cloud.storage.retry import DEFAULT_RETRY

    seconds = timeout_seconds()
    return {"timeout": seconds, "retry": DEFAULT_RETRY.with_timeout(seconds)}


class _Rejoined(io.RawIOBase):
    """The first chunk (already read to size the upload) followed by the rest of the stream;
    ``tell`` is the position the resumable upload asks for between chunks."""

    def __init__(self, head: bytes, rest: CountingReader) -> None:
        self._head = memoryview(head)
        self._rest = rest
        self._position = 0

    def readable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            data = bytes(self._head) + self._rest.read()
            self._head = memoryview(b"")
        elif self._head:
            taken, self._head = self._head[:size], self._head[size:]
            if not self._head:
                self._head = memoryview(b"")  # an empty slice would keep the chunk alive
            more = self._rest.read(size - len(taken)) if len(taken) < size else b""
            data = bytes(taken) + more
        else:
            data = self._rest.read(size)
        self._position += len(data)
        return data


class _gcs_errors:
    """Google's exceptions as runyard errors: missing -> 404, refused or no credentials ->
    403, unavailable or unreachable -> 503, and an object replaced while a download resumed
    (the generation it started with is gone) or one that arrived damaged (its checksum
    differs) -> 503, so the client reads it again."""

    def __init__(self, rel: str) -> None:
        self.rel = rel

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> bool:
        if exc is None or isinstance(exc, RunyardError) or not isinstance(exc, Exception):
            return False
        import requests
        from google.api_core import exceptions as api
        from google.auth.exceptions import DefaultCredentialsError
        from google.resumable_media.common import DataCorruption

        if isinstance(exc, api.NotFound):
            raise ResourceDoesNotExist(f"No such artifact: '{self.rel}' ({exc.message})") from None
        if isinstance(exc, api.Forbidden | api.Unauthorized):
            raise PermissionDenied(f"GCS refused access to '{self.rel}': {exc.message}") from None
        if isinstance(exc, api.PreconditionFailed):
            raise TemporarilyUnavailable(
                f"'{self.rel}' was replaced while it was being read; read it again"
            ) from None
        if isinstance(exc, DataCorruption):
            raise TemporarilyUnavailable(
                f"'{self.rel}' arrived damaged (its checksum differs); read it again"
            ) from None
        if isinstance(exc, DefaultCredentialsError):
            raise PermissionDenied(
                "No Google credentials: set GOOGLE_APPLICATION_CREDENTIALS, run `gcloud auth "
                "application-default login`, or point STORAGE_EMULATOR_HOST at an emulator"
            ) from None
        if isinstance(
            exc,
            api.ServerError
            | api.TooManyRequests
            | api.RetryError
            | requests.RequestException
            | OSError,
        ):
            raise TemporarilyUnavailable(f"GCS is unavailable for '{self.rel}': {exc}") from None
        return False


__all__ = ["GcsArtifactRepo", "parse_gcs_uri"]
