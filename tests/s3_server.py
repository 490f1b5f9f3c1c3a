"""A real S3-protocol server (``moto_server``) in its own process, for tests.

Tests talk to it over HTTP exactly as they would to MinIO, so the S3 code paths (multipart,
pagination, errors) are the real ones. If the server cannot start, the calling test skips, or
fails when ``RUNYARD_REQUIRE`` lists ``s3``.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from tests.requirements import installed_or_skip, require

STARTUP_SECONDS = 30.0


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str
    access_key: str = "runyard-test-key"
    secret_key: str = "runyard-test-secret"
    region: str = "us-east-1"

    def env(self) -> dict[str, str]:
        """Environment for a process (or monkeypatch) that should use this server."""
        return {
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_DEFAULT_REGION": self.region,
            "RUNYARD_S3_ENDPOINT_URL": self.endpoint_url,
        }

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name=self.region,
        )

    def create_bucket(self, name: str) -> None:
        self.client().create_bucket(Bucket=name)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(url: str, process: subprocess.Popen[bytes]) -> str | None:
    """None once the server answers; otherwise why it did not."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return f"moto_server exited with code {process.returncode}"
        try:
            with urllib.request.urlopen(url + "/moto-api/", timeout=1):
                return None
        except OSError:
            time.sleep(0.1)
    return f"moto_server did not answer on {url} within {STARTUP_SECONDS:.0f}s"


@contextlib.contextmanager
def start_s3_server(buckets: Sequence[str] = ("runyard",)) -> Iterator[S3Server]:
    """Start ``moto_server`` on a free port, create ``buckets``, stop it on exit."""
    for module in ("moto", "boto3"):  # the server, and the client that creates the buckets
        installed_or_skip(module, "s3")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "MOTO_ALLOW_NONEXISTENT_REGION": "true"},
        )
    except OSError as exc:
        require("s3", f"cannot start moto_server: {exc}")
        raise
    try:
        problem = _wait_until_up(url, process)
        if problem:
            require("s3", problem)
        server = S3Server(endpoint_url=url)
        for bucket in buckets:
            server.create_bucket(bucket)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
