"""The artifact proxy: ``/api/2.0/mlflow-artifacts/...`` in front of the server's destination.

Clients PUT, GET, list and DELETE files by path; the bytes land in the repository configured as
``RUNYARD_ARTIFACT_REPO`` (a directory or a bucket). Both directions stream in chunks, so a
multi-gigabyte upload or download passes through in bounded memory.

Paths arrive from the network, so each is checked in every disguise it could wear (``..``,
percent- and double-percent-encoded, backslashes, absolute, NUL) before the repository sees it;
the repository itself refuses symlinks that leave its root. Downloads are always attachments
with ``nosniff``, so an uploaded HTML or SVG file can never run as a page of this server.
"""

from __future__ import annotations

import mimetypes
import os
import posixpath
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, current_app, jsonify, request
from werkzeug.routing import PathConverter

from runyard import protocol
from runyard.artifacts.base import CHUNK_SIZE, ArtifactRepo
from runyard.errors import (
    BadRequest,
    InvalidParameterValue,
    NameTooLong,
    NotImplementedByBackend,
    ResourceDoesNotExist,
)
from runyard.locations import canonical_artifact_path

bp = Blueprint("artifacts", __name__)


class AnyPathConverter(PathConverter):
    """Like ``path``, but also matches a leading ``/``, so ``artifacts//etc/passwd`` reaches
    ``checked_path`` and gets 400, instead of a 404 or a redirect to a merged URL."""

    regex = ".+?"
    part_isolating = False


#: Served as text/plain whatever ``mimetypes`` says (MLflow's list), so they display, not run.
TEXT_EXTENSIONS = frozenset(
    [
        "txt",
        "log",
        "err",
        "cfg",
        "conf",
        "cnf",
        "cf",
        "ini",
        "properties",
        "prop",
        "hocon",
        "toml",
        "yaml",
        "yml",
        "xml",
        "json",
        "js",
        "py",
        "py3",
        "csv",
        "tsv",
        "md",
        "rst",
        "mlmodel",
        "mlproject",
    ]
)
DOWNLOAD_CSP = "default-src 'none'; sandbox"


# ---- helpers ------------------------------------------------------------------------------------
def _repo() -> ArtifactRepo:
    repo = current_app.config.get("RUNYARD_ARTIFACT_REPO")
    if repo is None:
        raise NotImplementedByBackend(
            "This server does not serve artifacts (start it with --serve-artifacts)."
        )
    return repo


def checked_path(raw: str | None) -> str:
    """``raw`` (decoded once by HTTP) as a canonical path relative to the destination root, or
    400 "Invalid path": still-encoded (``%2e%2e``, ``%252e``), ``#``, ``..``, absolute, ...
    all refused by ``runyard.locations.canonical_artifact_path``."""
    try:
        return canonical_artifact_path(raw or "")
    except NameTooLong:
        raise
    except InvalidParameterValue:
        raise InvalidParameterValue("Invalid path") from None


def _guarded(action: Callable[[], Any]) -> Any:
    """Run a repository call; a path it refuses (for example a symlink out of the root) is
    reported with the same "Invalid path" as any other bad path."""
    try:
        return action()
    except NameTooLong:
        raise
    except InvalidParameterValue:
        raise InvalidParameterValue("Invalid path") from None


def guess_content_type(name: str) -> str:
    base = posixpath.basename(name)
    extension = os.path.splitext(base)[1].lstrip(".") or base
    if extension.lower() in TEXT_EXTENSIONS:
        return "text/plain"
    return mimetypes.guess_type(base)[0] or "application/octet-stream"


def content_disposition(name: str) -> str:
    """``attachment`` with the file name, RFC 6266 style for names that are not plain ASCII."""
    base = posixpath.basename(name) or "artifact"
    ascii_name = base.encode("ascii", "replace").decode().replace("?", "_")
    ascii_name = ascii_name.replace("\\", "_").replace('"', "_")
    value = f'attachment; filename="{ascii_name}"'
    if ascii_name != base:
        value += f"; filename*=UTF-8''{quote(base, safe='')}"
    return value


