"""How sftp:// connections are made, against the test suite's real sshd: OpenSSH's ``ssh`` by
default, paramiko when a password is needed or asked for (setting ``sftp_client``); either way
``ssh_config`` is honoured and a server that stops answering is a clear 503 after one timeout.
The lean SFTP client reads files whole whatever sizes the server answers reads with, a forked
child does not keep its parent's ``ssh`` alive, and text printed by a login script is a clear
error."""

from __future__ import annotations

import contextlib
import io
import os
import secrets
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest
from runyard.artifacts import repo_for_uri
from runyard.artifacts.sftp_openssh import OpenSshSession, connect_openssh
from runyard.artifacts.sftp_paramiko import ParamikoSession
from runyard.artifacts.sftp_wire import SftpPipeClient
from runyard.errors import InvalidParameterValue, TemporarilyUnavailable

from tests.sftp_server import HOST_ALIAS, SftpServer


@pytest.fixture()
def sftp_env(sftp_server: SftpServer, monkeypatch: pytest.MonkeyPatch) -> SftpServer:
    for key, value in sftp_server.env().items():
        monkeypatch.setenv(key, value)
    return sftp_server


def _session_type(server: SftpServer, path: str) -> type:
    repo = repo_for_uri(server.uri(path))
    repo.write_stream("probe.txt", io.BytesIO(b"probe"))
    with repo._pool.lease() as session:  # type: ignore[attr-defined]
        return type(session)


