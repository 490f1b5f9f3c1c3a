"""runyard's own version, as the installed package reports it (no server needed to ask)."""

from __future__ import annotations

from importlib import metadata


def runyard_version() -> str:
    try:
        return metadata.version("runyard")
    except metadata.PackageNotFoundError:
        return "0+unknown"
