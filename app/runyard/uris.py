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


def redact_uri(uri: str) -> str:
    """``uri`` without the password in its user part (``ftp://me:pw@host/p`` ->
    ``ftp://me@host/p``); any other URI or path unchanged.

    The one place a URI loses its secret: what is stored (artifact locations), shown (UI,
    messages) or logged passes through here, so a password given in a URI is used only by the
    process it was given to.
    """
    if "@" not in uri:
        return uri
    parts = urllib.parse.urlsplit(uri)
    userinfo, at, hostport = parts.netloc.rpartition("@")
    if not at or ":" not in userinfo:
        return uri
    user = userinfo.split(":", 1)[0]
    netloc = f"{user}@{hostport}" if user else hostport
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))
