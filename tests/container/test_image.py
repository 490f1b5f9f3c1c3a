"""One runyard container on its own (file store on a /data volume): how the image behaves."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.container.docker_stack import Stack, wait_for
from tests.container.images import RUNYARD_IMAGE
from tests.container.rest import new_run

pytestmark = [pytest.mark.container, pytest.mark.timeout(1800)]


@pytest.fixture(scope="module")
def solo(docker_client: Any, images: None) -> Iterator[Stack]:
    stack = Stack(docker_client)
    try:
        stack.run(
            "solo",
            RUNYARD_IMAGE,
            command=[
                "server",
                "--host",
                "0.0.0.0",
                "--backend-store-uri",
                "/data/mlruns",
                "--artifacts-destination",
                "/data/artifacts",
                "--workers",
                "2",
            ],
            ports={"5000/tcp": ("127.0.0.1", None)},
            read_only=True,
            tmpfs={"/tmp": "rw,size=64m"},
            volumes={f"{stack.name}-data": {"bind": "/data", "mode": "rw"}},
        )
        stack.wait_ready("solo")
        yield stack
    finally:
        stack.close()
        for volume in docker_client.volumes.list(filters={"name": f"{stack.name}-data"}):
            volume.remove(force=True)


def test_image_metadata() -> None:
    import docker

    image = docker.from_env().images.get(RUNYARD_IMAGE)
    config = image.attrs["Config"]
    assert config["User"] == "10001:10001"
    assert config["Entrypoint"] == ["runyard"]
    assert config["Cmd"][0] == "server"
    assert "5000/tcp" in config["ExposedPorts"]
    assert config["Healthcheck"]["Test"][0] == "CMD"
    labels = config["Labels"]
    for key in ("title", "version", "revision", "created", "licenses"):
        assert labels.get(f"org.opencontainers.image.{key}"), key


def test_runs_as_non_root_on_a_read_only_root(solo: Stack) -> None:
    container = solo.containers["solo"]
    assert container.attrs["HostConfig"]["ReadonlyRootfs"] is True
    uid = container.exec_run(["id", "-u"])
    assert uid.exit_code == 0 and uid.output.decode().strip() == "10001"
    root_write = container.exec_run(["touch", "/opt/runyard/written"])
    assert root_write.exit_code != 0
    assert b"Read-only file system" in root_write.output
    assert container.exec_run(["touch", "/tmp/written"]).exit_code == 0


def test_server_process_is_pid_1(solo: Stack) -> None:
    comm = solo.containers["solo"].exec_run(["cat", "/proc/1/cmdline"])
    argv = comm.output.decode().split("\0")
    assert any(part.endswith("runyard") for part in argv[:2]), argv


def test_healthcheck_turns_healthy(solo: Stack) -> None:
    assert wait_for(lambda: solo.health("solo") == "healthy", 120, "the image HEALTHCHECK")


def test_sigterm_drains_an_in_flight_upload_before_exit(solo: Stack) -> None:
    base = solo.url("solo")
    port = int(base.rsplit(":", 1)[1])
    experiment_id, run_id = new_run(base)
    path = f"/api/2.0/mlflow-artifacts/artifacts/{experiment_id}/{run_id}/artifacts/big.bin"
    size = 8 * 1024 * 1024
    chunk = b"x" * (256 * 1024)
    container = solo.containers["solo"]
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(
            f"PUT {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            "Content-Type: application/octet-stream\r\n"
            f"Content-Length: {size}\r\nConnection: close\r\n\r\n".encode()
        )
        sent = 0
        for _ in range(4):
            sock.sendall(chunk)
            sent += len(chunk)
        stopper = threading.Thread(target=container.stop, kwargs={"timeout": 60}, daemon=True)
        stopper.start()
        time.sleep(2)  # SIGTERM is delivered while the body is still arriving
        while sent < size:
            sock.sendall(chunk)
            sent += len(chunk)
            time.sleep(0.01)
        response = b""
        while data := sock.recv(65536):
            response += data
    stopper.join(timeout=90)
    status_line = response.split(b"\r\n", 1)[0]
    assert b" 200 " in status_line, response[:500]
    container.reload()
    assert container.attrs["State"]["Status"] == "exited"
    assert container.attrs["State"]["ExitCode"] == 0
    logs = container.logs().decode(errors="replace")
    assert "Handling signal: term" in logs or "Shutting down" in logs, logs[-2000:]
    # The artifact really landed: serve it from a fresh start of the same container.
    container.start()
    solo.wait_ready("solo")
    got = requests.get(solo.url("solo") + path, timeout=30)
    assert got.status_code == 200 and len(got.content) == size
