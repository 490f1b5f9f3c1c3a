"""Skip a test whose outside part is missing, unless CI says that part is required."""

from __future__ import annotations

import importlib
import importlib.util
import os
from types import ModuleType

import pytest


def required_parts() -> set[str]:
    return {p.strip() for p in os.environ.get("RUNYARD_REQUIRE", "").split(",") if p.strip()}


def require(part: str, reason: str) -> None:
    """Skip with ``reason``; fail instead when ``part`` is listed in ``RUNYARD_REQUIRE``."""
    if part in required_parts():
        pytest.fail(f"{part} is required here (RUNYARD_REQUIRE) but unavailable: {reason}")
    pytest.skip(reason, allow_module_level=True)


def import_or_skip(module: str, part: str) -> ModuleType:
    """``import module``, skipping the test (or the whole test module, when called at its top)
    if it is not installed; fail instead when ``part`` is listed in ``RUNYARD_REQUIRE``."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        require(part, f"{module} is not installed ({exc})")
        raise  # not reached: require skips or fails


def installed_or_skip(module: str, part: str) -> None:
    """Like ``import_or_skip`` for a module a child process imports: checked without importing
    it here, so the test process stays free of it."""
    try:
        found = importlib.util.find_spec(module) is not None
    except ImportError:  # a dotted name whose parent package is missing
        found = False
    if not found:
        require(part, f"{module} is not installed")
