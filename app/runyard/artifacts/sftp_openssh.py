"""SFTP connections through OpenSSH's ``ssh`` client, as OpenSSH's own ``sftp`` makes them.

``ssh -s <host> sftp`` does the transport in C and reads the user's SSH setup as every other
SSH tool on the machine does: the ``ssh_config`` file of ``sftp_ssh_config`` (``ProxyJump``,
``Match`` and the rest included; named on the command line, so the system-wide file is not
read, as with paramiko), keys from the agent and ``~/.ssh`` (or only ``sftp_identity_file``),
and the server's host key from the ``known_hosts`` file of ``sftp_known_hosts`` only, refusing
unknown and changed keys (``StrictHostKeyChecking=yes``, which no ``ssh_config`` overrides).
It runs in batch mode and never prompts, so a server that wants a password is left to the
paramiko connection, which takes it from netrc (``sftp.uses_openssh`` decides).
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import subprocess
import tempfile
import weakref
from typing import IO

from runyard import config
from runyard.artifacts.remote import ServerLocation, connect_with_retries, timeout_seconds
from runyard.artifacts.sftp_wire import SftpPipeClient
from runyard.errors import PermissionDenied

#: Linux's fcntl to resize a pipe: 1 MiB holds several read replies or write requests, so
#: a request goes out in one write (the pipe does not block, ``sftp_wire``) where a 64 KiB
#: pipe took four or more, each after a poll.
F_SETPIPE_SZ = 1031
PIPE_SIZE = 1024 * 1024
#: Seconds ``ssh`` is given to exit when its connection is closed.
EXIT_GRACE_SECONDS = 2.0


def ssh_program() -> str | None:
    """OpenSSH's ``ssh``, where the pipe to it can be driven as here (POSIX systems)."""
    return shutil.which("ssh") if os.name == "posix" else None


class OpenSshSession:
    """An ``ssh`` process running the server's SFTP subsystem, and the client speaking to it."""

    def __init__(self, process: subprocess.Popen[bytes], sftp: SftpPipeClient) -> None:
        self.process = process
        self.sftp = sftp
        _OPEN.add(self)

    def alive(self) -> bool:
        return self.sftp.broken is None and self.process.poll() is None

    def close(self) -> None:
        """Closing the pipe ends the server's subsystem and ``ssh`` with it; a connection
        that stopped answering is not waited for."""
        process = self.process
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        try:
            process.wait(0 if self.sftp.broken is not None else EXIT_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


#: Sessions of this process, for the fork hook below.
_OPEN: weakref.WeakSet[OpenSshSession] = weakref.WeakSet()


def _close_inherited_pipes() -> None:
    """A forked child (a server worker) closes its copies of the parent's pipes to ``ssh``:
    otherwise, when the parent closes a session, ``ssh`` keeps waiting for the child's copy
    of its input to close too. The pool never hands a parent's connection to a child."""
    for session in list(_OPEN):
        for stream in (session.process.stdin, session.process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
    _OPEN.clear()


os.register_at_fork(after_in_child=_close_inherited_pipes)


def ssh_command(location: ServerLocation, timeout: float) -> list[str]:
    """The ``ssh`` command line for ``location`` with runyard's SSH settings."""
    seconds = str(max(1, math.ceil(timeout)))
    ssh_config = config.get_path("sftp_ssh_config")
    command = [
        ssh_program() or "ssh",
        "-F",
        ssh_config if os.path.isfile(ssh_config) else os.devnull,  # not the system-wide one
        "-o", "BatchMode=yes",
        "-o", "StrictHostKeyChecking=yes",
        "-o", f"UserKnownHostsFile={config.get_path('sftp_known_hosts')}",
        "-o", f"GlobalKnownHostsFile={os.devnull}",  # the setting's file only, as with paramiko
        "-o", f"ConnectTimeout={seconds}",
        "-o", f"ServerAliveInterval={seconds}",
        "-o", "ServerAliveCountMax=2",
        "-o", "LogLevel=ERROR",
        "-x", "-a", "-T",
    ]  # fmt: skip
    identity = config.get("sftp_identity_file")
    if identity:
        command += ["-i", identity, "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none"]
    if location.port:
        command += ["-p", str(location.port)]
    if location.user:
        command += ["-l", location.user]
    return [*command, "-s", "--", location.host, "sftp"]


def connect_openssh(location: ServerLocation) -> OpenSshSession:
    """A new connection; refusals of the host key or the login raise ``PermissionDenied``,
    failures to reach the server are retried (``connect_with_retries``)."""
    where = f"the SFTP server {location.server}"
    timeout = timeout_seconds()
    command = ssh_command(location, timeout)
    return connect_with_retries(lambda: _start(command, timeout, where), where, (EOFError,))


def _start(command: list[str], timeout: float, where: str) -> OpenSshSession:
    """One start of ``ssh``; its error output goes to a temporary file, read if it fails."""
    import fcntl  # POSIX only, as is this way of connecting (``ssh_program``)

    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
            bufsize=0,
            start_new_session=True,  # a Ctrl-C meant for the caller does not cut the transfer
        )
        assert process.stdin is not None and process.stdout is not None
        for pipe in (process.stdin, process.stdout):
            with contextlib.suppress(OSError):
                fcntl.fcntl(pipe.fileno(), F_SETPIPE_SZ, PIPE_SIZE)
        sftp = SftpPipeClient(process.stdout.fileno(), process.stdin.fileno(), timeout)
        session = OpenSshSession(process, sftp)
        try:
            sftp.start()
        except (EOFError, OSError) as exc:
            session.close()
            raise _refusal(errors, where, exc) from None
        return session


def _refusal(errors: IO[bytes], where: str, failure: Exception) -> Exception:
    """What ``ssh`` said when it gave up: a refusal, or a connection error to retry."""
    errors.seek(0)
    said = errors.read(4096).decode("utf-8", "replace").strip()
    if not said:
        return failure
    last = said.splitlines()[-1]
    if "REMOTE HOST IDENTIFICATION HAS CHANGED" in said:
        return PermissionDenied(host_key_changed(where))
    if "Host key verification failed" in said:
        return PermissionDenied(host_key_unknown(where))
    if "Permission denied" in said:
        return PermissionDenied(f"{where} refused the login: {last}")
    return ConnectionError(last)


def host_key_changed(where: str) -> str:
    return f"The host key of {where} does not match known_hosts: refusing to connect"


def host_key_unknown(where: str) -> str:
    return (
        f"The host key of {where} is not in known_hosts (setting sftp_known_hosts); "
        "connect once with ssh or add it with ssh-keyscan"
    )
