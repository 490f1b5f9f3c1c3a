"""A real ``mlflow server`` (the test extra's mlflow package) in a subprocess, to compare with.

with start_mlflow_server(tmp_path) as url:
    requests.get(url + "/health")
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import requests

from tests.live_server import free_port
from tests.requirements import require

MLFLOW = Path(sys.executable).with_name("mlflow")
#: MLflow's server takes tens of seconds to create its database on first start.
START_TIMEOUT = 120.0


def mlflow_executable() -> str:
    if MLFLOW.exists():
        return str(MLFLOW)
    found = shutil.which("mlflow")
    if found is None:
        require("mlflow", "the mlflow package is not installed")
    return str(found)


@contextlib.contextmanager
def start_mlflow_server(tmp: Path, backend_store_uri: str | None = None) -> Iterator[str]:
    """Start ``mlflow server`` on a free port; yield its base URL; stop its process group."""
    port = free_port()
    log_path = tmp / "mlflow-server.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env.update(MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="true")
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [
                mlflow_executable(),
                "server",
                "--backend-store-uri",
                backend_store_uri or f"sqlite:///{tmp / 'mlflow.db'}",
                "--artifacts-destination",
                str(tmp / "artifacts"),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                "1",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=tmp,
            env=env,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(process, url, log_path)
        yield url
    finally:
        # the server's worker processes share its session: stop the whole group
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _wait_healthy(process: subprocess.Popen, url: str, log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"mlflow server exited:\n{log_path.read_text()[-3000:]}")
        try:
            if requests.get(f"{url}/health", timeout=1).ok:
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"mlflow server not healthy in {START_TIMEOUT}s")
        time.sleep(0.3)
