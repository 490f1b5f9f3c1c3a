"""Containers for the container tests: a user-defined network with PostgreSQL, an S3 server
and runyard servers, started with the Docker SDK and always removed afterwards.

Ports are published on 127.0.0.1 only, on ports Docker picks.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from tests.container.images import POSTGRES_IMAGE, RUNYARD_IMAGE, S3_IMAGE

PG_USER, PG_PASSWORD, PG_DB = "runyard", "runyard-test-password", "runyard"
S3_KEY, S3_SECRET, BUCKET = "testing", "testing", "runyard-artifacts"
LOG_DIR = Path(__file__).resolve().parents[2] / "test-output" / "container"


def wait_for(check: Callable[[], Any], timeout: float, what: str, interval: float = 0.5) -> Any:
    """Poll ``check`` until it returns something truthy; raise with ``what`` on timeout."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
            last = result
        except Exception as exc:  # the thing we wait for may fail in any way until it is up
            last = exc
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what} (last: {last!r})")


class Stack:
    """One test network and the containers on it; ``close()`` removes everything."""

    def __init__(self, client: Any, name: str | None = None) -> None:
        self.client = client
        self.name = name or f"runyard-test-{secrets.token_hex(3)}"
        self.network = client.networks.create(self.name, driver="bridge")
        self.containers: dict[str, Any] = {}

    # ---- containers ------------------------------------------------------------------------
    def run(self, role: str, image: str, **kwargs: Any) -> Any:
        container = self.client.containers.run(
            image,
            name=f"{self.name}-{role}",
            detach=True,
            network=self.network.name,
            hostname=role,
            **kwargs,
        )
        self.network.reload()
        self.containers[role] = container
        return container

    def host_port(self, role: str, port: int) -> int:
        def published() -> int | None:
            container = self.containers[role]
            container.reload()
            bindings = container.attrs["NetworkSettings"]["Ports"].get(f"{port}/tcp")
            return int(bindings[0]["HostPort"]) if bindings else None

        return wait_for(published, 30, f"{role}:{port} to be published")

    def url(self, role: str) -> str:
        return f"http://127.0.0.1:{self.host_port(role, 5000)}"

    def start_postgres(self) -> Any:
        container = self.run(
            "postgres",
            POSTGRES_IMAGE,
            environment={
                "POSTGRES_USER": PG_USER,
                "POSTGRES_PASSWORD": PG_PASSWORD,
                "POSTGRES_DB": PG_DB,
            },
            volumes={f"{self.name}-pgdata": {"bind": "/var/lib/postgresql/data", "mode": "rw"}},
            tmpfs={"/tmp": ""},
        )
        wait_for(lambda: self.health("postgres") == "healthy", 120, "PostgreSQL to be ready")
        return container

    def start_s3(self) -> Any:
        container = self.run("s3", S3_IMAGE, ports={"9000/tcp": ("127.0.0.1", None)})
        self.create_bucket()
        return container

    def create_bucket(self) -> None:
        """Create the artifact bucket once the S3 server answers (it keeps objects in memory,
        so a restarted one starts empty)."""
        endpoint = f"http://127.0.0.1:{self.host_port('s3', 9000)}"
        wait_for(lambda: requests.get(endpoint + "/moto-api/", timeout=2).ok, 60, "the S3 server")
        import boto3

        boto3.client(
            "s3",
            endpoint_url=endpoint,
            aws_access_key_id=S3_KEY,
            aws_secret_access_key=S3_SECRET,
            region_name="us-east-1",
        ).create_bucket(Bucket=BUCKET)

    def server_env(self) -> dict[str, str]:
        return {
            "RUNYARD_BACKEND_STORE_URI": (
                f"postgresql://{PG_USER}:{PG_PASSWORD}@postgres:5432/{PG_DB}"
            ),
            "RUNYARD_ARTIFACTS_DESTINATION": f"s3://{BUCKET}/artifacts",
            "RUNYARD_S3_ENDPOINT_URL": "http://s3:9000",
            "AWS_ACCESS_KEY_ID": S3_KEY,
            "AWS_SECRET_ACCESS_KEY": S3_SECRET,
            "AWS_DEFAULT_REGION": "us-east-1",
            "RUNYARD_WORKERS": "2",
        }

    def migrate(self) -> None:
        """``runyard db upgrade`` in a one-shot container, as the Kubernetes Job does it."""
        env = self.server_env()
        output = self.client.containers.run(
            RUNYARD_IMAGE,
            ["db", "upgrade", env["RUNYARD_BACKEND_STORE_URI"]],
            environment=env,
            network=self.network.name,
            read_only=True,
            tmpfs={"/tmp": ""},
            remove=True,
            stdout=True,
            stderr=True,
        )
        assert output is not None

    def start_server(self, role: str, env: dict[str, str] | None = None, **kwargs: Any) -> Any:
        kwargs.setdefault("restart_policy", {"Name": "always"})
        container = self.run(
            role,
            RUNYARD_IMAGE,
            environment={**self.server_env(), **(env or {})},
            ports={"5000/tcp": ("127.0.0.1", None)},
            read_only=True,
            tmpfs={"/tmp": "rw,size=64m"},
            **kwargs,
        )
        self.wait_ready(role)
        return container

    def wait_ready(self, role: str, timeout: float = 120) -> None:
        def ready() -> bool:
            return requests.get(self.url(role) + "/ready", timeout=3).status_code == 200

        wait_for(ready, timeout, f"{role} to be ready")

    def health(self, role: str) -> str | None:
        container = self.containers[role]
        container.reload()
        return (container.attrs["State"].get("Health") or {}).get("Status")

    def crash(self, role: str) -> None:
        """SIGKILL the container's main process from the host, as an out-of-memory kill would.

        Unlike `docker kill`, which Docker records as a deliberate stop, a process that dies by
        itself is restarted by the restart policy.
        """
        container = self.containers[role]
        container.reload()
        os.kill(container.attrs["State"]["Pid"], signal.SIGKILL)

    # ---- teardown --------------------------------------------------------------------------
    def dump_logs(self, test_name: str) -> Path:
        out = LOG_DIR / test_name
        out.mkdir(parents=True, exist_ok=True)
        for role, container in self.containers.items():
            with contextlib.suppress(Exception):
                (out / f"{role}.log").write_bytes(container.logs(timestamps=True))
        return out

    def close(self) -> None:
        for container in self.containers.values():
            with contextlib.suppress(Exception):
                container.remove(force=True, v=True)
        with contextlib.suppress(Exception):
            self.network.remove()
        with contextlib.suppress(Exception):
            self.client.volumes.get(f"{self.name}-pgdata").remove(force=True)
