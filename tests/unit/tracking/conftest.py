"""Every tracking test runs against a fresh file store in its own tmp dir, with no runyard or
MLflow settings inherited from the environment and no active run left behind."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from runyard import config
from runyard.tracking import context, fluent
from runyard.tracking.fluent_state import fresh_fluent_state


def clear_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for setting in config.SETTINGS:
        monkeypatch.delenv(setting.env_var, raising=False)
        if setting.mlflow_name:
            monkeypatch.delenv(setting.mlflow_name, raising=False)


@pytest.fixture(autouse=True)
def tracking_uri(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    clear_settings(monkeypatch)
    uri = (tmp_path / "mlruns").as_uri()
    with fresh_fluent_state():
        fluent.set_tracking_uri(uri)
        yield uri
    context.set_tracking_uri(None)
