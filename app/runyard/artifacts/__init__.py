"""Artifact repositories, chosen by URI scheme."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from runyard.artifacts import schemes as _schemes  # noqa: F401 - registers sftp, ftp(s), gs
from runyard.artifacts.base import ArtifactRepo
from runyard.errors import InvalidParameterValue
from runyard.locations import parse_location

if TYPE_CHECKING:
    from runyard.http import HttpClient

#: scheme -> "module:Class"; a new backend is one module plus one line here (and its location
#: rules in ``runyard.artifacts.schemes``).
_REPOS: dict[str, str] = {
    "": "runyard.artifacts.local:LocalArtifactRepo",
    "file": "runyard.artifacts.local:LocalArtifactRepo",
    "s3": "runyard.artifacts.s3:S3ArtifactRepo",
    "sftp": "runyard.artifacts.sftp:SftpArtifactRepo",
    "ftp": "runyard.artifacts.ftp:FtpArtifactRepo",
    "ftps": "runyard.artifacts.ftp:FtpArtifactRepo",
    "gs": "runyard.artifacts.gcs:GcsArtifactRepo",
    "mlflow-artifacts": "runyard.artifacts.proxy:ProxyArtifactRepo",
    "runyard-artifacts": "runyard.artifacts.proxy:ProxyArtifactRepo",
}


def repo_for_uri(
    uri: str, tracking_uri: str | None = None, http: HttpClient | None = None
) -> ArtifactRepo:
    """The repository for ``uri``, given it in canonical form (``runyard.locations``), so a
    disguised location (``%2e%2e``, ``#``, ``?``) is refused before anything opens it, and a
    scheme not supported yet (Azure, HDFS) is answered as such.
    ``tracking_uri`` locates the server for proxied URIs; ``http``, a client of that server,
    is reused for them (one connection pool) when it talks to the same address."""
    location = parse_location(uri)
    scheme = location.scheme
    target = _REPOS.get(scheme)
    if target is None:
        raise InvalidParameterValue(
            f"Unsupported artifact URI {location.uri!r}: scheme {scheme!r} is not one of "
            f"{sorted(s for s in _REPOS if s)}"
        )
    module_name, class_name = target.split(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    if scheme in ("mlflow-artifacts", "runyard-artifacts"):
        return cls(location.uri, tracking_uri=tracking_uri, http=http)
    if location.password is not None:
        # a login's password lives only in the text this process was given; the repository
        # parses it with the same canonicaliser and keeps it out of its root_uri
        return cls(uri)
    return cls(location.uri)


#: MLflow's ``mlflow.artifacts`` functions, so ``runyard.artifacts.download_artifacts(...)``
#: works where code said ``mlflow.artifacts``; loaded on first use (they need the client).
_CLIENT_FUNCTIONS = frozenset(
    {"download_artifacts", "list_artifacts", "load_text", "load_dict", "load_image"}
)


def __getattr__(name: str) -> Any:
    if name not in _CLIENT_FUNCTIONS:
        raise AttributeError(f"module 'runyard.artifacts' has no attribute {name!r}")
    from runyard.tracking import fluent_artifacts

    return getattr(fluent_artifacts, name)


__all__ = ["ArtifactRepo", "repo_for_uri"]
