"""Parsing of file-server and bucket locations, passwords, redaction and the schemes runyard
does not support yet: the parts of the SFTP, FTP and GCS repositories that need no server."""

from __future__ import annotations

from pathlib import Path

import pytest
from runyard.artifacts import repo_for_uri
from runyard.artifacts.base import import_extra
from runyard.artifacts.ftp import FtpArtifactRepo, parse_ftp_uri
from runyard.artifacts.gcs import parse_gcs_uri
from runyard.artifacts.remote import password_for
from runyard.artifacts.sftp import parse_sftp_uri
from runyard.errors import InvalidParameterValue, NotImplementedByBackend
from runyard.uris import redact_uri


@pytest.mark.parametrize(
    ("uri", "shown"),
    [
        ("ftp://me:s3cret@files:2121/srv/a", "ftp://me@files:2121/srv/a"),
        ("sftp://me:p%40ss@host/x", "sftp://me@host/x"),
        ("postgresql://u:pw@db/runyard", "postgresql://u@db/runyard"),
        ("ftp://:only-pw@host/x", "ftp://host/x"),
        ("ftp://me@host/x", "ftp://me@host/x"),
        ("s3://bucket/key@version", "s3://bucket/key@version"),
        ("/local/path", "/local/path"),
        ("file:///tmp/a@b", "file:///tmp/a@b"),
    ],
)
def test_redact_uri_drops_only_the_password(uri: str, shown: str) -> None:
    assert redact_uri(uri) == shown


def test_a_password_in_the_uri_is_kept_in_memory_only() -> None:
    location = parse_ftp_uri("ftp://me:p%40ss@files/srv/artifacts")
    assert location.password == "p@ss"
    assert location.display == "ftp://me@files/srv/artifacts"
    assert "p@ss" not in repr(location)
    repo = FtpArtifactRepo("ftp://me:p%40ss@files/srv/artifacts")
    assert repo.root_uri == "ftp://me@files/srv/artifacts"


def test_server_uris_are_parsed_like_mlflow() -> None:
    location = parse_sftp_uri("sftp://ml@files.internal:2222/srv/mlartifacts/")
    assert (location.user, location.host, location.port) == ("ml", "files.internal", 2222)
    assert location.path == "/srv/mlartifacts"
    assert parse_sftp_uri("sftp://files").path == "."  # the login directory
    assert parse_gcs_uri("gs://team-ml/artifacts/") == ("team-ml", "artifacts")


@pytest.mark.parametrize(
    "uri",
    [
        "sftp:///no/host",
        "sftp://host/srv/../etc",
        "ftp://host:notaport/x",
        "ftp://host/a\r\nDELE x",
        "gs:///no-bucket",
        "gs://bucket/a/../b",
    ],
)
def test_bad_roots_are_refused(uri: str) -> None:
    with pytest.raises(InvalidParameterValue):
        repo_for_uri(uri)


def test_a_refused_uri_is_reported_without_its_password() -> None:
    with pytest.raises(InvalidParameterValue) as caught:
        repo_for_uri("ftp://me:hunter2@host:bad/x")
    assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize("scheme", ["wasbs", "abfss", "azure", "hdfs"])
def test_azure_and_hdfs_are_not_supported_yet(scheme: str) -> None:
    with pytest.raises(NotImplementedByBackend, match="not supported yet"):
        repo_for_uri(f"{scheme}://container@account/path")


def test_a_missing_extra_gives_an_install_hint() -> None:
    with pytest.raises(NotImplementedByBackend, match=r"pip install 'runyard\[sftp\]'"):
        import_extra("paramiko_not_installed_here", "sftp", "sftp")


def test_password_comes_from_the_uri_then_the_setting_then_netrc(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text(
        "machine files login ml password from-netrc\nmachine other login bob password bobs\n"
    )
    netrc.chmod(0o600)
    monkeypatch.setenv("RUNYARD_NETRC", str(netrc))
    monkeypatch.delenv("RUNYARD_FTP_PASSWORD", raising=False)
    assert password_for(parse_ftp_uri("ftp://ml@files/x"), "ftp_password") == "from-netrc"
    assert password_for(parse_ftp_uri("ftp://files/x"), "ftp_password") == "from-netrc"
    # a netrc entry for another login is not this user's password
    assert password_for(parse_ftp_uri("ftp://alice@other/x"), "ftp_password") is None
    assert password_for(parse_ftp_uri("ftp://ml@nowhere/x"), "ftp_password") is None
    monkeypatch.setenv("RUNYARD_FTP_PASSWORD", "from-env")
    assert password_for(parse_ftp_uri("ftp://ml@files/x"), "ftp_password") == "from-env"
    assert password_for(parse_ftp_uri("ftp://ml:in-uri@files/x"), "ftp_password") == "in-uri"
