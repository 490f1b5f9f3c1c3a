"""Each autolog test tracks to a fresh file store and leaves no patch and no run behind."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from runyard import config
from runyard.autolog.patch import patched_integrations, revert_patches
from runyard.tracking import context, fluent, fluent_search
from runyard.tracking.fluent_state import fresh_fluent_state


@pytest.fixture(autouse=True)
def tracking_uri(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    for setting in config.SETTINGS:
        monkeypatch.delenv(setting.env_var, raising=False)
        if setting.mlflow_name:
            monkeypatch.delenv(setting.mlflow_name, raising=False)
    uri = (tmp_path / "mlruns").as_uri()
    with fresh_fluent_state():
        fluent.set_tracking_uri(uri)
        yield uri
        for integration in patched_integrations():
            revert_patches(integration)
    context.set_tracking_uri(None)


def runs_of_default_experiment() -> list:
    return fluent_search.search_runs(["0"])
