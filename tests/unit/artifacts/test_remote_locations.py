"""Parsing of file-server and bucket locations (through ``runyard.locations``), passwords, and
the schemes runyard does not support yet: the parts of the SFTP, FTP and GCS repositories that
need no server."""

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
from runyard.locations import canonical_location, parse_location, parse_roots, shown


@pytest.mark.parametrize(
    ("uri", "stored"),
    [
        ("ftp://me:s3cret@files:2121/srv/a", "ftp://me@files:2121/srv/a"),
        ("sftp://me:p%40ss@host/x", "sftp://me@host/x"),
        ("ftps://:only-pw@host/x", "ftps://host/x"),
        ("ftp://me@host/x/", "ftp://me@host/x"),
        ("gs://bucket/key@version", "gs://bucket/key%40version"),
    ],
)
def test_the_canonical_form_never_holds_a_password(uri: str, stored: str) -> None:
    location = parse_location(uri)
    assert location.uri == stored
    assert "s3cret" not in repr(location) and "p@ss" not in repr(location)
    assert parse_location(location.uri) == location  # canonical: parsing it again changes nothing


@pytest.mark.parametrize(
    "uri", ["ftp://me:s3cret@files/srv/a", "sftp://me@files/srv/a", "postgresql://u:s3cret@db/x"]
)
def test_shown_hides_the_whole_login(uri: str) -> None:
    assert "me@" not in shown(uri) and "s3cret" not in shown(uri) and "***@" in shown(uri)


def test_gcs_locations_carry_no_login() -> None:
    with pytest.raises(InvalidParameterValue, match="user information"):
        parse_location("gs://me@bucket/x")


def test_an_sftp_root_is_an_allowed_root_and_passwords_do_not_matter(tmp_path: Path) -> None:
    roots = parse_roots(["sftp://ml@files.internal/srv/mlartifacts/*"])
    inside = canonical_location("sftp://ml:pw@files.internal/srv/mlartifacts/7", roots)
    assert inside.uri == "sftp://ml@files.internal/srv/mlartifacts/7"
    for outside in (
        "sftp://ml@files.internal/srv/other",
        "sftp://root@files.internal/srv/mlartifacts/7",
        "sftp://ml@files.internal/srv/mlartifacts/%2e%2e/x",
        "ftp://ml@files.internal/srv/mlartifacts/7",
    ):
        with pytest.raises(InvalidParameterValue):
            canonical_location(outside, roots)


def test_a_password_in_the_uri_is_kept_in_memory_only() -> None:
    location = parse_ftp_uri("ftp://me:p%40ss@files/srv/artifacts")
    assert location.password == "p@ss"
    assert location.uri == "ftp://me@files/srv/artifacts"
    assert "p@ss" not in repr(location)
    for repo in (
        FtpArtifactRepo("ftp://me:p%40ss@files/srv/artifacts"),
        repo_for_uri("ftp://me:p%40ss@files/srv/artifacts"),
    ):
        assert isinstance(repo, FtpArtifactRepo) and repo.location.password == "p@ss"
        assert repo.root_uri == "ftp://me@files/srv/artifacts"


def test_server_uris_are_parsed_like_mlflow() -> None:
    location = parse_sftp_uri("sftp://ml@files.internal:2222/srv/mlartifacts/")
    assert (location.user, location.host, location.port) == ("ml", "files.internal", 2222)
    assert location.path == "/srv/mlartifacts"
    assert parse_sftp_uri("sftp://files").path == "/"  # as MLflow: no path is the root
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
    for refuse in (repo_for_uri, parse_location):
        with pytest.raises(InvalidParameterValue, match="not supported yet") as refused:
            refuse(f"{scheme}://container:key@account/path")
        assert "key@" not in str(refused.value)


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
