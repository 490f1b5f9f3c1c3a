"""Every setting runyard reads is listed, with its variable, in docs/configuration.md."""

from __future__ import annotations

import pathlib

import pytest
from runyard import config

_DOC = pathlib.Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


@pytest.mark.parametrize("setting", config.SETTINGS, ids=lambda s: s.name)
def test_setting_has_a_row_in_the_configuration_doc(setting: config.Setting) -> None:
    rows = [line for line in _DOC.read_text().splitlines() if line.startswith("| `RUNYARD_")]
    row = next((r for r in rows if r.startswith(f"| `{setting.env_var}`")), None)
    assert row is not None, f"{setting.env_var} is missing from {_DOC.name}"
    if setting.mlflow_name:
        assert f"`{setting.mlflow_name}`" in row
    documented_default = row.split(" | ")[2].strip().strip("`")
    assert documented_default == (setting.default or ""), f"{setting.env_var}'s default"
