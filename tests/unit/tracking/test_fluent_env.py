"""Settings from the environment, the embedded default store, and ending runs at exit."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import runyard
from runyard import Client, RunStatus
from runyard.tracking import context


def test_uri_set_in_code_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("RUNYARD_TRACKING_URI", "sqlite:///from-env.db")
    runyard.set_tracking_uri(tmp_path / "explicit")
    assert runyard.get_tracking_uri() == str(tmp_path / "explicit")


def test_tracking_uri_from_env_with_mlflow_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    context.set_tracking_uri(None)
    assert runyard.get_tracking_uri() == "file:./mlruns"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://mlflow-name:5000")
    assert runyard.get_tracking_uri() == "http://mlflow-name:5000"
    monkeypatch.setenv("RUNYARD_TRACKING_URI", "http://runyard-name:5000")
    assert runyard.get_tracking_uri() == "http://runyard-name:5000"


def test_default_store_is_mlruns_in_the_working_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    context.set_tracking_uri(None)
    monkeypatch.chdir(tmp_path)
    with runyard.start_run() as run:
        runyard.log_metric("m", 1)
    assert run.info.experiment_id == "0"
    assert (tmp_path / "mlruns" / "0" / run.info.run_id / "meta.yaml").is_file()
    assert (tmp_path / "mlruns" / "0" / run.info.run_id / "metrics" / "m").is_file()


@pytest.mark.parametrize("variable", ["RUNYARD_EXPERIMENT_NAME", "MLFLOW_EXPERIMENT_NAME"])
def test_experiment_name_from_env_is_created(
    monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    monkeypatch.setenv(variable, "from-env")
    with runyard.start_run() as run:
        pass
    experiment = Client().get_experiment_by_name("from-env")
    assert experiment is not None
    assert run.info.experiment_id == experiment.experiment_id
    with runyard.start_run() as second:
        pass
    assert second.info.experiment_id == experiment.experiment_id


def test_experiment_id_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    exp_id = Client().create_experiment("by-id")
    monkeypatch.setenv("RUNYARD_EXPERIMENT_ID", exp_id)
    with runyard.start_run() as run:
        pass
    assert run.info.experiment_id == exp_id


def test_set_experiment_beats_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNYARD_EXPERIMENT_NAME", "from-env")
    chosen = runyard.set_experiment("chosen")
    with runyard.start_run() as run:
        pass
    assert run.info.experiment_id == chosen.experiment_id
    assert Client().get_experiment_by_name("from-env") is None


def test_run_id_from_env_resumes(monkeypatch: pytest.MonkeyPatch) -> None:
    with runyard.start_run() as run:
        pass
    monkeypatch.setenv("MLFLOW_RUN_ID", run.info.run_id)
    with runyard.start_run() as resumed:
        runyard.log_param("again", 1)
    assert resumed.info.run_id == run.info.run_id
    assert runyard.get_run(run.info.run_id).data.params["again"] == "1"


def _run_script(tmp_path: Path, body: str, tracking_uri: str) -> subprocess.CompletedProcess:
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(body))
    env = dict(os.environ)
    env["RUNYARD_TRACKING_URI"] = tracking_uri
    return subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=60
    )


def _only_run(tracking_uri: str) -> runyard.Run:
    [run] = Client(tracking_uri).search_runs(["0"])
    return run


def test_exit_finishes_open_runs(tmp_path: Path, tracking_uri: str) -> None:
    done = _run_script(
        tmp_path,
        """
        import runyard
        runyard.start_run()
        runyard.log_metric("m", 1)
        """,
        tracking_uri,
    )
    assert done.returncode == 0, done.stderr
    run = _only_run(tracking_uri)
    assert run.info.status == RunStatus.FINISHED
    assert run.info.end_time is not None
    assert run.data.metrics["m"] == 1.0
    assert run.data.tags["mlflow.source.name"] == str(tmp_path / "train.py")


def test_crash_fails_open_runs(tmp_path: Path, tracking_uri: str) -> None:
    done = _run_script(
        tmp_path,
        """
        import runyard
        runyard.start_run()
        raise SystemError("crash")
        """,
        tracking_uri,
    )
    assert done.returncode != 0 and "crash" in done.stderr
    assert _only_run(tracking_uri).info.status == RunStatus.FAILED


def test_relative_default_store_follows_the_working_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    context.set_tracking_uri(None)
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        monkeypatch.chdir(tmp_path / name)
        with runyard.start_run() as run:
            pass
        assert (tmp_path / name / "mlruns" / "0" / run.info.run_id).is_dir()
