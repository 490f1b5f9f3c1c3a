"""What the SFTP, FTP and GCS repositories guarantee beyond the shared contract, against the
real servers: symlinks on the SFTP server never lead out of the root, unknown hosts and
untrusted certificates are refused, an interrupted upload leaves nothing (and the previous
version intact), and an unreachable server is a clear 503 after a bounded number of attempts,
also through the server's proxy."""

from __future__ import annotations

import errno
import io
import os
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from runyard.artifacts import repo_for_uri
from runyard.artifacts.base import UPLOAD_PREFIX, ArtifactRepo
from runyard.errors import (
    InsufficientStorage,
    InvalidParameterValue,
    PermissionDenied,
    ResourceDoesNotExist,
    TemporarilyUnavailable,
)

from tests.ftp_server import FtpServer
from tests.gcs_server import GcsServer
from tests.live_server import start_live_server
from tests.mlsd_ftp_server import MlsdFtpServer
from tests.sftp_server import SftpServer
from tests.tiny_disk import tiny_disk


def read(repo: ArtifactRepo, path: str) -> bytes:
    return b"".join(repo.open_stream(path))


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def use(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)


@pytest.fixture(params=["openssh", "paramiko"])
def sftp_client(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each SFTP guarantee holds for both ways of connecting (setting ``sftp_client``)."""
    monkeypatch.setenv("RUNYARD_SFTP_CLIENT", request.param)
    return str(request.param)


# ---- SFTP symlinks ------------------------------------------------------------------------------
def test_sftp_symlinks_never_lead_out_of_the_root(
    sftp_server: SftpServer, sftp_client: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    use(monkeypatch, sftp_server.env())
    unique = secrets.token_hex(6)
    repo = repo_for_uri(sftp_server.uri(f"links/{unique}"))
    repo.write_stream("inside/ok.txt", io.BytesIO(b"ok"))
    base = sftp_server.root / "links" / unique
    outside = sftp_server.root / f"outside-{unique}"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    os.symlink(outside, base / "escape")
    os.symlink(outside / "secret.txt", base / "leak.txt")
    os.symlink(base / "inside", base / "alias")  # stays inside: allowed

    for action in (
        lambda: read(repo, "escape/secret.txt"),
        lambda: read(repo, "leak.txt"),
        lambda: repo.write_stream("escape/planted.txt", io.BytesIO(b"x")),
        lambda: repo.write_stream("leak.txt", io.BytesIO(b"overwritten")),
        lambda: repo.list_artifacts("escape"),
        lambda: repo.delete_artifacts("escape/secret.txt"),
    ):
        with pytest.raises(InvalidParameterValue):
            action()
    assert [(i.path, i.is_dir) for i in repo.list_artifacts()] == [
        ("alias", True),
        ("inside", True),
    ]
    assert read(repo, "alias/ok.txt") == b"ok"
    repo.delete_artifacts()  # removes the links themselves, never what they point to
    assert sorted(os.listdir(outside)) == ["secret.txt"]
    assert (outside / "secret.txt").read_text() == "secret"
    assert os.listdir(base) == []


# ---- refusing to talk to the wrong server -------------------------------------------------------
def _new_key(path: Path) -> Path:
    """A fresh ed25519 key pair at ``path`` (and ``path.pub``)."""
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    return path


@pytest.mark.parametrize(
    ("known", "refusal"),
    [("nothing", "is not in known_hosts"), ("another key", "does not match known_hosts")],
)
def test_sftp_refuses_a_host_key_it_cannot_verify(
    sftp_server: SftpServer,
    sftp_client: str,
    known: str,
    refusal: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use(monkeypatch, sftp_server.env())
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text("")
    if known == "another key":
        kind, key = _new_key(tmp_path / "other").with_suffix(".pub").read_text().split()[:2]
        known_hosts.write_text(f"[127.0.0.1]:{sftp_server.port} {kind} {key}\n")
    monkeypatch.setenv("RUNYARD_SFTP_KNOWN_HOSTS", str(known_hosts))
    with pytest.raises(PermissionDenied, match=refusal):
        repo_for_uri(sftp_server.uri("refused")).list_artifacts()


def test_sftp_refuses_a_key_the_server_does_not_accept(
    sftp_server: SftpServer, sftp_client: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use(monkeypatch, sftp_server.env())
    stranger = _new_key(tmp_path / "stranger_key")
    monkeypatch.setenv("RUNYARD_SFTP_IDENTITY_FILE", str(stranger))
    monkeypatch.setenv("RUNYARD_ARTIFACT_CONNECT_ATTEMPTS", "3")
    started = time.monotonic()
    with pytest.raises(PermissionDenied, match="refused") as caught:
        repo_for_uri(sftp_server.uri("refused")).list_artifacts()
    assert time.monotonic() - started < 5, "a refused login is not retried"
    assert str(stranger) not in str(caught.value)


def test_ftps_refuses_an_untrusted_certificate_and_ftp_a_wrong_password(
    ftp_server: FtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    use(monkeypatch, ftp_server.env())
    monkeypatch.setenv("RUNYARD_FTP_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    with pytest.raises(PermissionDenied, match="certificate"):
        repo_for_uri(ftp_server.uri("tls", scheme="ftps")).list_artifacts()
    monkeypatch.setenv("RUNYARD_FTP_PASSWORD", "not-the-password")
    with pytest.raises(PermissionDenied, match="refused to log in") as caught:
        repo_for_uri(ftp_server.uri("plain")).list_artifacts()
    assert "not-the-password" not in str(caught.value)


# ---- interrupted uploads ------------------------------------------------------------------------
class Interrupted(io.RawIOBase):
    """Gives ``size`` bytes, then fails as a dropped client connection would."""

    def __init__(self, size: int) -> None:
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        if self.left <= 0:
            raise ConnectionResetError("the client went away")
        n = min(len(buffer), self.left)
        buffer[:n] = b"x" * n
        self.left -= n
        return n


def _repos(kind: str, request: pytest.FixtureRequest, mp: pytest.MonkeyPatch) -> ArtifactRepo:
    unique = secrets.token_hex(6)
    if kind == "sftp":
        sftp: SftpServer = request.getfixturevalue("sftp_server")
        use(mp, sftp.env())
        return repo_for_uri(sftp.uri(f"interrupted/{unique}"))
    if kind == "ftp":
        ftp: FtpServer = request.getfixturevalue("ftp_server")
        use(mp, ftp.env())
        return repo_for_uri(ftp.uri(f"interrupted/{unique}"))
    if kind == "ftp-mlsd":
        mlsd: MlsdFtpServer = request.getfixturevalue("mlsd_ftp_server")
        use(mp, mlsd.env())
        return repo_for_uri(mlsd.uri(f"interrupted/{unique}"))
    gcs: GcsServer = request.getfixturevalue("gcs_server")
    use(mp, gcs.env())
    return repo_for_uri(f"gs://runyard/interrupted/{unique}")


@pytest.mark.parametrize("kind", ["sftp", "ftp", "gcs"])
def test_an_interrupted_upload_leaves_no_partial_file_and_keeps_the_old_one(
    kind: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _repos(kind, request, monkeypatch)
    repo.write_stream("d/model.bin", io.BytesIO(b"version 1"))
    size = 20 * 1024 * 1024  # past GCS's first chunk, so its resumable upload is cut too
    for target in ("d/model.bin", "d/new.bin"):
        with pytest.raises((ConnectionResetError, TemporarilyUnavailable)):
            repo.write_stream(target, io.BufferedReader(Interrupted(size)))
    assert [(i.path, i.file_size) for i in repo.list_artifacts("d")] == [("d/model.bin", 9)]
    assert read(repo, "d/model.bin") == b"version 1"
    if kind in ("sftp", "ftp"):
        server = request.getfixturevalue(f"{kind}_server")
        left = [p for p in server.root.rglob("*") if p.name.startswith(UPLOAD_PREFIX)]
        assert left == []


@pytest.mark.parametrize("kind", ["sftp", "ftp", "ftp-mlsd"])
def test_a_file_server_refuses_a_file_over_a_directory_or_under_a_file(
    kind: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _repos(kind, request, monkeypatch)
    repo.write_stream("d/model.bin", io.BytesIO(b"model"))
    for target in ("d", "d/model.bin/inner.txt", "d/model.bin/deeper/inner.txt"):
        with pytest.raises(InvalidParameterValue):
            repo.write_stream(target, io.BytesIO(b"refused"))
    assert [(i.path, i.is_dir) for i in repo.list_artifacts()] == [("d", True)]
    assert [(i.path, i.file_size) for i in repo.list_artifacts("d")] == [("d/model.bin", 5)]
    server = request.getfixturevalue({"ftp-mlsd": "mlsd_ftp_server"}.get(kind, f"{kind}_server"))
    assert not [p for p in server.root.rglob("*") if p.name.startswith(UPLOAD_PREFIX)]


def _after_a_first_upload(
    server: SftpServer | FtpServer, monkeypatch: pytest.MonkeyPatch
) -> tuple[ArtifactRepo, Any]:
    """A repository on ``server`` whose directory ``d`` holds a file, and the pooled session
    its next upload will use."""
    use(monkeypatch, server.env())
    repo = repo_for_uri(server.uri(f"requests/{secrets.token_hex(6)}"))
    repo.write_stream("d/first.txt", io.BytesIO(b"first"))
    with repo._pool.lease() as session:  # type: ignore[attr-defined]
        return repo, session


def _recorded(monkeypatch: pytest.MonkeyPatch, target: Any, name: str, note: Callable) -> list:
    """What ``note`` makes of each later call of ``target.name`` (which still goes through)."""
    seen: list = []
    original = getattr(target, name)

    def recording(*args: Any, **kwargs: Any) -> Any:
        seen.append(note(*args))
        return original(*args, **kwargs)

    monkeypatch.setattr(target, name, recording)
    return seen


def test_an_sftp_upload_into_an_existing_directory_sends_only_what_it_needs(
    sftp_server: SftpServer, sftp_client: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Small files are bound by round trips: checking the path, looking for what is there,
    open, write, close and rename; nothing more where the directory already exists. Through
    paramiko a stat checks the size stored, since paramiko drops refused writes' answers."""
    repo, session = _after_a_first_upload(sftp_server, monkeypatch)
    sending = "_request" if sftp_client == "openssh" else "_async_request"
    sent = _recorded(monkeypatch, session.sftp, sending, lambda *args: args[:2])
    repo.write_stream("d/second.txt", io.BytesIO(b"second"))
    assert len(sent) == (6 if sftp_client == "openssh" else 7), sent
    assert read(repo, "d/second.txt") == b"second"


def test_an_ftp_upload_into_an_existing_directory_sends_no_lookups_for_it(
    ftp_server: FtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What is at the target (SIZE, CWD), the passive data connection, STOR, RNFR, RNTO:
    the directory, which exists, is not looked for."""
    repo, session = _after_a_first_upload(ftp_server, monkeypatch)
    sent = _recorded(monkeypatch, session.ftp, "putcmd", lambda line: line.split(" ", 1)[0])
    repo.write_stream("d/second.txt", io.BytesIO(b"second"))
    assert sent in (
        ["SIZE", "CWD", "EPSV", "STOR", "RNFR", "RNTO"],
        ["SIZE", "CWD", "PASV", "STOR", "RNFR", "RNTO"],
    ), sent
    assert read(repo, "d/second.txt") == b"second"


# ---- unreachable servers ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("uri", "sftp_client"),
    [
        (lambda port: f"sftp://nobody@127.0.0.1:{port}/srv", "openssh"),
        (lambda port: f"sftp://nobody@127.0.0.1:{port}/srv", "paramiko"),
        (lambda port: f"ftp://nobody:pw@127.0.0.1:{port}/srv", "auto"),
        (lambda port: f"ftps://nobody@127.0.0.1:{port}/srv", "auto"),
    ],
    ids=["sftp-openssh", "sftp-paramiko", "ftp", "ftps"],
)
def test_an_unreachable_server_is_temporarily_unavailable_after_bounded_attempts(
    uri: Callable[[int], str], sftp_client: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNYARD_SFTP_CLIENT", sftp_client)
    monkeypatch.setenv("RUNYARD_ARTIFACT_CONNECT_ATTEMPTS", "2")
    monkeypatch.setenv("RUNYARD_ARTIFACT_TIMEOUT", "2")
    started = time.monotonic()
    with pytest.raises(TemporarilyUnavailable, match="after 2 attempt") as caught:
        repo_for_uri(uri(closed_port())).list_artifacts()
    assert time.monotonic() - started < 10
    assert ":pw@" not in str(caught.value)


def test_an_unreachable_gcs_is_temporarily_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", f"http://127.0.0.1:{closed_port()}")
    monkeypatch.setenv("RUNYARD_ARTIFACT_TIMEOUT", "2")
    started = time.monotonic()
    with pytest.raises(TemporarilyUnavailable):
        repo_for_uri("gs://runyard/x").list_artifacts()
    assert time.monotonic() - started < 15


def test_the_proxy_answers_503_when_its_destination_is_unreachable(tmp_path: Path) -> None:
    destination = f"ftp://nobody@127.0.0.1:{closed_port()}/srv"
    env = {"RUNYARD_ARTIFACT_CONNECT_ATTEMPTS": "1", "RUNYARD_ARTIFACT_TIMEOUT": "2"}
    with start_live_server(
        f"sqlite:///{tmp_path / 'db.sqlite'}", artifacts_destination=destination, env=env
    ) as server:
        base = f"{server.url}/api/2.0/mlflow-artifacts/artifacts"
        listed = requests.get(base, params={"path": "0"}, timeout=30)
        stored = requests.put(f"{base}/0/run/a.txt", data=b"a", timeout=30)
    for reply in (listed, stored):
        assert reply.status_code == 503, reply.text
        assert reply.json()["error_code"] == "TEMPORARILY_UNAVAILABLE"
        assert "Cannot reach the FTP server" in reply.json()["message"]


# ---- a root without a path ----------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["sftp", "ftp"])
def test_a_root_without_a_path_is_the_servers_root_as_in_mlflow(
    kind: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``sftp://user@host`` and ``sftp://user@host/`` are one canonical location whose path is
    ``/`` (MLflow reads both as ``/``), never the login directory: the test account may not
    write there, and the server's refusal comes back as a clear error, not a partial write."""
    server: SftpServer | FtpServer = request.getfixturevalue(f"{kind}_server")
    use(monkeypatch, server.env())
    bare = repo_for_uri(f"{kind}://{server.user}@127.0.0.1:{server.port}")
    slash = repo_for_uri(f"{kind}://{server.user}@127.0.0.1:{server.port}/")
    assert bare.root_uri == slash.root_uri == f"{kind}://{server.user}@127.0.0.1:{server.port}"
    unique = f"no-path-{secrets.token_hex(6)}"
    with pytest.raises(PermissionDenied):
        bare.write_stream(f"{unique}/a.txt", io.BytesIO(b"a"))
    home = Path(os.path.expanduser(f"~{server.user}"))
    assert not (home / unique).exists() and not Path("/", unique).exists()


# ---- refused at start-up ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("flag", "location", "message"),
    [
        ("--artifacts-destination", "hdfs://namenode/ml", "HDFS (hdfs://) artifact locations"),
        ("--default-artifact-root", "wasbs://c@acct.blob.core.windows.net/ml", "not supported"),
        ("--artifacts-destination", "ftp://me:hunter2@files:notaport/x", "Invalid port"),
    ],
)
def test_the_server_refuses_an_unusable_artifact_location_at_start(
    flag: str, location: str, message: str, tmp_path: Path
) -> None:
    import subprocess
    import sys

    serve = [] if flag == "--artifacts-destination" else ["--no-serve-artifacts"]
    done = subprocess.run(
        [str(Path(sys.executable).with_name("runyard")), "server", flag, location, *serve,
         "--backend-store-uri", f"sqlite:///{tmp_path / 'db.sqlite'}", "--port", "1"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode != 0
    assert message in done.stderr
    assert "Traceback" not in done.stderr and "hunter2" not in done.stderr


def test_gcs_without_credentials_says_how_to_provide_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    with pytest.raises(PermissionDenied, match="GOOGLE_APPLICATION_CREDENTIALS"):
        repo_for_uri("gs://runyard/x").list_artifacts()


def test_a_gcs_object_deleted_before_its_download_is_not_found(
    gcs_server: GcsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The download starts when the first chunk is asked for: an object gone by then is a
    404 raised from the download thread, not a hang or an empty file."""
    use(monkeypatch, gcs_server.env())
    repo = repo_for_uri(f"gs://runyard/gone-{secrets.token_hex(4)}")
    repo.write_stream("model.bin", io.BytesIO(b"weights"))
    chunks = repo.open_stream("model.bin")
    repo.delete_artifacts("model.bin")
    with pytest.raises(ResourceDoesNotExist):
        b"".join(chunks)


class _FailingBlob:
    """A download that breaks off the way real GCS and its client break one off: the object
    replaced when the download resumed (412), or bytes whose checksum differs. The emulator
    neither honours the generation condition nor sends damaged bytes, so these are played."""

    generation = 7

    def __init__(self, error: Exception) -> None:
        self.error = error

    def download_to_file(self, into: io.RawIOBase, **kwargs: object) -> None:
        assert kwargs["if_generation_match"] == 7
        into.write(b"first half")
        raise self.error


def _replaced() -> Exception:
    from google.api_core.exceptions import PreconditionFailed

    return PreconditionFailed("conditionNotMet")


def _damaged() -> Exception:
    from google.resumable_media.common import DataCorruption

    return DataCorruption(None, "Checksum mismatch while downloading")


@pytest.mark.parametrize(
    ("error", "message"),
    [(_replaced, "replaced while it was being read"), (_damaged, "arrived damaged")],
    ids=["replaced", "damaged"],
)
def test_a_gcs_download_broken_off_is_read_again(error: Any, message: str) -> None:
    from runyard.artifacts.gcs import GcsArtifactRepo

    with pytest.raises(TemporarilyUnavailable, match=message):
        b"".join(GcsArtifactRepo._chunks(_FailingBlob(error()), "model.bin"))


def test_a_full_sftp_disk_is_507_and_replaces_nothing(
    sftp_server: SftpServer, sftp_client: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 1 MiB file system on the server fills up mid-upload: the upload is refused as out of
    space (paramiko alone would have renamed a short file into place), the previous version
    stays, nothing half-written is left, and the same upload succeeds once space returns."""
    use(monkeypatch, sftp_server.env())
    with tiny_disk(sftp_server.root / f"disk-{secrets.token_hex(4)}") as disk:
        shutil.chown(disk, sftp_server.user)
        repo = repo_for_uri(sftp_server.uri(disk.name))
        repo.write_stream("model.bin", io.BytesIO(b"version 1"))
        with pytest.raises(InsufficientStorage, match="disk may be full") as caught:
            repo.write_stream("model.bin", io.BytesIO(b"x" * (2 * 1024 * 1024)))
        assert str(disk) not in str(caught.value)
        assert read(repo, "model.bin") == b"version 1"
        assert sorted(os.listdir(disk)) == ["model.bin"]
        repo.write_stream("model.bin", io.BytesIO(b"version 2" * 1000))
        assert read(repo, "model.bin") == b"version 2" * 1000


class _BrokenInput(io.RawIOBase):
    """An upload's input that fails after its first mebibyte, as a local disk might."""

    def __init__(self) -> None:
        self._calls = 0

    def read(self, size: int = -1) -> bytes:
        self._calls += 1
        if self._calls > 1:
            raise OSError(errno.EIO, "the input broke")
        return b"x" * (1024 * 1024)


def test_an_sftp_upload_whose_input_fails_reports_the_input(
    sftp_server: SftpServer, sftp_client: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The input's own error is the error, not a full disk on the server, and the upload's
    temporary file is removed (the connection is fine)."""
    use(monkeypatch, sftp_server.env())
    unique = secrets.token_hex(4)
    repo = repo_for_uri(sftp_server.uri(f"broken-input/{unique}"))
    repo.write_stream("d/kept.txt", io.BytesIO(b"kept"))
    with pytest.raises(OSError, match="the input broke"):
        repo.write_stream("d/model.bin", _BrokenInput())  # type: ignore[arg-type]
    assert os.listdir(sftp_server.root / "broken-input" / unique / "d") == ["kept.txt"]


@pytest.mark.parametrize(
    "size",
    # A 1 MiB tmpfs holding "version 1" has 255 pages free: 1 KiB more fits in the buffers.
    [255 * 4096 + 1024, 16 * 1024 * 1024],
    ids=["reply-after-the-last-byte", "connection-dropped-mid-file"],
)
def test_a_full_ftp_disk_is_507_and_replaces_nothing(
    ftp_server: FtpServer, monkeypatch: pytest.MonkeyPatch, size: int
) -> None:
    """vsftpd drops the data connection when its disk fills and answers 451: a 507, not a
    dropped connection; the previous version stays and nothing half-written is left. A file
    1 KiB over the free space is all in the sockets' buffers by then, so the 451 comes after
    the client's last byte; a large one finds the connection dropped while it writes."""
    use(monkeypatch, ftp_server.env())
    with tiny_disk(ftp_server.root / f"disk-{secrets.token_hex(4)}") as disk:
        shutil.chown(disk, ftp_server.user)
        repo = repo_for_uri(ftp_server.uri(disk.name))
        repo.write_stream("model.bin", io.BytesIO(b"version 1"))
        with pytest.raises(InsufficientStorage, match="disk may be full"):
            repo.write_stream("model.bin", io.BytesIO(b"x" * size))
        assert read(repo, "model.bin") == b"version 1"
        assert sorted(os.listdir(disk)) == ["model.bin"]
        repo.write_stream("model.bin", io.BytesIO(b"version 2"))
        assert read(repo, "model.bin") == b"version 2"
