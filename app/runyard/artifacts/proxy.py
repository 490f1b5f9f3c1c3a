"""``ProxyArtifactRepo``: artifacts served by a tracking server's artifact proxy.

``mlflow-artifacts:/<path>`` maps to ``<tracking_uri>/api/2.0/mlflow-artifacts/artifacts/<path>``
(``mlflow-artifacts://host:port/<path>`` names the server itself), exactly as MLflow's client
maps it, so runyard and MLflow clients can share runs. Uploads stream the file as the request
body with its Content-Length (no chunked encoding, which some servers refuse); downloads stream
the reply. The server decides where the bytes end up (a directory or a bucket).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import BinaryIO
from urllib.parse import quote, urlparse

from runyard import config
from runyard.artifacts.base import CHUNK_SIZE, ArtifactRepo
from runyard.entities import FileInfo
from runyard.errors import InvalidParameterValue, ResourceDoesNotExist
from runyard.http import HttpClient, error_from_response
from runyard.locations import parse_location
from runyard.validation import safe_relative_path

ARTIFACTS_API = "/api/2.0/mlflow-artifacts/artifacts"
SCHEMES = ("mlflow-artifacts", "runyard-artifacts")


def server_base_url(root_uri: str, tracking_uri: str | None) -> str:
    """The server an artifact URI points at: its own host if it names one, else the tracking
    server (with the tracking URI's scheme)."""
    parsed = urlparse(root_uri)
    tracking = urlparse(tracking_uri or "")
    if parsed.netloc:
        scheme = tracking.scheme if tracking.scheme in ("http", "https") else "http"
        return f"{scheme}://{parsed.netloc}"
    if tracking.scheme not in ("http", "https"):
        raise InvalidParameterValue(
            f"Artifact URI {root_uri!r} is served by a tracking server, but the tracking URI "
            f"{tracking_uri!r} is not an http(s):// server URI."
        )
    return (tracking_uri or "").rstrip("/")


class ProxyArtifactRepo(ArtifactRepo):
    """Files under ``mlflow-artifacts:/<root>`` on a tracking server."""

    def __init__(
        self, root_uri: str, tracking_uri: str | None = None, http: HttpClient | None = None
    ) -> None:
        super().__init__(root_uri)
        location = parse_location(root_uri)
        if location.scheme not in SCHEMES:
            raise InvalidParameterValue(
                f"Not a proxied artifact URI: {root_uri!r} (expected mlflow-artifacts:/…)"
            )
        self.root_path = location.path.lstrip("/")
        self.tracking_uri = tracking_uri or config.get("tracking_uri")
        base_url = server_base_url(root_uri, self.tracking_uri)
        if http is None or http.base_url != base_url.rstrip("/"):
            http = HttpClient(base_url)  # a given client of another server is not reused
        self.http = http

    def _server_path(self, rel: str) -> str:
        return "/".join(p for p in (self.root_path, rel) if p)

    def _url_path(self, rel: str) -> str:
        return f"{ARTIFACTS_API}/{quote(self._server_path(rel), safe='/')}"

    # ---- writes ------------------------------------------------------------------------------
    def write_stream(self, artifact_path: str, stream: BinaryIO) -> int:
        """PUT the stream as the body. A file's size is known, so Content-Length is sent and
        the body is streamed from disk; a seekable stream is replayed on a retry."""
        rel = safe_relative_path(artifact_path)
        if not rel:
            raise InvalidParameterValue("Invalid path: cannot write a file at the artifact root")
        size = _remaining_size(stream)
        body: object = stream if size is not None else _chunks_of(stream)
        if size == 0:
            body = b""  # an empty file object would be sent chunked, beside Content-Length
        headers = {"Content-Type": "application/octet-stream"}
        if size is not None:
            headers["Content-Length"] = str(size)
        response = self.http.request("PUT", self._url_path(rel), data=body, headers=headers)
        with response:
            if not response.ok:
                raise error_from_response(response)
        return size if size is not None else body.sent  # type: ignore[attr-defined]

    # ---- reads -------------------------------------------------------------------------------
    def open_stream(self, artifact_path: str) -> Iterator[bytes]:
        rel = safe_relative_path(artifact_path)
        if not rel:
            raise ResourceDoesNotExist(f"No such artifact: '{artifact_path}'")
        response = self.http.request("GET", self._url_path(rel), stream=True)
        if not response.ok:
            with response:
                error = error_from_response(response)
            if response.status_code == 400 and "directory" in error.message.lower():
                raise ResourceDoesNotExist(f"No such artifact: '{rel}' is a directory")
            raise error
        return self._chunks(response)

    @staticmethod
    def _chunks(response: object) -> Iterator[bytes]:
        with response:  # type: ignore[attr-defined]
            yield from response.iter_content(CHUNK_SIZE)  # type: ignore[attr-defined]

    def _list(self, rel: str) -> list[FileInfo]:
        """The server's listing of ``rel``: names relative to ``rel``."""
        reply = self.http.call(
            "GET",
            ARTIFACTS_API,
            params={"path": self._server_path(rel)} if rel or self.root_path else None,
        )
        infos = []
        for item in reply.get("files", []):
            name = safe_relative_path(str(item.get("path", "")))
            if not name or "/" in name:
                raise InvalidParameterValue(f"The server listed an unsafe path: {item!r}")
            size = item.get("file_size")
            is_dir = bool(item.get("is_dir", False))
            # proto3 JSON omits a zero size, so a file without one is empty
            infos.append(FileInfo(name, is_dir, None if is_dir else int(size or 0)))
        return infos

    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        rel = safe_relative_path(path)
        children = self._list(rel)
        return sorted(
            (
                FileInfo("/".join(p for p in (rel, c.path) if p), c.is_dir, c.file_size)
                for c in children
            ),
            key=lambda info: info.path,
        )

    def file_info(self, artifact_path: str) -> FileInfo | None:
        rel = safe_relative_path(artifact_path)
        if not rel:
            return FileInfo("", True)
        parent, _, name = rel.rpartition("/")
        for child in self._list(parent):
            if child.path == name:
                return FileInfo(rel, child.is_dir, child.file_size)
        return None

    # ---- deletes -----------------------------------------------------------------------------
    def delete_artifacts(self, artifact_path: str | None = None) -> None:
        rel = safe_relative_path(artifact_path)
        if not rel and not self.root_path:
            raise InvalidParameterValue("Refusing to delete the server's whole artifact root")
        self.http.call("DELETE", self._url_path(rel))


def _remaining_size(stream: BinaryIO) -> int | None:
    """Bytes left in a seekable stream (a file), or None when it cannot be known."""
    try:
        if not stream.seekable():
            return None
        position = stream.tell()
        end = stream.seek(0, os.SEEK_END)
        stream.seek(position)
        return end - position
    except (AttributeError, OSError, ValueError):
        return None


class _chunks_of:
    """A one-shot stream as an iterable body (sent chunked), counting what it sent."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.sent = 0

    def __iter__(self) -> Iterator[bytes]:
        while chunk := self.stream.read(CHUNK_SIZE):
            self.sent += len(chunk)
            yield chunk


__all__ = ["ProxyArtifactRepo", "server_base_url"]
