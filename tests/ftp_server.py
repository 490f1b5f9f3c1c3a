"""A real ``vsftpd`` on a loopback port, for the FTP and FTPS tests.

It logs in the test account (``tests/file_server_user.py``) by password, offers passive mode
only, and explicit TLS (``AUTH TLS``) with a throwaway self-signed certificate; plain FTP stays
allowed so one server serves both ``ftp://`` and ``ftps://``. The tests hand runyard the password
through a netrc file and the certificate as its CA bundle, through settings.

Anonymous logins may write under ``/pub`` of a separate tree: MLflow's FTP client takes a
password only from the URI, and runyard never stores one, so MLflow can log to a server-chosen
``ftp://`` root only where the server needs no password.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.file_server_user import (
    ensure_test_account,
    free_port,
    served_directory,
    stop,
    wait_for_port,
)
from tests.requirements import require

VSFTPD = "/usr/sbin/vsftpd"
PASSIVE_PORTS = 50


@dataclass(frozen=True)
class FtpServer:
    port: int
    user: str
    password: str
    root: Path
    netrc: Path
    certificate: Path
    anonymous_root: Path  # what anonymous sessions see as /pub

    def anonymous_uri(self, path: str) -> str:
        return f"ftp://127.0.0.1:{self.port}/pub/{path.strip('/')}"

    def uri(self, path: str, scheme: str = "ftp") -> str:
        return f"{scheme}://{self.user}@127.0.0.1:{self.port}{self.root}/{path.strip('/')}"

    def env(self) -> dict[str, str]:
        """Settings that give runyard this server's password (netrc) and certificate."""
        return {"RUNYARD_NETRC": str(self.netrc), "RUNYARD_FTP_CA_BUNDLE": str(self.certificate)}


def _certificate(state: Path) -> Path:
    pem = state / "cert.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(state / "key.pem"), "-out", str(pem),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return pem


def _vsftpd_config(state: Path, port: int, passive_from: int, anonymous: Path) -> Path:
    empty = state / "empty"  # vsftpd's secure_chroot_dir: empty, root-owned, not writable
    empty.mkdir(exist_ok=True)
    os.chmod(empty, 0o555)
    config = state / "vsftpd.conf"
    settings = {
        "listen": "YES",
        "listen_ipv6": "NO",
        "listen_address": "127.0.0.1",
        "listen_port": port,
        "background": "NO",
        "anonymous_enable": "YES",
        "anon_root": anonymous,
        "no_anon_password": "YES",
        "anon_upload_enable": "YES",
        "anon_mkdir_write_enable": "YES",
        "anon_other_write_enable": "YES",
        "anon_umask": "022",
        "local_enable": "YES",
        "write_enable": "YES",
        "local_umask": "022",
        "pam_service_name": "vsftpd",
        "secure_chroot_dir": empty,
        "seccomp_sandbox": "NO",
        "port_enable": "NO",
        "pasv_enable": "YES",
        # Honour ASCII mode as many servers do (LF becomes CRLF): a client that left binary
        # mode would corrupt files, and the tests would see it.
        "ascii_upload_enable": "YES",
        "ascii_download_enable": "YES",
        "pasv_address": "127.0.0.1",
        "pasv_min_port": passive_from,
        "pasv_max_port": passive_from + PASSIVE_PORTS - 1,
        "ssl_enable": "YES",
        "rsa_cert_file": state / "cert.pem",
        "rsa_private_key_file": state / "key.pem",
        "force_local_logins_ssl": "NO",
        "force_local_data_ssl": "NO",
        "require_ssl_reuse": "NO",
        "ssl_ciphers": "HIGH",
        "xferlog_enable": "NO",
        "vsftpd_log_file": state / "vsftpd.log",
        "dual_log_enable": "YES",
    }
    config.write_text("".join(f"{key}={value}\n" for key, value in settings.items()))
    return config


def _passive_range_start(port: int) -> int:
    """A passive port range below the kernel's ephemeral ports, which every client socket
    (and every other test server's ``free_port``) is bound to: vsftpd picks one of the range
    at random and gives up (``500 OOPS: vsf_sysutil_bind``) after a few taken ones, which
    thousands of small transfers made happen. Spread by ``port`` so two test processes'
    servers rarely share one."""
    ephemeral_low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    lowest = 10000
    return lowest + (port * 7919) % max(ephemeral_low - lowest - PASSIVE_PORTS, 1)


@contextlib.contextmanager
def start_ftp_server(state: Path) -> Iterator[FtpServer]:
    """Start vsftpd with its files under ``state``; stop it on exit."""
    if not os.path.exists(VSFTPD):
        require("ftp", "vsftpd is not installed (apt-get install vsftpd)")
    if os.geteuid() != 0:
        require("ftp", "vsftpd must be started as root to log users in")
    account = ensure_test_account()
    if isinstance(account, str):
        require("ftp", account)
        raise AssertionError("unreachable")
    state.mkdir(parents=True, exist_ok=True)
    certificate = _certificate(state)
    port = free_port()
    netrc = state / "netrc"
    netrc.write_text(f"machine 127.0.0.1 login {account.name} password {account.password}\n")
    os.chmod(netrc, 0o600)
    anonymous = state.parent / f"{state.name}-anonymous"  # root-owned; vsftpd chroots into it
    (anonymous / "pub").mkdir(parents=True, exist_ok=True)
    os.chmod(anonymous, 0o755)
    ftp_account = pwd.getpwnam("ftp")
    os.chown(anonymous / "pub", ftp_account.pw_uid, ftp_account.pw_gid)
    config = _vsftpd_config(state, port, _passive_range_start(port), anonymous)
    with served_directory(account, "ftp") as root:
        process = subprocess.Popen(
            [VSFTPD, str(config)],
            stdout=subprocess.DEVNULL,
            stderr=open(state / "vsftpd.err", "wb"),  # noqa: SIM115 - owned by the child
        )
        try:
            problem = wait_for_port(port, process)
            if problem:
                require("ftp", f"vsftpd {problem}: {(state / 'vsftpd.err').read_text()[-500:]}")
            yield FtpServer(
                port, account.name, account.password, root, netrc, certificate, anonymous / "pub"
            )
        finally:
            stop(process)
