"""``runyard import --from <MLflow> --to <runyard store>``."""

from __future__ import annotations

import sys
from urllib.parse import urlparse

import click

from runyard.errors import RunyardError
from runyard.importer.artifacts import ArtifactCopier
from runyard.importer.records import ImportRefused, Source, Target
from runyard.importer.runner import run_import
from runyard.importer.target_sql import SqlTarget

SQL_SCHEMES = ("sqlite", "postgresql", "postgres", "mysql", "mssql")


def _scheme(uri: str) -> str:
    scheme = urlparse(uri).scheme.lower()
    return "" if len(scheme) <= 1 else scheme.split("+", 1)[0]


def open_source(uri: str) -> Source:
    """The reader for ``uri``: an MLflow database, server or ``mlruns`` directory."""
    scheme = _scheme(uri)
    if scheme in ("http", "https"):
        from runyard.importer.source_store import StoreSource
        from runyard.store.rest import RestStore

        return StoreSource(RestStore(uri), uri)
    if scheme in SQL_SCHEMES:
        from runyard.importer.source_sql import MlflowSqlSource

        return MlflowSqlSource(uri)
    if scheme in ("", "file"):
        from runyard.importer.source_files import MlflowFileSource

        return MlflowFileSource(uri)
    raise ImportRefused(f"Cannot import from {uri!r}: not a database, server or directory URI.")


def open_target(uri: str) -> Target:
    """The writer for ``uri``: a runyard SQL database, or a runyard server's import routes."""
    if _scheme(uri) in ("http", "https"):
        from runyard.importer.target_rest import RestTarget

        return RestTarget(uri)
    if _scheme(uri) not in SQL_SCHEMES:
        raise ImportRefused(
            f"Cannot import into {uri!r}: the target must be a runyard SQL database "
            "(sqlite:///… or postgresql://…), for instance the --backend-store-uri of the "
            "runyard server, or a runyard server's URL (http(s)://…) whose store is one, "
            "because only there can runs keep their ids."
        )
    from runyard.store import store_for_uri
    from runyard.store.sql.store import SqlStore

    store = store_for_uri(uri)
    assert isinstance(store, SqlStore)
    return SqlTarget(store)


@click.command("import")
@click.option(
    "--from",
    "source_uri",
    required=True,
    help="MLflow database URI, server URL or mlruns directory.",
)
@click.option(
    "--to",
    "target_uri",
    required=True,
    help="runyard SQL database URI, or a runyard server URL (its store must be SQL).",
)
@click.option("--dry-run", is_flag=True, help="Only count what would be imported.")
@click.option("--no-verify", is_flag=True, help="Skip comparing counts and checksums per run.")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@click.option(
    "--copy-artifacts",
    "copy_to",
    default=None,
    help="Copy artifacts to this artifact root (directory, file:// or s3:// URI) and point "
    "the imported runs, experiments and logged models there.",
)
@click.option(
    "--source-artifacts-destination",
    default=None,
    help="The old MLflow server's --artifacts-destination, to read mlflow-artifacts:/ URIs "
    "when not importing through its REST API.",
)
def import_command(
    source_uri: str,
    target_uri: str,
    dry_run: bool,
    no_verify: bool,
    no_progress: bool,
    copy_to: str | None,
    source_artifacts_destination: str | None,
) -> None:
    """Copy an MLflow deployment into runyard, keeping ids; safe to run again after a stop.

    Experiments, runs, params, tags, whole metric histories, dataset inputs, logged models,
    registered models and their versions move; artifacts stay where they are (their URIs are
    kept) unless --copy-artifacts.
    """
    try:
        source = open_source(source_uri)
        target = None if dry_run else open_target(target_uri)
        copier = None
        if copy_to:
            server = source_uri if _scheme(source_uri) in ("http", "https") else None
            copier = ArtifactCopier(copy_to, server, source_artifacts_destination)
        try:
            report = run_import(
                source,
                target,
                dry_run=dry_run,
                verify=not no_verify,
                progress=not no_progress,
                echo=click.echo,
                copier=copier,
            )
        finally:
            source.close()
            if target is not None:
                target.close()
    except RunyardError as exc:
        raise click.ClickException(exc.message) from None
    sys.exit(1 if report.differences else 0)
