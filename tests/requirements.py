"""Skip a test whose outside part is missing, unless CI says that part is required."""

from __future__ import annotations

import os

import pytest


def required_parts() -> set[str]:
    return {p.strip() for p in os.environ.get("RUNYARD_REQUIRE", "").split(",") if p.strip()}


def require(part: str, reason: str) -> None:
    """Skip with ``reason``; fail instead when ``part`` is listed in ``RUNYARD_REQUIRE``."""
    if part in required_parts():
        pytest.fail(f"{part} is required here (RUNYARD_REQUIRE) but unavailable: {reason}")
    pytest.skip(reason)
