"""Settings: one list, read in one order (override, RUNYARD_*, MLFLOW_*, default)."""

from __future__ import annotations

import pytest
import runyard.tracking.client  # noqa: F401  (registers the client's settings)
from runyard import config
from runyard.config import Setting


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for setting in config.SETTINGS:
        monkeypatch.delenv(setting.env_var, raising=False)
        if setting.mlflow_name:
            monkeypatch.delenv(setting.mlflow_name, raising=False)


def test_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    assert config.get("http_timeout") == "120"
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "30")
    assert config.get("http_timeout") == "30"
    monkeypatch.setenv("RUNYARD_HTTP_TIMEOUT", "20")
    assert config.get("http_timeout") == "20"
    assert config.get("http_timeout", {"http_timeout": 5}) == "5"
    assert config.get("http_timeout", {"http_timeout": None}) == "20"
    assert config.get_int("http_timeout") == 20
    assert config.get_float("http_timeout") == 20.0


def test_unset_without_default_is_none() -> None:
    assert config.get("tracking_uri") is None
    assert config.get_int("experiment_id") is None
    assert config.get_float("experiment_id") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [("true", True), ("1", True), ("YES", True), (" on ", True), ("false", False), ("0", False)],
)
def test_get_bool(monkeypatch: pytest.MonkeyPatch, text: str, expected: bool) -> None:
    monkeypatch.setenv("RUNYARD_S3_IGNORE_TLS", text)
    assert config.get_bool("s3_ignore_tls") is expected


def test_async_logging_setting_is_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    assert config.get_bool("async_logging") is False
    monkeypatch.setenv("MLFLOW_ENABLE_ASYNC_LOGGING", "true")
    assert config.get_bool("async_logging") is True
    monkeypatch.setenv("RUNYARD_ASYNC_LOGGING", "false")
    assert config.get_bool("async_logging") is False


def test_register_is_idempotent_but_refuses_conflicts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(config, "SETTINGS", config.SETTINGS)
    monkeypatch.setattr(config, "_BY_NAME", dict(config._BY_NAME))
    extra = Setting("test_only_knob", "a", "A knob only this test uses.")
    config.register(extra)
    config.register(extra)
    assert [s.name for s in config.SETTINGS].count("test_only_knob") == 1
    assert config.get("test_only_knob") == "a"
    with pytest.raises(ValueError, match="test_only_knob"):
        config.register(Setting("test_only_knob", "b", "Different."))


def test_every_setting_is_documented() -> None:
    names = [s.name for s in config.SETTINGS]
    assert len(names) == len(set(names))
    for setting in config.SETTINGS:
        assert setting.help.strip(), f"{setting.name} has no help text"
        assert setting.env_var == "RUNYARD_" + setting.name.upper()
        assert setting.mlflow_name is None or setting.mlflow_name.startswith("MLFLOW_")
