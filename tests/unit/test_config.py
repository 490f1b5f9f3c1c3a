"""Settings: one list, read in one order (override, RUNYARD_*, MLFLOW_*, default)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from runyard import config, settings_catalog
from runyard.errors import InvalidParameterValue


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
    assert config.get_text("tracking_uri") is None


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


def test_the_list_is_whole_whatever_was_imported() -> None:
    """Importing only runyard.config lists every setting any part reads."""
    names = subprocess.run(
        [sys.executable, "-c", "from runyard import config; print(len(config.SETTINGS))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert int(names) == len(settings_catalog.ALL)
    read = {"async_logging", "spool_dir", "enable_system_metrics_logging", "auth", "port"}
    assert read <= {s.name for s in config.SETTINGS}


def test_typed_getters_return_the_declared_default(monkeypatch: pytest.MonkeyPatch) -> None:
    assert config.get_int("db_pool_size") == int(config.default("db_pool_size") or "")
    monkeypatch.setenv("RUNYARD_DB_POOL_SIZE", "")  # empty means the default
    assert config.get_int("db_pool_size") == int(config.default("db_pool_size") or "")
    monkeypatch.setenv("RUNYARD_DB_POOL_SIZE", "12")
    assert config.get_int("db_pool_size") == 12
    monkeypatch.setenv("RUNYARD_HTTP_TIMEOUT", "")
    assert config.get_float("http_timeout") == float(config.default("http_timeout") or "")
    monkeypatch.setenv("RUNYARD_SPOOL_DIR", "")
    assert config.get_path("spool_dir").endswith("/.runyard/spool")
    assert "~" not in config.get_path("spool_dir")


def test_a_bad_number_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNYARD_DB_POOL_SIZE", "lots")
    with pytest.raises(InvalidParameterValue, match=r"RUNYARD_DB_POOL_SIZE.*'lots'"):
        config.get_int("db_pool_size")


def test_every_setting_is_documented() -> None:
    names = [s.name for s in config.SETTINGS]
    assert len(names) == len(set(names))
    for setting in config.SETTINGS:
        assert setting.help.strip(), f"{setting.name} has no help text"
        assert setting.env_var == "RUNYARD_" + setting.name.upper()
        assert setting.mlflow_name is None or setting.mlflow_name.startswith("MLFLOW_")