class _BodyReader:
    """``request.stream`` with file semantics: ``read(n)`` returns ``n`` bytes unless the body
    ends first (a socket hands out whatever has arrived, and uploaders such as boto3's take a
    short read for the end of the data). Memory stays bounded by what the caller asks for.

    A body that ends before its Content-Length is a dropped connection, not the end of the
    file: that raises, so the repository discards the upload instead of keeping half of it.
    """

    def __init__(self, stream: Any, expected: int | None) -> None:
        self._stream = stream
        self._expected = expected
        self._received = 0

    def _next(self, ask: int) -> bytes:
        chunk = self._stream.read(ask)
        self._received += len(chunk)
        if not chunk and self._expected is not None and self._received < self._expected:
            raise BadRequest(
                f"Upload ended after {self._received} of {self._expected} bytes; nothing was "
                "stored."
            )
        return chunk

    def read(self, size: int | None = -1) -> bytes:
        parts: list[bytes] = []
        wanted = size if size is not None and size >= 0 else None
        got = 0
        while wanted is None or got < wanted:
            ask = CHUNK_SIZE if wanted is None else min(CHUNK_SIZE, wanted - got)
            chunk = self._next(ask)
            if not chunk:
                break
            parts.append(chunk)
            got += len(chunk)
        return b"".join(parts)

    def readable(self) -> bool:
        return True


def _streamed(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """Pull the first chunk now, so a failure becomes a JSON error and not a cut download."""
    iterator = iter(chunks)
    first = next(iterator, b"")

    def generate() -> Iterator[bytes]:
        try:
            if first:
                yield first
            yield from iterator
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()

    return generate()


# ---- routes -------------------------------------------------------------------------------------
def upload(artifact_path: str) -> Response:
    rel = checked_path(artifact_path)
    if not rel:
        raise InvalidParameterValue("Invalid path")
    repo = _repo()
    body = _BodyReader(request.stream, request.content_length)
    _guarded(lambda: repo.write_stream(rel, body))  # type: ignore[arg-type]
    return jsonify({})


def download(artifact_path: str) -> Response:
    rel = checked_path(artifact_path)
    repo = _repo()
    info = _guarded(lambda: repo.file_info(rel)) if rel else None
    if info is None:
        raise ResourceDoesNotExist(f"No such artifact: '{rel or artifact_path}'")
    if info.is_dir:
        raise InvalidParameterValue(f"Artifact path refers to a directory, not a file: '{rel}'")
    body = _guarded(lambda: _streamed(repo.open_stream(rel)))
    response = Response(body, mimetype=guess_content_type(rel), direct_passthrough=True)
    response.headers["Content-Disposition"] = content_disposition(rel)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = DOWNLOAD_CSP
    response.headers["Cache-Control"] = "no-store"
    return response


def delete(artifact_path: str) -> Response:
    rel = checked_path(artifact_path)
    if not rel:
        raise InvalidParameterValue("Invalid path")
    repo = _repo()
    _guarded(lambda: repo.delete_artifacts(rel))
    return jsonify({})


def list_directory() -> Response:
    """Direct children of ``?path=`` as basenames; a file or a missing path gives ``{}``."""
    rel = checked_path(request.args.get("path"))
    repo = _repo()
    if rel:
        info = _guarded(lambda: repo.file_info(rel))
        if info is None or not info.is_dir:
            return jsonify({})
    listed = _guarded(lambda: repo.list_artifacts(rel or None))
    files = [
        protocol.file_info_to_json(
            type(item)(posixpath.basename(item.path), item.is_dir, item.file_size)
        )
        for item in listed
    ]
    return jsonify({"files": files} if files else {})


def multipart_not_supported(action: str, artifact_path: str) -> Response:
    checked_path(artifact_path)
    raise NotImplementedByBackend(
        "Multipart upload is not supported for the current artifact repository"
    )


# Mounted under ``mount.MLFLOW_ARTIFACTS``; the view names are the actions the auth gate
# checks (``upload``, ``download``, ``delete``, ``list``, ``mpu``).
_FILE = "/artifacts/<anypath:artifact_path>"
bp.add_url_rule(_FILE, "upload", upload, methods=["PUT"])
bp.add_url_rule(_FILE, "download", download, methods=["GET"])
bp.add_url_rule(_FILE, "delete", delete, methods=["DELETE"])
bp.add_url_rule("/artifacts", "list", list_directory, methods=["GET"])
bp.add_url_rule(
    "/mpu/<any(create, complete, abort):action>/<anypath:artifact_path>",
    "mpu",
    multipart_not_supported,
    methods=["POST"],
)

__all__ = ["AnyPathConverter", "bp", "checked_path", "content_disposition", "guess_content_type"]
