"""Artifact repositories, chosen by the scheme of a URI (``repo_for_uri``)."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from runyard.artifacts.base import ArtifactRepo
from runyard.errors import InvalidParameterValue
from runyard.locations import parse_location

if TYPE_CHECKING:
    from runyard.http import HttpClient

#: scheme -> "module:Class"; a new backend is one module plus one line here.
_REPOS: dict[str, str] = {
    "": "runyard.artifacts.local:LocalArtifactRepo",
    "file": "runyard.artifacts.local:LocalArtifactRepo",
    "s3": "runyard.artifacts.s3:S3ArtifactRepo",
    "mlflow-artifacts": "runyard.artifacts.proxy:ProxyArtifactRepo",
    "runyard-artifacts": "runyard.artifacts.proxy:ProxyArtifactRepo",
}


def repo_for_uri(
    uri: str, tracking_uri: str | None = None, http: HttpClient | None = None
) -> ArtifactRepo:
    """The repository for ``uri``, given it in canonical form (``runyard.locations``), so a
    disguised location (``%2e%2e``, ``#``, ``?``) is refused before anything opens it.
    ``tracking_uri`` locates the server for proxied URIs; ``http``, a client of that server,
    is reused for them (one connection pool) when it talks to the same address."""
    location = parse_location(uri)
    scheme, uri = location.scheme, location.uri
    target = _REPOS.get(scheme)
    if target is None:
        raise InvalidParameterValue(
            f"Unsupported artifact URI {uri!r}: scheme {scheme!r} is not one of "
            f"{sorted(s for s in _REPOS if s)}"
        )
    module_name, class_name = target.split(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    if scheme in ("mlflow-artifacts", "runyard-artifacts"):
        return cls(uri, tracking_uri=tracking_uri, http=http)
    return cls(uri)


__all__ = ["ArtifactRepo", "repo_for_uri"]
