"""The image fronts SFTP and Google Cloud Storage artifact stores on its own: their client
libraries and OpenSSH's ``ssh`` are in it. The file servers are the same real ones as in the
artifact tests (Debian's sshd, the GCS emulator), listening on the test network's gateway so
the server container reaches them as it would reach a host on its network."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.container.docker_stack import Stack
from tests.container.images import RUNYARD_IMAGE
from tests.container.rest import new_run
from tests.gcs_server import GcsServer, start_gcs_server
from tests.sftp_server import SftpServer, start_sftp_server

pytestmark = [pytest.mark.container, pytest.mark.timeout(1800)]

#: Where the SFTP known_hosts and key are mounted in the server container.
SSH_FILES = "/etc/runyard-sftp"
ARTIFACT = os.urandom(3 * 1024 * 1024 + 17)


@pytest.fixture(scope="module")
def network(docker_client: Any, images: None) -> Iterator[Stack]:
    stack = Stack(docker_client)
    try:
        yield stack
    finally:
        stack.close()


@pytest.fixture(scope="module")
def gateway(network: Stack) -> str:
    """The host's address on the test network: servers listening there are reachable from
    the containers and from nowhere else."""
    network.network.reload()
    return str(network.network.attrs["IPAM"]["Config"][0]["Gateway"])


@pytest.fixture(scope="module")
def sftp_on_network(tmp_path_factory: pytest.TempPathFactory, gateway: str) -> Iterator[SftpServer]:
    with start_sftp_server(tmp_path_factory.mktemp("sftp"), host=gateway) as server:
        yield server


@pytest.fixture(scope="module")
def gcs_on_network(tmp_path_factory: pytest.TempPathFactory, gateway: str) -> Iterator[GcsServer]:
    with start_gcs_server(tmp_path_factory.mktemp("gcs"), ("runyard",), host=gateway) as server:
        yield server


@pytest.fixture(scope="module")
def ssh_files(sftp_on_network: SftpServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The server's known_hosts and key, readable by the image's user (root owns them, so
    ``ssh`` does not find the key's mode too open)."""
    folder = tmp_path_factory.mktemp("ssh-files")
    folder.chmod(0o755)
    for source in (sftp_on_network.known_hosts, sftp_on_network.identity_file):
        target = folder / source.name
        shutil.copyfile(source, target)
        target.chmod(0o644)
    return folder


def _serve(stack: Stack, role: str, destination: str, env: dict[str, str], **kwargs: Any) -> str:
    stack.run(
        role,
        RUNYARD_IMAGE,
        command=[
            "server",
            "--host",
            "0.0.0.0",
            "--backend-store-uri",
            "/tmp/mlruns",
            "--artifacts-destination",
            destination,
        ],
        environment=env,
        ports={"5000/tcp": ("127.0.0.1", None)},
        read_only=True,
        tmpfs={"/tmp": "rw,size=64m"},
        **kwargs,
    )
    stack.wait_ready(role)
    return stack.url(role)


def _round_trip(base: str) -> str:
    """Upload ``ARTIFACT`` through the server's proxy and read it back: the run's path."""
    experiment_id, run_id = new_run(base)
    path = f"{experiment_id}/{run_id}/artifacts/model.bin"
    url = f"{base}/api/2.0/mlflow-artifacts/artifacts/{path}"
    put = requests.put(url, data=ARTIFACT, timeout=60)
    assert put.status_code == 200, put.text
    got = requests.get(url, timeout=60)
    assert got.status_code == 200, got.text
    assert got.content == ARTIFACT
    return path


@pytest.mark.parametrize("client", ["openssh", "paramiko"])
def test_the_image_fronts_an_sftp_store_through_either_client(
    network: Stack, sftp_on_network: SftpServer, ssh_files: Path, client: str
) -> None:
    """With ``openssh`` the server refuses to start unless the image has ``ssh``; with
    ``paramiko`` unless it has the ``sftp`` extra. The file lands on the SFTP server."""
    destination = sftp_on_network.uri(f"from-image/{client}")
    env = {
        "RUNYARD_SFTP_CLIENT": client,
        "RUNYARD_SFTP_KNOWN_HOSTS": f"{SSH_FILES}/{sftp_on_network.known_hosts.name}",
        "RUNYARD_SFTP_IDENTITY_FILE": f"{SSH_FILES}/{sftp_on_network.identity_file.name}",
    }
    mount = {str(ssh_files): {"bind": SSH_FILES, "mode": "ro"}}
    base = _serve(network, f"sftp-{client}", destination, env, volumes=mount)
    path = _round_trip(base)
    stored = sftp_on_network.root / "from-image" / client / path
    assert stored.read_bytes() == ARTIFACT


def test_the_image_fronts_a_gcs_store(network: Stack, gcs_on_network: GcsServer) -> None:
    base = _serve(network, "gcs", "gs://runyard/from-image", gcs_on_network.env())
    path = _round_trip(base)
    blob = gcs_on_network.client().bucket("runyard").blob(f"from-image/{path}")
    assert blob.download_as_bytes() == ARTIFACT
