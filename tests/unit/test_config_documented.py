"""Every setting runyard reads is listed, with its variable, in docs/configuration.md."""

from __future__ import annotations

import importlib
import pathlib

import pytest
from runyard import config

#: Modules that register settings of their own when imported.
_REGISTERING_MODULES = (
    "runyard.server.settings",
    "runyard.system_metrics",
    "runyard.store.spool.store",
    "runyard.tracking.client",
    "runyard.tracking.async_logging",
)
_DOC = pathlib.Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def _all_settings() -> tuple[config.Setting, ...]:
    for name in _REGISTERING_MODULES:
        importlib.import_module(name)
    return config.SETTINGS


@pytest.mark.parametrize("setting", _all_settings(), ids=lambda s: s.name)
def test_setting_has_a_row_in_the_configuration_doc(setting: config.Setting) -> None:
    rows = [line for line in _DOC.read_text().splitlines() if line.startswith("| `RUNYARD_")]
    row = next((r for r in rows if r.startswith(f"| `{setting.env_var}`")), None)
    assert row is not None, f"{setting.env_var} is missing from {_DOC.name}"
    if setting.mlflow_name:
        assert f"`{setting.mlflow_name}`" in row
