"""``runyard backup``: database dumps kept in the artifact store, with retention.

``pg_dump --format=custom`` writes the dump (the backup CronJob runs it from the PostgreSQL
image); ``runyard backup upload`` puts it under a backups location (``s3://bucket/backups`` or
a directory) as ``runyard-<UTC time>.dump`` and keeps only the newest ``--keep`` dumps;
``runyard backup fetch`` brings one back for ``pg_restore`` (docs/deploy.md, "Backups").
Any artifact repository works, so the same code serves S3 and local directories.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import click

from runyard.artifacts import ArtifactRepo, repo_for_uri
from runyard.errors import InvalidParameterValue, ResourceDoesNotExist, RunyardError

_NAME = re.compile(r"^runyard-\d{8}T\d{6}Z\.dump$")


def backup_name(now: float | None = None) -> str:
    """``runyard-YYYYmmddTHHMMSSZ.dump``: names sort by time."""
    return time.strftime("runyard-%Y%m%dT%H%M%SZ.dump", time.gmtime(now))


def list_backups(repo: ArtifactRepo) -> list[str]:
    """The dumps under the backups location, oldest first."""
    return sorted(f.path for f in repo.list_artifacts(None) if not f.is_dir and _NAME.match(f.path))


def upload(
    path: str,
    destination: str,
    keep: int,
    now: float | None = None,
    echo: Callable[[str], None] = print,
) -> str:
    """Store the dump at ``path`` under ``destination``, then remove all but the newest
    ``keep`` dumps; return the new dump's name. A dump is never removed before the new one is
    stored."""
    if keep < 1:
        raise InvalidParameterValue("--keep must be at least 1")
    repo = repo_for_uri(destination)
    name = backup_name(now)
    with open(path, "rb") as stream:
        size = repo.write_stream(name, stream)
    echo(f"stored {name} ({size} bytes) in {destination}")
    for old in list_backups(repo)[:-keep]:
        repo.delete_artifacts(old)
        echo(f"removed {old} (keeping the newest {keep})")
    return name


def fetch(source: str, name: str, path: str) -> str:
    """Write dump ``name`` (or the newest, for ``latest``) from ``source`` to ``path``."""
    repo = repo_for_uri(source)
    if name == "latest":
        backups = list_backups(repo)
        if not backups:
            raise ResourceDoesNotExist(f"No backups in {source}")
        name = backups[-1]
    elif not _NAME.match(name):
        raise InvalidParameterValue(f"Not a backup name: {name!r} (runyard-<time>.dump)")
    with open(path, "wb") as out:
        for chunk in repo.open_stream(name):
            out.write(chunk)
    return name


@click.group("backup")
def backup_command() -> None:
    """Database dumps in the artifact store (made with pg_dump --format=custom)."""


@backup_command.command("upload")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--to", "destination", required=True, help="s3://bucket/backups or a directory.")
@click.option("--keep", default=14, show_default=True, help="Newest dumps to keep.")
def upload_command(path: str, destination: str, keep: int) -> None:
    """Store the dump at PATH and remove all but the newest --keep dumps."""
    try:
        upload(path, destination, keep, echo=click.echo)
    except RunyardError as exc:
        raise click.ClickException(exc.message) from None


@backup_command.command("fetch")
@click.argument("name")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--from", "source", required=True, help="s3://bucket/backups or a directory.")
def fetch_command(name: str, path: str, source: str) -> None:
    """Write dump NAME (or `latest`) to PATH, for pg_restore."""
    try:
        fetched = fetch(source, name, path)
    except RunyardError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"wrote {fetched} to {path}")
