"""`kubectl port-forward` to the runyard Service that survives pod restarts.

A port-forward to ``svc/NAME`` is really a tunnel to one pod; when that pod dies the tunnel
dies with it. ``PortForward`` starts kubectl on a port it picks (``:5000``), reads the chosen
local port from kubectl's own output, keeps draining that output in a thread (a full pipe would
stall kubectl), notices when the tunnel breaks, and ``reconnect()`` starts a fresh one.
``ForwardedClient`` sends requests through it and reconnects on connection errors and on read
timeouts (a half-dead tunnel accepts a request and never answers).
"""

from __future__ import annotations

import collections
import re
import subprocess
import threading
import time
from collections.abc import Sequence
from typing import Any

import requests

# kubectl prints e.g. "Forwarding from 127.0.0.1:38147 -> 5000" (and a [::1] line).
_FORWARDING = re.compile(r"^Forwarding from (?:127\.0\.0\.1|\[::1\]|localhost):(\d+) -> (\d+)\s*$")
# Lines after which the tunnel no longer works although kubectl may still be running.
_BROKEN = re.compile(r"lost connection to pod|error forwarding port|an error occurred forwarding")


def parse_forwarded_port(line: str, remote_port: int | None = None) -> int | None:
    """The local port in one line of kubectl's output, or None if the line is not that."""
    match = _FORWARDING.match(line.strip())
    if match is None:
        return None
    if remote_port is not None and int(match.group(2)) != remote_port:
        return None
    return int(match.group(1))


def is_broken_line(line: str) -> bool:
    return _BROKEN.search(line) is not None


class PortForwardError(RuntimeError):
    pass


class PortForward:
    """One self-healing port-forward; ``url`` is ``http://127.0.0.1:<port>``."""

    def __init__(
        self,
        command: Sequence[str],
        target: str = "svc/runyard",
        remote_port: int = 5000,
        namespace: str = "runyard",
        env: dict[str, str] | None = None,
        start_timeout: float = 30.0,
    ) -> None:
        self.argv = [
            *command,
            "port-forward",
            target,
            f":{remote_port}",
            "-n",
            namespace,
            "--address",
            "127.0.0.1",
        ]
        self.remote_port = remote_port
        self.env = env
        self.start_timeout = start_timeout
        self.output: collections.deque[str] = collections.deque(maxlen=500)
        self.reconnects = 0
        self._process: subprocess.Popen[str] | None = None
        self._port: int | None = None
        self._ready = threading.Event()
        self._broken = threading.Event()
        self._lock = threading.Lock()

    # ---- lifecycle -------------------------------------------------------------------------
    def start(self) -> int:
        """Start kubectl and wait until it says which local port it listens on."""
        self._ready.clear()
        self._broken.clear()
        self._port = None
        process = subprocess.Popen(
            self.argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            env=self.env,
        )
        self._process = process
        drain = threading.Thread(target=self._drain, args=(process,), daemon=True)
        drain.start()
        deadline = time.monotonic() + self.start_timeout
        while not self._ready.wait(0.1):
            if process.poll() is not None or self._broken.is_set():
                drain.join(timeout=2)  # so the error text is in the output below
                self._kill(process)
                raise PortForwardError(f"kubectl port-forward failed:\n{self.recent_output()}")
            if time.monotonic() > deadline:
                self._kill(process)
                raise PortForwardError(f"no forwarded port after {self.start_timeout:.0f}s")
        assert self._port is not None
        return self._port

    def _drain(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            line = line.rstrip("\n")
            self.output.append(line)
            if process is not self._process:
                continue
            port = parse_forwarded_port(line, self.remote_port)
            if port is not None and self._port is None:
                self._port = port
                self._ready.set()
            elif is_broken_line(line):
                self._broken.set()

    @property
    def alive(self) -> bool:
        process = self._process
        return (
            process is not None
            and process.poll() is None
            and self._ready.is_set()
            and not self._broken.is_set()
        )

    @property
    def port(self) -> int:
        if self._port is None:
            raise PortForwardError("port-forward not started")
        return self._port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def reconnect(self, timeout: float = 120.0) -> int:
        """Replace the tunnel with a new one, retrying while no pod is ready to take it."""
        with self._lock:
            self.stop()
            deadline = time.monotonic() + timeout
            while True:
                try:
                    port = self.start()
                    self.reconnects += 1
                    return port
                except PortForwardError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(1)

    def ensure(self) -> str:
        """The URL of a live tunnel, reconnecting first if the current one has died."""
        if not self.alive:
            self.reconnect()
        return self.url

    def stop(self) -> None:
        if self._process is not None:
            self._kill(self._process)
            self._process = None

    @staticmethod
    def _kill(process: subprocess.Popen[str]) -> None:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)

    def recent_output(self, lines: int = 40) -> str:
        return "\n".join(list(self.output)[-lines:])

    def __enter__(self) -> PortForward:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class ForwardedClient:
    """HTTP through a ``PortForward``: a connection error or a read timeout reconnects the
    tunnel and retries (the suite's writes are idempotent, so a retried one is harmless)."""

    def __init__(self, forward: PortForward, timeout: float = 10.0, retry_for: float = 180.0):
        self.forward = forward
        self.timeout = timeout
        self.retry_for = retry_for

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout)
        deadline = time.monotonic() + self.retry_for
        while True:
            try:
                return requests.request(method, self.forward.ensure() + path, **kwargs)
            except (requests.ConnectionError, requests.Timeout, PortForwardError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
                if self.forward.alive:
                    # kubectl may still run with a dead pod behind it: start over.
                    self.forward.reconnect()

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PUT", path, **kwargs)
