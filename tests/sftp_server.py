"""A real OpenSSH ``sshd`` on a loopback port (or another local address), for the SFTP tests.

It has a throwaway host key and accepts only a throwaway client key for the test account
(``tests/file_server_user.py``), so nothing of the machine's own SSH setup is used: the tests
point runyard at this server's ``known_hosts``, key and ``ssh_config`` through settings.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.file_server_user import (
    Account,
    ensure_test_account,
    free_port,
    served_directory,
    stop,
    wait_for_port,
)
from tests.requirements import require

SSHD = "/usr/sbin/sshd"
#: The ``Host`` alias of the generated ssh_config, to test that ssh_config is honoured.
HOST_ALIAS = "runyard-sftp-test"


@dataclass(frozen=True)
class SftpServer:
    port: int
    user: str
    root: Path  # a directory the test account owns; artifacts go under it
    known_hosts: Path
    identity_file: Path
    ssh_config: Path
    host: str = "127.0.0.1"

    def uri(self, path: str) -> str:
        return f"sftp://{self.user}@{self.host}:{self.port}{self.root}/{path.strip('/')}"

    def env(self) -> dict[str, str]:
        """Settings that make runyard (and only runyard) trust and log in to this server."""
        return {
            "RUNYARD_SFTP_KNOWN_HOSTS": str(self.known_hosts),
            "RUNYARD_SFTP_IDENTITY_FILE": str(self.identity_file),
            "RUNYARD_SFTP_SSH_CONFIG": str(self.ssh_config),
        }


def _keygen(path: Path, kind: str = "ed25519") -> str:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", "runyard-test", "-f", str(path)],
        check=True,
    )
    return path.with_suffix(".pub").read_text().strip()


def _sshd_config(
    state: Path, host: str, port: int, account: Account, authorized_keys: Path
) -> Path:
    config = state / "sshd_config"
    config.write_text(
        "\n".join(
            [
                f"Port {port}",
                f"ListenAddress {host}",
                f"HostKey {state / 'host_key'}",
                f"PidFile {state / 'sshd.pid'}",
                f"AuthorizedKeysFile {authorized_keys}",
                "StrictModes no",
                "UsePAM no",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "PubkeyAuthentication yes",
                f"AllowUsers {account.name}",
                "Subsystem sftp internal-sftp",
                "LogLevel ERROR",
                "",
            ]
        )
    )
    return config


@contextlib.contextmanager
def start_sftp_server(state: Path, host: str = "127.0.0.1") -> Iterator[SftpServer]:
    """Start sshd on ``host`` with its keys and files under ``state``; stop it on exit."""
    if not os.path.exists(SSHD):
        require("sftp", "sshd is not installed (apt-get install openssh-server)")
    account = ensure_test_account()
    if isinstance(account, str):
        require("sftp", account)
        raise AssertionError("unreachable")
    state.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # sshd's privilege separation
    host_public = _keygen(state / "host_key")
    # RSA: MLflow's SFTP client (pysftp) loads only RSA and DSA key files
    client_public = _keygen(state / "client_key", "rsa")
    port = free_port(host)
    (state / "known_hosts").write_text(f"[{host}]:{port} {host_public}\n")
    (state / "ssh_config").write_text(
        f"Host {HOST_ALIAS}\n  HostName {host}\n  Port {port}\n  User {account.name}\n"
    )
    with served_directory(account, "sftp") as root:
        # sshd reads it as the user, who cannot enter ``state`` (pytest's tmp is private)
        authorized_keys = root.parent / "authorized_keys"
        authorized_keys.write_text(client_public + "\n")
        config = _sshd_config(state, host, port, account, authorized_keys)
        process = subprocess.Popen(
            [SSHD, "-D", "-e", "-f", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=open(state / "sshd.log", "wb"),  # noqa: SIM115 - owned by the child
        )
        try:
            problem = wait_for_port(port, process, host=host)
            if problem:
                require("sftp", f"sshd {problem}: {(state / 'sshd.log').read_text()[-500:]}")
            yield SftpServer(
                port=port,
                user=account.name,
                root=root,
                known_hosts=state / "known_hosts",
                identity_file=state / "client_key",
                ssh_config=state / "ssh_config",
                host=host,
            )
        finally:
            stop(process)
