"""The system account the test SSH and FTP servers log in as, and small helpers they share.

Both servers authenticate real system users (sshd by key, vsftpd through PAM), so the tests
create one unprivileged account, ``runyard-test``, with a throwaway password. Creating it needs
root (as in CI); elsewhere a test that needs it skips, or fails under ``RUNYARD_REQUIRE``.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

TEST_USER = "runyard-test"
#: Throwaway password of the test account; the FTP tests pass it through a netrc file.
TEST_PASSWORD = "runyard-test-pw-9f3c"
LOCK_FILE = "/tmp/runyard-test-account.lock"


@dataclass(frozen=True)
class Account:
    name: str
    uid: int
    gid: int
    password: str


def ensure_test_account() -> Account | str:
    """The test account (created if missing), or why it cannot be had."""
    if os.geteuid() != 0:
        try:
            entry = pwd.getpwnam(TEST_USER)
        except KeyError:
            return f"the {TEST_USER!r} account is missing and only root can create it"
        return Account(TEST_USER, entry.pw_uid, entry.pw_gid, TEST_PASSWORD)
    with FileLock(LOCK_FILE):  # parallel test processes must not edit /etc/shadow at once
        try:
            pwd.getpwnam(TEST_USER)
        except KeyError:
            made = subprocess.run(
                ["useradd", "--create-home", "--shell", "/bin/bash", TEST_USER],
                capture_output=True,
                text=True,
            )
            if made.returncode != 0:
                return f"useradd failed: {made.stderr.strip()}"
        subprocess.run(["chpasswd"], input=f"{TEST_USER}:{TEST_PASSWORD}\n", text=True, check=True)
    entry = pwd.getpwnam(TEST_USER)
    return Account(TEST_USER, entry.pw_uid, entry.pw_gid, TEST_PASSWORD)


@contextlib.contextmanager
def served_directory(account: Account, label: str) -> Iterator[Path]:
    """A fresh directory owned by ``account`` for a server to serve, removed afterwards.

    It lives in a directory of its own under the system temp dir (not pytest's, which is
    private to its owner and which pytest keeps resetting to mode 0700)."""
    outer = Path(tempfile.mkdtemp(prefix=f"runyard-{label}-"))
    try:
        os.chmod(outer, 0o711)
        root = outer / "files"
        root.mkdir()
        os.chown(root, account.uid, account.gid)
        yield root
    finally:
        shutil.rmtree(outer, ignore_errors=True)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def wait_for_port(
    port: int, process: subprocess.Popen[bytes], seconds: float = 20.0, host: str = "127.0.0.1"
) -> str | None:
    """None once something accepts connections on ``host:port``; otherwise why not."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return f"exited with code {process.returncode}"
        try:
            with socket.create_connection((host, port), timeout=1):
                return None
        except OSError:
            time.sleep(0.05)
    return f"did not listen on port {port} within {seconds:.0f}s"


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
