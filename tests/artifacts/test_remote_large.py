"""A large file through the SFTP, FTP and GCS repositories, both ways, in bounded memory.

512 MiB for SFTP and FTP: eight times the memory bound, and about a minute at most on loopback;
a repository that buffered a whole file (or a growing share of it) would blow the bound at this
size as surely as at 2 GB. 256 MiB for GCS: the emulator rewrites everything received so far
for each chunk of a resumable upload, so its time grows with the square of the size (real GCS
does not). The artifact contract suite runs a 160 MiB file through every repository and proxy.
"""

from __future__ import annotations

import hashlib
import io
import secrets

import pytest
from runyard.artifacts import repo_for_uri
from runyard.artifacts.base import ArtifactRepo
from runyard.entities import FileInfo

from tests.ftp_server import FtpServer
from tests.gcs_server import GcsServer
from tests.sftp_server import SftpServer
from tests.streams import GeneratedStream, PeakRss

SIZES = {"sftp": 512 * 1024 * 1024, "ftp": 512 * 1024 * 1024, "gcs": 256 * 1024 * 1024}
MEMORY_BOUND = 64 * 1024 * 1024


def _repo(kind: str, request: pytest.FixtureRequest, mp: pytest.MonkeyPatch) -> ArtifactRepo:
    unique = secrets.token_hex(6)
    server: SftpServer | FtpServer | GcsServer = request.getfixturevalue(f"{kind}_server")
    for key, value in server.env().items():
        mp.setenv(key, value)
    if isinstance(server, GcsServer):
        return repo_for_uri(f"gs://runyard/large/{unique}")
    return repo_for_uri(server.uri(f"large/{unique}"))


@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(SIZES))
def test_a_large_file_up_and_down_in_bounded_memory(
    kind: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _repo(kind, request, monkeypatch)
    size = SIZES[kind]
    source = GeneratedStream(size)
    with PeakRss() as upload:
        assert repo.write_stream("big.bin", io.BufferedReader(source)) == size
    assert repo.file_info("big.bin") == FileInfo("big.bin", False, size)
    sha = hashlib.sha256()
    with PeakRss() as download:
        for chunk in repo.open_stream("big.bin"):
            sha.update(chunk)
    repo.delete_artifacts()
    assert sha.digest() == source.sha.digest()
    assert upload.growth < MEMORY_BOUND, f"upload grew RSS by {upload.growth >> 20} MiB"
    assert download.growth < MEMORY_BOUND, f"download grew RSS by {download.growth >> 20} MiB"
