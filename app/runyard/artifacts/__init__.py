"""Artifact repositories, chosen by the scheme of a URI (``repo_for_uri``)."""

from __future__ import annotations

import importlib
from urllib.parse import urlparse

from runyard.artifacts.base import ArtifactRepo
from runyard.errors import InvalidParameterValue, NotImplementedByBackend
from runyard.uris import redact_uri

#: scheme -> "module:Class"; a new backend is one module plus one line here.
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


#: Schemes MLflow knows that runyard cannot test here yet: a clear answer instead of a guess.
NOT_SUPPORTED_YET: dict[str, str] = {
    "wasbs": "Azure Blob Storage",
    "wasb": "Azure Blob Storage",
    "abfss": "Azure Data Lake Storage",
    "abfs": "Azure Data Lake Storage",
    "azure": "Azure Blob Storage",
    "hdfs": "HDFS",
    "viewfs": "HDFS",
}


def repo_for_uri(uri: str, tracking_uri: str | None = None) -> ArtifactRepo:
    """The repository for ``uri``. ``tracking_uri`` locates the server for proxied URIs."""
    scheme = urlparse(uri).scheme.lower()
    if len(scheme) == 1:  # a Windows drive letter, not a scheme
        scheme = ""
    target = _REPOS.get(scheme)
    if scheme in NOT_SUPPORTED_YET:
        raise NotImplementedByBackend(
            f"{NOT_SUPPORTED_YET[scheme]} ({scheme}://) artifact locations are not supported "
            f"yet; use one of {sorted(s + '://' for s in _REPOS if s)}"
        )
    if target is None:
        raise InvalidParameterValue(
            f"Unsupported artifact URI {redact_uri(uri)!r}: scheme {scheme!r} is not one of "
            f"{sorted(s for s in _REPOS if s)}"
        )
    module_name, class_name = target.split(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    if scheme in ("mlflow-artifacts", "runyard-artifacts"):
        return cls(uri, tracking_uri=tracking_uri)
    return cls(uri)


__all__ = ["ArtifactRepo", "repo_for_uri"]
