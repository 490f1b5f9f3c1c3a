"""A run's artifacts for the UI: listing, size-capped previews and safe downloads.

Safety: artifact HTML is never rendered (it is previewed as text); raw files are served with
``nosniff`` and a sandboxing CSP, and only raster images and SVG keep an image content type (an
SVG opened directly cannot run script under that CSP; the pages show it through ``<img>``).
Everything else downloads as ``application/octet-stream``.
"""

from __future__ import annotations

import csv
import io
import json
import posixpath
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlencode

from flask import Response, stream_with_context

from runyard import images
from runyard.entities import Run
from runyard.errors import ResourceDoesNotExist
from runyard.locations import canonical_artifact_path
from runyard.server.api.run_artifacts import list_run_artifacts, repo_and_path

Json = dict[str, Any]

#: Bytes read for a preview; larger files are previewed truncated and offered as downloads.
PREVIEW_BYTES = 256 * 1024
CSV_PREVIEW_ROWS = 500
CSV_PREVIEW_COLUMNS = 100

IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".bmp": "image/bmp",
    ".svg": "image/svg+xml",
}
JSON_EXTS = {".json", ".ipynb", ".jsonl"}
YAML_EXTS = {".yaml", ".yml"}
YAML_NAMES = {"MLmodel", "MLproject"}
CSV_EXTS = {".csv": ",", ".tsv": "\t"}
RAW_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"


def list_children(run: Run, path: str | None) -> Json:
    return {"run_id": run.info.run_id, **list_under(run.info.artifact_uri, path)}


def list_under(artifact_uri: str, path: str | None) -> Json:
    """Direct children of ``path`` under an artifact root, folders first."""
    rel = canonical_artifact_path(path)
    files = list_run_artifacts(artifact_uri, rel)
    items = [
        {
            "path": f.path,
            "name": posixpath.basename(f.path),
            "is_dir": f.is_dir,
            "file_size": f.file_size,
        }
        for f in sorted(files, key=lambda f: (not f.is_dir, f.path))
    ]
    return {"path": rel, "files": items}


def open_artifact(artifact_uri: str, path: str) -> Iterator[bytes]:
    rel = canonical_artifact_path(path)
    if not rel:
        raise ResourceDoesNotExist("No artifact path given.")
    repo, inner = repo_and_path(artifact_uri, rel)
    return repo.open_stream(inner)


def _read_head(chunks: Iterator[bytes], limit: int) -> tuple[bytes, bool]:
    buf = bytearray()
    truncated = False
    try:
        for chunk in chunks:
            buf += chunk
            if len(buf) > limit:
                truncated = True
                break
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
    return bytes(buf[:limit]), truncated


def kind_of(path: str) -> str:
    name = posixpath.basename(path)
    ext = posixpath.splitext(name)[1].lower()
    if ext in IMAGE_TYPES:
        return "image"
    if ext in JSON_EXTS:
        return "json"
    if ext in YAML_EXTS or name in YAML_NAMES:
        return "yaml"
    if ext in CSV_EXTS:
        return "csv"
    return "text"


def _csv_rows(text: str, delimiter: str) -> tuple[list[list[str]], bool]:
    rows: list[list[str]] = []
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        for row in reader:
            if len(rows) >= CSV_PREVIEW_ROWS:
                return rows, True
            rows.append(row[:CSV_PREVIEW_COLUMNS])
    except csv.Error:
        pass
    return rows, False


def preview(run: Run, path: str) -> Json:
    """What the preview pane shows for one file; the bytes read are capped."""
    rel = canonical_artifact_path(path)
    kind = kind_of(rel)
    body: Json = {"run_id": run.info.run_id, "path": rel, "kind": kind}
    if kind == "image":
        body["url"] = raw_url(run.info.run_id, rel)
        return body
    data, truncated = _read_head(open_artifact(run.info.artifact_uri, rel), PREVIEW_BYTES)
    body["truncated"] = truncated
    if b"\x00" in data[:8192]:
        body["kind"] = "binary"
        return body
    text = data.decode("utf-8", errors="replace")
    if kind == "json" and not truncated:
        try:
            text = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
        except (ValueError, RecursionError):  # nested too deep to pretty-print: show as text
            body["kind"] = "text"
    elif kind == "csv":
        ext = posixpath.splitext(rel)[1].lower()
        rows, more = _csv_rows(text, CSV_EXTS[ext])
        body["header"] = rows[0] if rows else []
        body["rows"] = rows[1:]
        body["truncated"] = truncated or more
        return body
    body["text"] = text
    return body


def step_images(run: Run) -> Json:
    """Images logged per step (``log_image(key=..., step=...)``), by key, ordered by step; each
    with the URL of its small copy (for grids) and of the full image."""
    files = list_run_artifacts(run.info.artifact_uri, images.IMAGES_DIR)
    names = [posixpath.basename(f.path) for f in files if not f.is_dir]
    run_id = run.info.run_id
    return {
        "run_id": run_id,
        "run_name": run.info.run_name,
        "keys": [
            {
                "key": key,
                "images": [
                    {
                        "step": i.step,
                        "timestamp": i.timestamp,
                        "url": raw_url(run_id, i.compressed or i.file),
                        "full_url": raw_url(run_id, i.file),
                    }
                    for i in logged
                ],
            }
            for key, logged in images.parse_image_names(names).items()
        ],
    }


def raw_url(run_id: str, path: str) -> str:
    return "/ajax-api/2.0/runyard/artifacts/raw?" + urlencode({"run_id": run_id, "path": path})


def raw_response(artifact_uri: str, path: str, download: bool) -> Response:
    """The file's bytes, streamed; images inline (for ``<img>``), everything else attached."""
    rel = canonical_artifact_path(path)
    chunks = open_artifact(artifact_uri, rel)
    ext = posixpath.splitext(rel)[1].lower()
    mimetype = IMAGE_TYPES.get(ext, "application/octet-stream")
    response = Response(stream_with_context(chunks), mimetype=mimetype)
    name = posixpath.basename(rel)
    ascii_name = name.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    attach = download or mimetype == "application/octet-stream"
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
        if attach
        else "inline"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = RAW_CSP
    response.headers["Cache-Control"] = "private, max-age=60"
    return response
