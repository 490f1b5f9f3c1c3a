"""One contract for every artifact repository: local, S3, SFTP, FTP, FTPS, Google Cloud Storage,
and the server's proxy with each of those (but FTPS) as its destination.

Each backend is real: a directory, a ``moto_server`` process speaking S3, OpenSSH's ``sshd``
(reached through OpenSSH's ``ssh``, the default here, and through paramiko),
``vsftpd`` (plain and explicit TLS), ``pyftpdlib`` (an FTP server that lists with MLSD),
``gcp-storage-emulator``, and ``runyard server`` processes
(gunicorn) in front of them. Whatever the backend, the same calls give the same
results, and the same bad paths are refused.
"""

from __future__ import annotations

import hashlib
import io
import os
import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from runyard.artifacts.base import ArtifactRepo
from runyard.artifacts.local import LocalArtifactRepo
from runyard.entities import FileInfo
from runyard.errors import InvalidParameterValue, ResourceDoesNotExist

from tests.ftp_server import FtpServer
from tests.gcs_server import GcsServer
from tests.mlsd_ftp_server import MlsdFtpServer
from tests.s3_server import S3Server, start_s3_server
from tests.sftp_server import SftpServer
from tests.streams import GeneratedStream, PeakRss

BACKENDS = (
    "local",
    "s3",
    "sftp",
    "sftp-paramiko",
    "ftp",
    "ftps",
    "ftp-mlsd",
    "gcs",
    "proxy-local",
    "proxy-s3",
    "proxy-sftp",
    "proxy-ftp",
    "proxy-gcs",
)
BUCKET = "contract"  # created by the gcs_server fixture too (tests/conftest.py)


# ---- backends -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def s3_server() -> Iterator[S3Server]:
    with start_s3_server(buckets=[BUCKET]) as server:
        yield server


