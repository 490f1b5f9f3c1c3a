"""Local paths and ``file:`` URIs, converted one way in one place for stores and repositories."""

from __future__ import annotations

import os
import pathlib
import urllib.parse
import urllib.request


def local_path_from_uri(uri: str) -> str:
    """``file:///abs``, ``file:/abs``, ``file:rel`` or a plain path -> an absolute path."""
    path = uri
    if uri.startswith("file:"):
        parsed = urllib.parse.urlparse(uri)
        path = parsed.path
        if parsed.netloc not in ("", "localhost"):
            path = f"//{parsed.netloc}{path}"
        path = urllib.request.url2pathname(path)
    return os.path.abspath(os.path.expanduser(path or "."))


def path_to_file_uri(path: str) -> str:
    """The ``file://`` URI MLflow writes for a local directory."""
    return pathlib.Path(os.path.abspath(path)).as_uri()