def test_auto_connects_through_openssh_and_a_netrc_password_through_paramiko(
    sftp_env: SftpServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNYARD_SFTP_CLIENT", "auto")
    monkeypatch.setenv("RUNYARD_NETRC", str(tmp_path / "absent-netrc"))
    assert _session_type(sftp_env, f"auto/{secrets.token_hex(4)}") is OpenSshSession
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine 127.0.0.1 login {sftp_env.user} password unused-by-keys\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("RUNYARD_NETRC", str(netrc))
    assert _session_type(sftp_env, f"auto/{secrets.token_hex(4)}") is ParamikoSession


def test_an_unknown_or_impossible_sftp_client_is_refused(
    sftp_env: SftpServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNYARD_SFTP_CLIENT", "putty")
    with pytest.raises(InvalidParameterValue, match="openssh, paramiko"):
        repo_for_uri(sftp_env.uri("refused")).list_artifacts()
    monkeypatch.setenv("RUNYARD_SFTP_CLIENT", "openssh")
    monkeypatch.setenv("PATH", str(tmp_path))  # no ssh here
    with pytest.raises(InvalidParameterValue, match="ssh is not installed"):
        repo_for_uri(sftp_env.uri("refused")).list_artifacts()
    monkeypatch.setenv("RUNYARD_SFTP_CLIENT", "auto")
    assert _session_type(sftp_env, f"no-ssh/{secrets.token_hex(4)}") is ParamikoSession


@pytest.mark.parametrize("client", ["openssh", "paramiko"])
def test_the_ssh_config_host_alias_gives_host_port_and_user(
    sftp_env: SftpServer, client: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNYARD_SFTP_CLIENT", client)
    unique = secrets.token_hex(4)
    repo = repo_for_uri(f"sftp://{HOST_ALIAS}{sftp_env.root}/alias/{unique}")
    repo.write_stream("a.txt", io.BytesIO(b"through the alias"))
    assert (sftp_env.root / "alias" / unique / "a.txt").read_bytes() == b"through the alias"


@pytest.mark.parametrize("client", ["openssh", "paramiko"])
def test_no_ssh_config_file_is_no_error(
    sftp_env: SftpServer, client: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNYARD_SFTP_CLIENT", client)
    monkeypatch.setenv("RUNYARD_SFTP_SSH_CONFIG", str(tmp_path / "absent"))
    repo = repo_for_uri(sftp_env.uri(f"no-config/{secrets.token_hex(4)}"))
    repo.write_stream("a.txt", io.BytesIO(b"no config"))
    assert b"".join(repo.open_stream("a.txt")) == b"no config"


@contextlib.contextmanager
def _sftp_sessions_stopped(server: SftpServer) -> Iterator[None]:
    """Every SFTP session process of ``server`` stopped (SIGSTOP): connections stay open and
    requests go unanswered, as with a hung server; they go on (SIGCONT) afterwards."""
    listener = psutil.Process(int((server.known_hosts.parent / "sshd.pid").read_text()))
    sessions = [
        process
        for process in listener.children(recursive=True)
        if "internal-sftp" in " ".join(process.cmdline())
    ]
    assert sessions, "no SFTP session of this server is open"
    for process in sessions:
        os.kill(process.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for process in sessions:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGCONT)


@pytest.mark.parametrize("client", ["openssh", "paramiko"])
def test_a_server_that_stops_answering_is_temporarily_unavailable(
    sftp_env: SftpServer, client: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNYARD_SFTP_CLIENT", client)
    monkeypatch.setenv("RUNYARD_ARTIFACT_TIMEOUT", "2")
    repo = repo_for_uri(sftp_env.uri(f"hung/{secrets.token_hex(4)}"))
    repo.write_stream("a.txt", io.BytesIO(b"before"))  # leaves a pooled connection open
    with _sftp_sessions_stopped(sftp_env):
        started = time.monotonic()
        with pytest.raises(TemporarilyUnavailable, match="stopped answering"):
            repo.list_artifacts()
        assert time.monotonic() - started < 5, "one timeout, not one per directory level"
    repo.write_stream("b.txt", io.BytesIO(b"opens the next connection"))
    with contextlib.ExitStack() as stopped:
        midway = _StopsTheServerMidway(
            lambda: stopped.enter_context(_sftp_sessions_stopped(sftp_env))
        )
        started = time.monotonic()
        with pytest.raises(TemporarilyUnavailable, match="stopped"):
            repo.write_stream("big.bin", midway)  # type: ignore[arg-type]
        assert midway.stopped_at is not None
        assert time.monotonic() - midway.stopped_at < 5, "one timeout, not one per request"
    assert b"".join(repo.open_stream("a.txt")) == b"before"  # a new connection serves again


class _StopsTheServerMidway(io.RawIOBase):
    """An upload of 256 MiB (more than every buffer on the way holds) that stops the server
    once 8 MiB are read: the upload is cut off while its writes are in flight."""

    def __init__(self, stop: Callable[[], object]) -> None:
        self._stop = stop
        self._left = 256 * 1024 * 1024
        self._block = os.urandom(1024 * 1024)
        self.stopped_at: float | None = None

    def read(self, size: int = -1) -> bytes:
        if self.stopped_at is None and self._left <= 248 * 1024 * 1024:
            self._stop()
            self.stopped_at = time.monotonic()
        size = min(self._left, len(self._block) if size < 0 else size, len(self._block))
        self._left -= size
        return self._block[:size]


def test_reads_answered_short_are_asked_again_for_the_rest(sftp_env: SftpServer) -> None:
    """The server caps each read (OpenSSH's at 256 KiB); asked for 1 MiB at a time, the client
    gets short replies and must fetch each rest before handing later bytes out."""
    content = os.urandom(3 * 1024 * 1024 + 12345)
    target = sftp_env.root / f"short-{secrets.token_hex(4)}.bin"
    target.write_bytes(content)
    target.chmod(0o644)
    location = repo_for_uri(sftp_env.uri("short")).location  # type: ignore[attr-defined]
    session = connect_openssh(location)
    try:
        client: SftpPipeClient = session.sftp
        client.max_read = 1024 * 1024
        with client.open(str(target)) as remote:
            pieces = list(remote.readv([(0, len(content)), (len(content), 100)]))
            assert b"".join(pieces) == content
            assert max(len(piece) for piece in pieces) < client.max_read
            assert remote.read(10) == content[:10]
    finally:
        session.close()
    assert not session.alive()


def test_a_forked_child_does_not_hold_a_closed_connection_open(sftp_env: SftpServer) -> None:
    """A server worker forked while its parent holds a connection: when the parent closes
    it, ``ssh`` sees its input end and exits by itself, not killed after the grace period."""
    location = repo_for_uri(sftp_env.uri("fork")).location  # type: ignore[attr-defined]
    session = connect_openssh(location)
    child = os.fork()
    if child == 0:  # the child outlives the parent's close by far, then leaves quietly
        time.sleep(10)
        os._exit(0)
    try:
        session.close()
        assert session.process.returncode is not None
        assert session.process.returncode >= 0, "ssh was killed: the child kept its input open"
    finally:
        os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)


def test_a_login_script_that_prints_is_a_clear_error_not_a_hang(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Text printed by the account's shell start-up lands in the SFTP stream (OpenSSH's own
    sftp fails the same way); here an ``ssh`` on the PATH plays that server."""
    fake = tmp_path / "bin" / "ssh"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'Welcome! Today is a good day.'\nexec sleep 30\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("RUNYARD_SFTP_CLIENT", "openssh")
    monkeypatch.setenv("RUNYARD_ARTIFACT_CONNECT_ATTEMPTS", "1")
    started = time.monotonic()
    with pytest.raises(TemporarilyUnavailable, match="login script") as caught:
        repo_for_uri("sftp://someone@127.0.0.1:2222/srv").list_artifacts()
    assert time.monotonic() - started < 10
    assert "Welcome" not in str(caught.value)
