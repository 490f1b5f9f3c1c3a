"""Settings are documented, and the ``runyard`` command wires them through."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from runyard import config
from runyard.cli import main
from runyard.server.settings import ServerConfig
from runyard.settings_catalog import SERVER
from runyard.version import runyard_version


def test_every_setting_has_help_text() -> None:
    for setting in config.SETTINGS:
        assert setting.help and len(setting.help) > 10, setting.name


def test_every_server_setting_is_in_server_help() -> None:
    result = CliRunner().invoke(main, ["server", "--help"], terminal_width=400)
    assert result.exit_code == 0
    flat = " ".join(result.output.split())
    for setting in SERVER:
        assert setting.env_var in flat, setting.name
        assert "--" + setting.name.replace("_", "-") in flat, setting.name


def test_precedence_flag_then_runyard_env_then_mlflow_env(monkeypatch) -> None:
    monkeypatch.setenv("MLFLOW_BACKEND_STORE_URI", "sqlite:///mlflow.db")
    assert ServerConfig.resolve().backend_store_uri == "sqlite:///mlflow.db"
    monkeypatch.setenv("RUNYARD_BACKEND_STORE_URI", "sqlite:///runyard.db")
    assert ServerConfig.resolve().backend_store_uri == "sqlite:///runyard.db"
    cfg = ServerConfig.resolve({"backend_store_uri": "sqlite:///flag.db"})
    assert cfg.backend_store_uri == "sqlite:///flag.db"


def test_kubernetes_service_link_port_is_ignored(monkeypatch) -> None:
    monkeypatch.setenv("RUNYARD_PORT", "tcp://10.96.0.12:5000")
    assert ServerConfig.resolve().port == 5000


def test_defaults() -> None:
    cfg = ServerConfig.resolve()
    assert (cfg.host, cfg.port, cfg.workers) == ("127.0.0.1", 5000, 4)
    assert cfg.serve_artifacts is True
    assert cfg.artifacts_destination == "./mlartifacts"
    assert cfg.artifact_root_for_store == "mlflow-artifacts:/"
    with pytest.raises(Exception, match="Unknown server settings"):
        ServerConfig.resolve({"bogus": 1})


def test_an_explicit_default_artifact_root_wins_over_the_proxy_as_in_mlflow() -> None:
    cfg = ServerConfig.resolve({"default_artifact_root": "sftp://ml@files/srv/a"})
    assert cfg.serve_artifacts is True
    assert cfg.artifact_root_for_store == "sftp://ml@files/srv/a"
    off = ServerConfig.resolve({"serve_artifacts": "false"})
    assert off.artifact_root_for_store is None


def test_version_flag() -> None:
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0 and runyard_version() in result.output


def test_db_upgrade_creates_tables(tmp_path) -> None:
    uri = f"sqlite:///{tmp_path / 'up.db'}"
    result = CliRunner().invoke(main, ["db", "upgrade", uri])
    assert result.exit_code == 0, result.output
    import sqlalchemy as sa

    tables = sa.inspect(sa.create_engine(uri)).get_table_names()
    assert {"experiments", "runs"} <= set(tables)


def test_db_upgrade_bad_uri_is_a_clear_error() -> None:
    result = CliRunner().invoke(main, ["db", "upgrade", "mysql://nope"])
    assert result.exit_code != 0
    assert "Traceback" not in result.output


def test_sync_with_an_empty_spool_says_so_and_succeeds(tmp_path) -> None:
    result = CliRunner().invoke(main, ["sync", "--spool-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert f"Nothing to sync in {tmp_path}" in result.output


def test_runyard_ui_reads_artifacts_from_its_local_store(tmp_path, monkeypatch) -> None:
    from runyard.cli import local_artifact_root

    monkeypatch.chdir(tmp_path)
    assert local_artifact_root("./mlruns") == (tmp_path / "mlruns").as_uri()
    assert local_artifact_root(f"file://{tmp_path}/store") == (tmp_path / "store").as_uri()
    assert local_artifact_root("sqlite:///runs.db") == (tmp_path / "mlruns").as_uri()