def _live_server(tmp: Path, destination: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    try:
        from tests.live_server import start_live_server
    except ImportError as exc:
        pytest.skip(f"the live server helper is not available: {exc}")
    return start_live_server(
        backend_store_uri=f"sqlite:///{tmp / 'server.db'}",
        artifacts_destination=destination,
        env=env,
    )


@pytest.fixture(scope="module")
def proxy_local_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("proxy-local")
    with _live_server(tmp, str(tmp / "destination")) as server:
        yield server.url


@pytest.fixture(scope="module")
def proxy_s3_url(tmp_path_factory: pytest.TempPathFactory, s3_server: S3Server) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("proxy-s3")
    with _live_server(tmp, f"s3://{BUCKET}/served", env=s3_server.env()) as server:
        yield server.url


@pytest.fixture(scope="module")
def proxy_sftp_url(
    tmp_path_factory: pytest.TempPathFactory, sftp_server: SftpServer
) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("proxy-sftp")
    with _live_server(tmp, sftp_server.uri("served"), env=sftp_server.env()) as server:
        yield server.url


@pytest.fixture(scope="module")
def proxy_ftp_url(tmp_path_factory: pytest.TempPathFactory, ftp_server: FtpServer) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("proxy-ftp")
    with _live_server(tmp, ftp_server.uri("served"), env=ftp_server.env()) as server:
        yield server.url


@pytest.fixture(scope="module")
def proxy_gcs_url(tmp_path_factory: pytest.TempPathFactory, gcs_server: GcsServer) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("proxy-gcs")
    with _live_server(tmp, f"gs://{BUCKET}/served", env=gcs_server.env()) as server:
        yield server.url


def _direct_repo(kind: str, unique: str, request: pytest.FixtureRequest) -> ArtifactRepo:
    """A repository that talks to the server itself, configured through the environment the
    way a user would (the caller has applied ``env()`` of the server)."""
    from runyard.artifacts import repo_for_uri

    if kind in ("sftp", "sftp-paramiko"):
        server: SftpServer = request.getfixturevalue("sftp_server")
        return repo_for_uri(server.uri(f"direct/{unique}"))
    if kind in ("ftp", "ftps"):
        ftp: FtpServer = request.getfixturevalue("ftp_server")
        return repo_for_uri(ftp.uri(f"direct/{unique}", scheme=kind))
    if kind == "ftp-mlsd":
        mlsd: MlsdFtpServer = request.getfixturevalue("mlsd_ftp_server")
        return repo_for_uri(mlsd.uri(f"direct/{unique}"))
    return repo_for_uri(f"gs://{BUCKET}/direct/{unique}")


@pytest.fixture(params=BACKENDS)
def repo(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> ArtifactRepo:
    unique = secrets.token_hex(6)
    kind = request.param
    if kind == "local":
        from runyard.artifacts.local import LocalArtifactRepo

        return LocalArtifactRepo(str(tmp_path / "root"))
    if kind == "s3":
        server: S3Server = request.getfixturevalue("s3_server")
        for key, value in server.env().items():
            monkeypatch.setenv(key, value)
        from runyard.artifacts.s3 import S3ArtifactRepo

        return S3ArtifactRepo(f"s3://{BUCKET}/direct/{unique}")
    if kind in ("sftp", "sftp-paramiko", "ftp", "ftps", "ftp-mlsd", "gcs"):
        server_fixture = {
            "ftps": "ftp_server",
            "ftp-mlsd": "mlsd_ftp_server",
            "sftp-paramiko": "sftp_server",
        }.get(kind, f"{kind}_server")
        for key, value in request.getfixturevalue(server_fixture).env().items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("RUNYARD_SFTP_CLIENT", "paramiko" if kind == "sftp-paramiko" else "auto")
        return _direct_repo(kind, unique, request)
    from runyard.artifacts.proxy import ProxyArtifactRepo

    url = request.getfixturevalue(f"{kind.replace('-', '_')}_url")
    return ProxyArtifactRepo(f"mlflow-artifacts:/0/{unique}/artifacts", tracking_uri=url)


def write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def read(repo: ArtifactRepo, path: str) -> bytes:
    return b"".join(repo.open_stream(path))


def paths(infos: list[FileInfo]) -> list[tuple[str, bool, int | None]]:
    return sorted((i.path, i.is_dir, i.file_size) for i in infos)


# ---- writing and listing ------------------------------------------------------------------------
def test_log_artifact_at_root_and_under_a_path(repo: ArtifactRepo, tmp_path: Path) -> None:
    src = write(tmp_path / "src" / "a.txt", "alpha")
    repo.log_artifact(src)
    repo.log_artifact(src, "sub/dir")
    assert read(repo, "a.txt") == b"alpha"
    assert read(repo, "sub/dir/a.txt") == b"alpha"
    assert paths(repo.list_artifacts()) == [("a.txt", False, 5), ("sub", True, None)]
    assert paths(repo.list_artifacts("sub")) == [("sub/dir", True, None)]
    assert paths(repo.list_artifacts("sub/dir")) == [("sub/dir/a.txt", False, 5)]


def test_log_artifacts_keeps_nested_directories(repo: ArtifactRepo, tmp_path: Path) -> None:
    src = tmp_path / "tree"
    write(src / "top.txt", "t")
    write(src / "x" / "one.bin", b"\x01")
    write(src / "x" / "y" / "z" / "deep.json", '{"d": 1}')
    repo.log_artifacts(src, "model")
    assert paths(repo.list_artifacts("model")) == [
        ("model/top.txt", False, 1),
        ("model/x", True, None),
    ]
    assert paths(repo.list_artifacts("model/x")) == [
        ("model/x/one.bin", False, 1),
        ("model/x/y", True, None),
    ]
    assert read(repo, "model/x/y/z/deep.json") == b'{"d": 1}'
    assert repo.file_info("model/x/y") == FileInfo("model/x/y", True, None)
    assert repo.file_info("model/top.txt") == FileInfo("model/top.txt", False, 1)


def test_listing_a_file_or_a_missing_path_is_empty(repo: ArtifactRepo) -> None:
    repo.write_stream("f.txt", io.BytesIO(b"f"))
    assert repo.list_artifacts("f.txt") == []
    assert repo.list_artifacts("missing") == []
    assert repo.file_info("missing") is None
    assert repo.file_info("missing/deeper") is None


def test_write_stream_returns_size_and_overwrites(repo: ArtifactRepo) -> None:
    assert repo.write_stream("w/data.bin", io.BytesIO(b"first version")) == 13
    assert repo.write_stream("w/data.bin", io.BytesIO(b"second")) == 6
    assert read(repo, "w/data.bin") == b"second"
    assert paths(repo.list_artifacts("w")) == [("w/data.bin", False, 6)]


def test_binary_content_round_trips(repo: ArtifactRepo) -> None:
    data = bytes(range(256)) * 64 + os.urandom(3 * 1024 * 1024 + 17)
    repo.write_stream("bin/blob.bin", io.BytesIO(data))
    assert hashlib.sha256(read(repo, "bin/blob.bin")).digest() == hashlib.sha256(data).digest()


class Trickle(io.RawIOBase):
    """A socket-like stream: every read returns at most 64 KiB, whatever was asked for."""

    def __init__(self, data: bytes) -> None:
        self.data = memoryview(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        n = min(len(buffer), 64 * 1024, len(self.data))
        buffer[:n] = self.data[:n]
        self.data = self.data[n:]
        return n


def test_write_stream_from_a_stream_with_short_reads(repo: ArtifactRepo) -> None:
    data = os.urandom(10 * 1024 * 1024 + 3)
    assert repo.write_stream("short/reads.bin", Trickle(data)) == len(data)
    assert hashlib.sha256(read(repo, "short/reads.bin")).digest() == hashlib.sha256(data).digest()


def test_empty_files(repo: ArtifactRepo, tmp_path: Path) -> None:
    repo.log_artifact(write(tmp_path / "empty.txt", b""), "e")
    assert repo.write_stream("e/also-empty.bin", io.BytesIO(b"")) == 0
    assert read(repo, "e/empty.txt") == b""
    assert paths(repo.list_artifacts("e")) == [
        ("e/also-empty.bin", False, 0),
        ("e/empty.txt", False, 0),
    ]


def test_unicode_and_spaced_names(repo: ArtifactRepo, tmp_path: Path) -> None:
    src = write(tmp_path / "in" / "résumé ✓ 100%.txt", "ü")
    repo.log_artifact(src, "données")
    name = "données/résumé ✓ 100%.txt"
    assert read(repo, name) == "ü".encode()
    assert paths(repo.list_artifacts("données")) == [(name, False, 2)]
    assert paths(repo.list_artifacts()) == [("données", True, None)]


# ---- downloading --------------------------------------------------------------------------------
def test_download_a_file_and_a_tree(repo: ArtifactRepo, tmp_path: Path) -> None:
    src = tmp_path / "tree"
    write(src / "a.txt", "a")
    write(src / "d" / "b.txt", "b")
    write(src / "d" / "e" / "c.txt", "c")
    repo.log_artifacts(src)

    single = repo.download_artifacts("d/b.txt", tmp_path / "dl1")
    assert Path(single).read_text() == "b"

    tree = Path(repo.download_artifacts("d", tmp_path / "dl2"))
    assert (tree / "b.txt").read_text() == "b"
    assert (tree / "e" / "c.txt").read_text() == "c"

    everything = Path(repo.download_artifacts("", tmp_path / "dl3"))
    assert sorted(str(p.relative_to(everything)) for p in everything.rglob("*.txt")) == [
        "a.txt",
        "d/b.txt",
        "d/e/c.txt",
    ]


def test_missing_paths(repo: ArtifactRepo, tmp_path: Path) -> None:
    repo.write_stream("dir/file.txt", io.BytesIO(b"x"))
    with pytest.raises(ResourceDoesNotExist):
        read(repo, "nope.txt")
    with pytest.raises(ResourceDoesNotExist):
        read(repo, "dir")
    with pytest.raises(ResourceDoesNotExist):
        repo.download_artifacts("dir/nope.txt", tmp_path / "dl")
    assert not (tmp_path / "dl" / "dir" / "nope.txt").exists()


# ---- deleting -----------------------------------------------------------------------------------
def test_delete_a_file_a_directory_and_everything(repo: ArtifactRepo) -> None:
    for name in ("keep.txt", "gone.txt", "d/x.txt", "d/e/y.txt", "dd/z.txt"):
        repo.write_stream(name, io.BytesIO(name.encode()))
    repo.delete_artifacts("gone.txt")
    assert repo.file_info("gone.txt") is None
    repo.delete_artifacts("d")
    assert repo.file_info("d") is None and repo.file_info("d/e/y.txt") is None
    # "dd" shares a prefix with "d" and must survive
    assert read(repo, "dd/z.txt") == b"dd/z.txt"
    assert paths(repo.list_artifacts()) == [("dd", True, None), ("keep.txt", False, 8)]
    repo.delete_artifacts()
    assert repo.list_artifacts() == []


def test_a_delete_racing_uploads_below_it_fails_neither(repo: ArtifactRepo) -> None:
    """Two jobs share a run, or a cleanup runs during a sweep: uploads into a directory and
    deletes of it, at once, all succeed. Each file is then whole or absent, and once the
    uploads are done one more delete leaves nothing, so no upload's temporary file is left."""
    bodies = {i: bytes([65 + i]) * 300_000 for i in range(6)}

    def upload(i: int) -> None:
        repo.write_stream(f"d/{i}/f.bin", io.BytesIO(bodies[i]))

    for _ in range(3):
        with ThreadPoolExecutor(9) as pool:
            done = [pool.submit(upload, i) for i in range(6)]
            done += [pool.submit(repo.delete_artifacts, "d") for _ in range(3)]
            for call in done:
                call.result()
        for i, body in bodies.items():
            assert repo.file_info(f"d/{i}/f.bin") is None or read(repo, f"d/{i}/f.bin") == body
        repo.delete_artifacts("d")
        assert repo.file_info("d") is None and repo.list_artifacts() == []
    if isinstance(repo, LocalArtifactRepo):
        assert os.listdir(repo.root) == []  # nothing hidden either


# ---- safety -------------------------------------------------------------------------------------
BAD_PATHS = ["../escape.txt", "a/../../escape.txt", "/etc/passwd", "a\\..\\escape", "x\x00.txt"]


@pytest.mark.parametrize("bad", BAD_PATHS)
def test_traversal_is_refused_and_nothing_is_written(
    repo: ArtifactRepo, tmp_path: Path, bad: str
) -> None:
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(InvalidParameterValue):
        repo.write_stream(bad, io.BytesIO(b"evil"))
    with pytest.raises(InvalidParameterValue):
        read(repo, bad)
    with pytest.raises(InvalidParameterValue):
        repo.list_artifacts(bad)
    with pytest.raises(InvalidParameterValue):
        repo.delete_artifacts(bad)
    with pytest.raises(InvalidParameterValue):
        repo.log_artifact(write(tmp_path / "src" / "f.txt", "f"), bad)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "src") == [
        b for b in before if b != "src"
    ]
    assert not (tmp_path / "escape.txt").exists()
    assert repo.list_artifacts() == []


# ---- size ---------------------------------------------------------------------------------------
LARGE = 160 * 1024 * 1024
MEMORY_BOUND = 96 * 1024 * 1024


def test_large_file_streams_in_bounded_memory(repo: ArtifactRepo) -> None:
    source = GeneratedStream(LARGE)
    with PeakRss() as upload:
        assert repo.write_stream("big/blob.bin", io.BufferedReader(source)) == LARGE
    assert upload.growth < MEMORY_BOUND, f"upload grew RSS by {upload.growth >> 20} MiB"
    assert repo.file_info("big/blob.bin") == FileInfo("big/blob.bin", False, LARGE)
    sha = hashlib.sha256()
    with PeakRss() as download:
        for chunk in repo.open_stream("big/blob.bin"):
            sha.update(chunk)
    assert download.growth < MEMORY_BOUND, f"download grew RSS by {download.growth >> 20} MiB"
    assert sha.digest() == source.sha.digest()
    repo.delete_artifacts("big")


#: Stores whose paths are directories. On S3 and GCS keys are flat: ``a.txt`` and
#: ``a.txt/b.txt`` can both be objects, as with MLflow's repositories.
DIRECTORIES = (
    "local",
    "sftp",
    "sftp-paramiko",
    "ftp",
    "ftps",
    "ftp-mlsd",
    "proxy-local",
    "proxy-sftp",
    "proxy-ftp",
)


@pytest.mark.parametrize("repo", DIRECTORIES, indirect=True)
def test_a_file_below_a_file_is_refused_and_the_file_kept(repo: ArtifactRepo) -> None:
    repo.write_stream("d/a.txt", io.BytesIO(b"hello"))
    for below in ("d/a.txt/b.txt", "d/a.txt/deeper/b.txt"):
        with pytest.raises(InvalidParameterValue) as refused:
            repo.write_stream(below, io.BytesIO(b"x"))
        if repo.root_uri.startswith("mlflow-artifacts:"):
            continue  # the proxy reports every refused path as "Invalid path"
        # the artifact's path and nothing of the store's
        assert str(refused.value).endswith(
            f": Cannot write {below!r}: a file stands where one of its directories would be"
        )
    assert read(repo, "d/a.txt") == b"hello"
    assert paths(repo.list_artifacts("d")) == [("d/a.txt", False, 5)]
