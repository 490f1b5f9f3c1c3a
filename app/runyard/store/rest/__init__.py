"""The REST store: tracking data and the registry of a runyard (or MLflow) server."""

from __future__ import annotations

from runyard.store.rest.store import RestStore

__all__ = ["RestStore"]
