"""runyard installed without the ``server`` extra (no Flask, no gunicorn), as a training job's
image has it: the command line and the fluent client work; nothing reaches for the server."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

WALKTHROUGH = """
import sys
import runyard
runyard.set_tracking_uri(sys.argv[1])
with runyard.start_run(run_name="client-only") as run:
    runyard.log_param("lr", "0.1")
    for step in range(3):
        runyard.log_metric("loss", 1.0 / (step + 1), step=step)
got = runyard.Client().get_run(run.info.run_id)
print(got.info.run_name, got.data.params["lr"], got.data.metrics["loss"])
"""


@pytest.fixture(scope="module")
def client_only(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv holding runyard and its base dependencies only."""
    venv = tmp_path_factory.mktemp("client-only") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    source = tmp_path_factory.mktemp("source")
    # build from a copy, so the build leaves nothing in the working tree
    subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", "-o", str(source / "src.tar"), "HEAD"],
        check=True,
    )
    subprocess.run(["tar", "-xf", str(source / "src.tar"), "-C", str(source)], check=True)
    # the working tree's app/ (what is under test), over the committed one
    subprocess.run(["cp", "-r", str(ROOT / "app"), str(source)], check=True)
    subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", str(source)], check=True, timeout=600
    )
    return venv


def test_flask_is_not_installed(client_only: Path) -> None:
    found = subprocess.run([str(client_only / "bin" / "python"), "-c", "import flask"])
    assert found.returncode != 0


def test_the_command_line_answers_without_the_server(client_only: Path) -> None:
    runyard = str(client_only / "bin" / "runyard")
    version = subprocess.run([runyard, "--version"], capture_output=True, text=True)
    assert version.returncode == 0, version.stderr
    assert version.stdout.startswith("runyard, version ")
    for command in (["sync", "--help"], ["users", "--help"], ["import", "--help"]):
        shown = subprocess.run([runyard, *command], capture_output=True, text=True)
        assert shown.returncode == 0, (command, shown.stderr)
    server = subprocess.run([runyard, "server", "--port", "1"], capture_output=True, text=True)
    assert server.returncode != 0 and "server" in server.stderr.lower()
    assert "Traceback" not in server.stderr


def test_the_fluent_walkthrough_runs_on_an_embedded_store(
    client_only: Path, tmp_path: Path
) -> None:
    done = subprocess.run(
        [str(client_only / "bin" / "python"), "-c", WALKTHROUGH, f"file:{tmp_path / 'mlruns'}"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["client-only", "0.1", "0.3333333333333333"]
