"""The file store: tracking data and the registry in an ``mlruns`` directory, MLflow's layout."""

from __future__ import annotations

from runyard.store.file.store import FileStore

__all__ = ["FileStore"]
