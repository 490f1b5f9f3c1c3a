"""Dumps stored in the artifact store (a directory and S3) with count-based retention."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from runyard.artifacts import repo_for_uri
from runyard.backup import fetch, list_backups, upload
from runyard.cli import main
from runyard.errors import InvalidParameterValue, ResourceDoesNotExist

from tests.s3_server import start_s3_server


@pytest.fixture(params=["local", "s3"])
def destination(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch) -> Iterator[str]:  # type: ignore[no-untyped-def]
    if request.param == "local":
        yield str(tmp_path / "backups")
        return
    with start_s3_server(buckets=["backup-bucket"]) as server:
        for key, value in server.env().items():
            monkeypatch.setenv(key, value)
        yield "s3://backup-bucket/backups"


def test_upload_keeps_the_newest_dumps_and_fetch_returns_them(
    destination: str, tmp_path: Path
) -> None:
    names = []
    for day in range(3):
        dump = tmp_path / f"dump-{day}"
        dump.write_bytes(f"dump of day {day}".encode() * 1000)
        names.append(
            upload(
                str(dump), destination, keep=2, now=1_700_000_000 + day * 86400, echo=lambda _: None
            )
        )
    assert list_backups(repo_for_uri(destination)) == names[1:]
    out = tmp_path / "restored"
    assert fetch(destination, "latest", str(out)) == names[2]
    assert out.read_bytes() == b"dump of day 2" * 1000
    assert fetch(destination, names[1], str(out)) == names[1]
    assert out.read_bytes() == b"dump of day 1" * 1000
    with pytest.raises(ResourceDoesNotExist):
        fetch(destination, names[0], str(out))
    with pytest.raises(InvalidParameterValue):
        fetch(destination, "../../etc/passwd", str(out))


def test_fetch_latest_from_an_empty_location_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ResourceDoesNotExist, match="No backups"):
        fetch(str(tmp_path / "none"), "latest", str(tmp_path / "out"))


def test_backup_commands(tmp_path: Path) -> None:
    dump = tmp_path / "runyard.dump"
    dump.write_bytes(b"PGDMP")
    backups = str(tmp_path / "backups")
    runner = CliRunner()
    stored = runner.invoke(main, ["backup", "upload", str(dump), "--to", backups, "--keep", "3"])
    assert stored.exit_code == 0 and "stored runyard-" in stored.output, stored.output
    out = tmp_path / "fetched.dump"
    fetched = runner.invoke(main, ["backup", "fetch", "latest", str(out), "--from", backups])
    assert fetched.exit_code == 0, fetched.output
    assert out.read_bytes() == b"PGDMP"
    refused = runner.invoke(main, ["backup", "upload", str(dump), "--to", backups, "--keep", "0"])
    assert refused.exit_code != 0 and "--keep" in refused.output
