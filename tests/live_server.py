"""A real ``runyard server`` (the CLI, gunicorn) in a subprocess, for end-to-end tests.

    with start_live_server("sqlite:///" + str(tmp_path / "db.sqlite")) as server:
        requests.get(server.url + "/health")

The server log goes to a file; it is printed when start-up fails or the block raises.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import requests

RUNYARD = Path(sys.executable).with_name("runyard")
START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """A running server; ``url`` is its base URL (no trailing slash)."""

    def __init__(
        self,
        argv: list[str],
        env: dict[str, str],
        port: int,
        log_path: Path,
        cwd: Path | None = None,
    ) -> None:
        self.argv = argv
        self.cwd = cwd
        self.env = env
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    # ---- lifecycle -------------------------------------------------------------------------------
    def start(self) -> LiveServer:
        log = open(self.log_path, "ab")  # noqa: SIM115 - owned by the child process
        self.process = subprocess.Popen(
            self.argv,
            env=self.env,
            cwd=self.cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.wait_healthy()
        return self

    def wait_healthy(self, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}\n{self.log()}")
            try:
                if requests.get(self.url + "/health", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"server not healthy after {timeout}s\n{self.log()}")

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM (graceful drain), then SIGKILL if it does not exit in ``timeout``."""
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            return self.kill()

    def kill(self) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
        return self.process.wait(10)

    def restart(self) -> LiveServer:
        self.stop()
        return self.start()

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    # ---- context manager ---------------------------------------------------------------------
    def __enter__(self) -> LiveServer:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            sys.stderr.write(f"---- runyard server log ({self.url}) ----\n{self.log()}\n")
        self.stop()
        if self.process is not None and self.process.poll() is None:
            self.kill()


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment without runyard's or MLflow's settings, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNYARD_", "MLFLOW_"))}
    env.update(extra or {})
    return env


def start_runyard_ui(cwd: Path, extra_args: Sequence[str] = ()) -> LiveServer:
    """Start ``runyard ui`` (the embedded ./mlruns of ``cwd``) on a free port."""
    port = free_port()
    argv = [str(RUNYARD), "ui", "--port", str(port), *extra_args]
    server = LiveServer(argv, clean_env(), port, cwd / "runyard-ui.log", cwd=cwd)
    try:
        return server.start()
    except Exception:
        server.kill()
        raise


def start_live_server(
    backend_store_uri: str,
    artifacts_destination: str | None = None,
    port: int | None = None,
    workers: int = 1,
    extra_args: Sequence[str] = (),
    env: dict[str, str] | None = None,
) -> LiveServer:
    """Start ``runyard server`` on a free port and wait until ``/health`` answers."""
    port = port or free_port()
    workdir = Path(tempfile.mkdtemp(prefix="runyard-live-"))
    destination = artifacts_destination or str(workdir / "mlartifacts")
    argv = [
        str(RUNYARD),
        "server",
        "--backend-store-uri",
        backend_store_uri,
        "--artifacts-destination",
        destination,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--graceful-timeout",
        "10",
        *extra_args,
    ]
    server = LiveServer(argv, clean_env(env), port, workdir / "server.log")
    try:
        return server.start()
    except Exception:
        server.kill()
        raise
