"""Where a server's accounts live, decided without Flask (the ``users`` and ``tokens``
commands need the answer on a machine that only runs the command line)."""

from __future__ import annotations

import os
from urllib.parse import urlparse

from runyard.server.settings import ServerConfig
from runyard.uris import local_path_from_uri

_SQL_SCHEMES = ("sqlite", "postgresql", "postgres")


def auth_database_uri(cfg: ServerConfig) -> str:
    """Where accounts live: the configured URI, else the tracking database, else (file store)
    a SQLite file beside the store directory: ``./mlruns`` -> ``./mlruns-auth.db``."""
    if cfg.auth.database_uri:
        return cfg.auth.database_uri
    backend = cfg.backend_store_uri
    if urlparse(backend).scheme.lower().split("+")[0] in _SQL_SCHEMES:
        return backend
    root = os.path.abspath(local_path_from_uri(backend)).rstrip(os.sep)
    return f"sqlite:///{root}-auth.db"
