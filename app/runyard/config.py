"""Settings as data: every knob runyard reads, in one list, read in one place.

A value comes from an explicit override (a CLI flag), then ``RUNYARD_<NAME>``, then MLflow's
``MLFLOW_<NAME>`` where one exists (so users can switch without renaming), then the default.
Nothing else in runyard reads ``os.environ``; a test checks that every setting is documented.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from runyard.errors import InvalidParameterValue
from runyard.settings_catalog import ALL, Setting

SETTINGS = ALL

_BY_NAME = {s.name: s for s in SETTINGS}


def get(name: str, overrides: Mapping[str, object | None] | None = None) -> str | None:
    """The value of setting ``name``: override, RUNYARD_*, MLFLOW_*, then default."""
    setting = _BY_NAME[name]
    if overrides is not None and overrides.get(name) is not None:
        return str(overrides[name])
    value = os.environ.get(setting.env_var)
    if value is None and setting.mlflow_name:
        value = os.environ.get(setting.mlflow_name)
    return value if value is not None else setting.default


def get_bool(name: str, overrides: Mapping[str, object | None] | None = None) -> bool:
    value = get(name, overrides)
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def get_text(name: str, overrides: Mapping[str, object | None] | None = None) -> str | None:
    """A text setting; an empty value means the default (None when there is none)."""
    return get(name, overrides) or _BY_NAME[name].default


def default(name: str) -> str | None:
    """The declared default of setting ``name``."""
    return _BY_NAME[name].default


def get_path(name: str) -> str:
    """A file or directory setting, ``~`` expanded; an empty value means the default."""
    return os.path.expanduser(get_text(name) or "")


def get_int(name: str, overrides: Mapping[str, object | None] | None = None) -> int:
    """An integer setting (declared with a default); an empty value means the default."""
    return _number(name, int, overrides)


def get_float(name: str, overrides: Mapping[str, object | None] | None = None) -> float:
    """A number setting (declared with a default); an empty value means the default."""
    return _number(name, float, overrides)


def _number(name: str, kind: type, overrides: Mapping[str, object | None] | None) -> Any:
    value = get(name, overrides)
    if value is None or not value.strip():
        value = _BY_NAME[name].default
    if value is None:
        raise ValueError(f"setting {name!r} is read as a number but declares no default")
    try:
        return kind(value)
    except ValueError:
        raise InvalidParameterValue(
            f"Setting {name!r} ({_BY_NAME[name].env_var}) must be a number "
            f"({kind.__name__}), got {value!r}"
        ) from None


__all__ = [
    "SETTINGS",
    "Setting",
    "default",
    "get",
    "get_bool",
    "get_float",
    "get_int",
    "get_path",
    "get_text",
]
