"""The two servers under test as child processes: ``runyard server`` and ``mlflow server``.

Both are started through their real command lines with the same engine, worker count, host and
artifact root, each in its own process group so that stopping one ends every worker it forked.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import requests

BIN = Path(sys.executable).parent
#: MLflow imports a lot per worker; on a busy two-core machine start-up can take a minute.
START_TIMEOUT = 300.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def mlflow_uri(uri: str) -> str:
    """MLflow maps a plain ``postgresql://`` to psycopg 3; the installed driver is psycopg2."""
    if uri.startswith("postgresql://"):
        return "postgresql+psycopg2://" + uri[len("postgresql://") :]
    return uri


def server_argv(product: str, store_uri: str, artifact_root: str, port: int, workers: int):
    """The command line that starts ``product``'s server (``runyard`` or ``mlflow``)."""
    common = [
        "--default-artifact-root",
        artifact_root,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    if product == "runyard":
        return [str(BIN / "runyard"), "server", "--backend-store-uri", store_uri, *common]
    if product == "mlflow":
        argv = [str(BIN / "mlflow"), "server", "--backend-store-uri", mlflow_uri(store_uri)]
        return [*argv, *common]
    raise ValueError(f"unknown product {product!r}")


class ServerProcess:
    """One running server; ``url`` is its base URL, its output goes to ``log_path``."""

    def __init__(
        self,
        argv: list[str],
        port: int,
        log_path: Path,
        cwd: Path,
        settings: dict[str, str] | None = None,
    ) -> None:
        self.argv = argv
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        self.cwd = cwd
        self.settings = settings or {}
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = START_TIMEOUT) -> ServerProcess:
        """The caller's own ``RUNYARD_``/``MLFLOW_`` variables are left out, so a figure is
        the product's defaults unless ``settings`` names a change."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNYARD_", "MLFLOW_"))}
        env.update(self.settings)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                self.argv,
                cwd=self.cwd,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._wait_healthy(timeout)
        return self

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.log()}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(self.url + "/health", timeout=5).status_code == 200:
                    return
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"server not healthy after {timeout:.0f}s:\n{self.log()}")

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM to the whole process group, SIGKILL if it lingers."""
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""


@contextlib.contextmanager
def running_server(
    product: str,
    store_uri: str,
    workdir: Path,
    workers: int,
    extra_args: tuple[str, ...] = (),
    home_name: str | None = None,
    settings: dict[str, str] | None = None,
) -> Iterator[ServerProcess]:
    """``product``'s server on ``store_uri`` with ``workers`` workers, stopped on exit;
    ``settings`` are environment variables it gets on top of its defaults."""
    port = free_port()
    home = workdir / (home_name or f"{product}-server")
    home.mkdir(parents=True, exist_ok=True)
    argv = [*server_argv(product, store_uri, str(home / "artifacts"), port, workers), *extra_args]
    server = ServerProcess(argv, port, home / "server.log", home, settings)
    try:
        yield server.start()
    finally:
        server.stop()
