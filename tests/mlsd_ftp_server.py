"""A second real FTP server, ``pyftpdlib``, on a loopback port: it speaks MLSD, which vsftpd does
not, so the FTP repository's listings are tested in both dialects (MLSD and ``ls -l`` lines).
Like many servers, it honours ASCII mode (LF becomes CRLF) and refuses SIZE in it, so a client
that left binary mode would be caught.

It runs in a process of its own (this file is its program), with one virtual user whose home is
a temporary directory; the password reaches runyard through a netrc file, as for vsftpd.
"""

from __future__ import annotations

import contextlib
import secrets
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class MlsdFtpServer:
    port: int
    user: str
    root: Path  # the user's home: "/" on the server
    netrc: Path

    def uri(self, path: str, scheme: str = "ftp") -> str:
        return f"{scheme}://{self.user}@127.0.0.1:{self.port}/{path.strip('/')}"

    def env(self) -> dict[str, str]:
        return {"RUNYARD_NETRC": str(self.netrc)}


@contextlib.contextmanager
def start_mlsd_ftp_server(state: Path) -> Iterator[MlsdFtpServer]:
    """Start pyftpdlib with its files under ``state``; stop it on exit."""
    from tests.file_server_user import free_port, stop, wait_for_port  # not in the server's process

    root = state / "home"
    root.mkdir(parents=True, exist_ok=True)
    user, password = "mlsd-tester", secrets.token_hex(12)
    netrc = state / "netrc"
    netrc.write_text(f"machine 127.0.0.1 login {user} password {password}\n")
    netrc.chmod(0o600)
    port = free_port()
    log = state / "pyftpdlib.log"
    process = subprocess.Popen(
        [sys.executable, __file__, str(port), user, password, str(root)],
        stdout=subprocess.DEVNULL,
        stderr=open(log, "wb"),  # noqa: SIM115 - owned by the child
    )
    try:
        problem = wait_for_port(port, process)
        if problem:
            raise RuntimeError(f"pyftpdlib {problem}: {log.read_text()[-500:]}")
        yield MlsdFtpServer(port, user, root, netrc)
    finally:
        stop(process)


def _serve(port: int, user: str, password: str, root: str) -> None:
    import logging

    from pyftpdlib.authorizers import DummyAuthorizer
    from pyftpdlib.handlers import FTPHandler
    from pyftpdlib.servers import FTPServer

    logging.basicConfig(level=logging.WARNING)
    authorizer = DummyAuthorizer()
    authorizer.add_user(user, password, root, perm="elradfmwMT")
    handler = FTPHandler
    handler.authorizer = authorizer
    FTPServer(("127.0.0.1", port), handler).serve_forever()


if __name__ == "__main__":
    _serve(int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4])
