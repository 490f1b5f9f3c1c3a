"""Tracking stores, chosen by the scheme of the tracking URI (``store_for_uri``)."""

from __future__ import annotations

import importlib
from urllib.parse import urlparse

from runyard.errors import InvalidParameterValue
from runyard.store.base import TrackingStore

#: scheme -> "module:Class"; a new backend is one module plus one line here.
_STORES: dict[str, str] = {
    "": "runyard.store.file:FileStore",
    "file": "runyard.store.file:FileStore",
    "sqlite": "runyard.store.sql:SqlStore",
    "postgresql": "runyard.store.sql:SqlStore",
    "postgres": "runyard.store.sql:SqlStore",
    "postgresql+psycopg2": "runyard.store.sql:SqlStore",
    "http": "runyard.store.spool.store:spooling_rest_store",
    "https": "runyard.store.spool.store:spooling_rest_store",
}

DEFAULT_TRACKING_URI = "file:./mlruns"
DEFAULT_ARTIFACT_ROOT = "./mlruns"


def is_sql_uri(uri: str) -> bool:
    """Whether ``uri`` names a database (SQLite or PostgreSQL) rather than a directory or server."""
    return _STORES.get(urlparse(uri).scheme.lower(), "").startswith("runyard.store.sql:")


def store_for_uri(uri: str, default_artifact_root: str | None = None) -> TrackingStore:
    """The store for ``uri``. SQL stores put new experiments' artifacts under
    ``default_artifact_root`` (``./mlruns`` when not given, like MLflow); file stores keep
    them in each experiment's own directory unless ``default_artifact_root`` is given."""
    scheme = urlparse(uri).scheme.lower()
    if len(scheme) == 1:  # a Windows drive letter
        scheme = ""
    target = _STORES.get(scheme)
    if target is None:
        raise InvalidParameterValue(
            f"Unsupported tracking URI {uri!r}: scheme {scheme!r} is not one of "
            f"{sorted(s for s in _STORES if s)}"
        )
    module_name, class_name = target.split(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    if target.startswith("runyard.store.sql:"):
        return cls(uri, default_artifact_root or DEFAULT_ARTIFACT_ROOT)
    if target.startswith("runyard.store.file:"):
        return cls(uri, default_artifact_root)
    return cls(uri)


__all__ = ["DEFAULT_TRACKING_URI", "TrackingStore", "is_sql_uri", "store_for_uri"]
