"""The SFTP repository asks OpenSSH for AES-GCM, whose per-packet authentication costs paramiko
less Python than AES-CTR with a separate HMAC (the throughput figures are ``make bench``'s)."""

from __future__ import annotations

import io

import pytest
from runyard.artifacts import repo_for_uri

from tests.sftp_server import SftpServer


def test_the_connection_negotiates_aes_gcm_with_openssh(
    sftp_server: SftpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in sftp_server.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("RUNYARD_SFTP_CLIENT", "paramiko")  # OpenSSH's ssh picks its own
    repo = repo_for_uri(sftp_server.uri("cipher"))
    repo.write_stream("a.txt", io.BytesIO(b"x"))
    with repo._pool.lease() as session:  # type: ignore[attr-defined]
        transport = session.client.get_transport()
        assert transport.local_cipher == "aes128-gcm@openssh.com"
        assert transport.remote_cipher == "aes128-gcm@openssh.com"
    assert b"".join(repo.open_stream("a.txt")) == b"x"
