"""The Python client: ``Client`` for explicit calls, ``fluent`` for the active-run style."""

from runyard.tracking.client import Client

__all__ = ["Client"]
