"""Every tracking test runs against a fresh file store in its own tmp dir, with no runyard or
MLflow settings inherited from the environment and no active run left behind."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from runyard import config
from runyard.tracking import context, fluent


def clear_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for setting in config.SETTINGS:
        monkeypatch.delenv(setting.env_var, raising=False)
        if setting.mlflow_name:
            monkeypatch.delenv(setting.mlflow_name, raising=False)


@pytest.fixture(autouse=True)
def tracking_uri(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    clear_settings(monkeypatch)
    uri = (tmp_path / "mlruns").as_uri()
    fluent.set_tracking_uri(uri)
    yield uri
    while fluent.active_run() is not None:
        fluent.end_run()
    context.set_tracking_uri(None)
    fluent._active_experiment_id = None
    fluent._last_active_run_id = None
