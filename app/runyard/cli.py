"""The ``runyard`` command: ``server``, ``ui``, ``db upgrade``, ``sync``, ``gc``, ``backup``,
``models diff``, ``users``, ``tokens``, ``import``.

Flags override ``RUNYARD_*`` environment variables, which override MLflow's ``MLFLOW_*`` names,
which override defaults; a flag left out is passed as None so the next layer decides.
"""

from __future__ import annotations

import sys
from typing import Any
from urllib.parse import urlparse

import click

from runyard import config
from runyard.errors import RunyardError
from runyard.locations import shown
from runyard.settings_catalog import AUTH, SERVER
from runyard.version import runyard_version

_HELP = {s.name: s for s in (*SERVER, *AUTH)}


def _help(name: str) -> str:
    setting = _HELP[name]
    env = setting.env_var + (f" or {setting.mlflow_name}" if setting.mlflow_name else "")
    default = f" Default: {setting.default}." if setting.default is not None else ""
    return f"{setting.help}{default} Env: {env}."


def _opt(flag: str, name: str, **kwargs: Any):
    return click.option(flag, name, default=None, show_default=False, help=_help(name), **kwargs)


SERVER_EXTRA_HINT = "the server needs the server extra: pip install 'runyard[server]'"


def _serving(name: str) -> Any:
    """A function of ``runyard.server.serve``, or a clear error on a client-only install."""
    try:
        from runyard.server import serve
    except ImportError as exc:
        if exc.name and exc.name.split(".")[0] in ("flask", "gunicorn", "werkzeug"):
            raise click.ClickException(f"{SERVER_EXTRA_HINT} ({exc.name} is missing)") from None
        raise
    return getattr(serve, name)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(runyard_version(), "--version", prog_name="runyard")
def main() -> None:
    """runyard: experiment tracking with an MLflow-compatible server."""


@main.command()
@_opt("--backend-store-uri", "backend_store_uri")
@_opt("--default-artifact-root", "default_artifact_root")
@_opt("--artifacts-destination", "artifacts_destination")
@click.option(
    "--serve-artifacts/--no-serve-artifacts",
    "serve_artifacts",
    default=None,
    help=_help("serve_artifacts"),
)
@_opt("--allowed-artifact-locations", "allowed_artifact_locations")
@_opt("--host", "host")
@_opt("--port", "port", type=int)
@_opt("--workers", "workers", type=int)
@_opt("--threads", "threads", type=int)
@_opt("--allowed-hosts", "allowed_hosts")
@_opt("--cors-allowed-origins", "cors_allowed_origins")
@_opt("--max-request-bytes", "max_request_bytes", type=int)
@_opt("--max-artifact-bytes", "max_artifact_bytes", type=int)
@_opt("--graceful-timeout", "graceful_timeout", type=int)
@_opt("--client-timeout", "client_timeout", type=int)
@_opt("--gunicorn-timeout", "gunicorn_timeout", type=int)
@_opt("--gunicorn-opts", "gunicorn_opts")
@click.option("--json-logs/--text-logs", "json_logs", default=None, help=_help("json_logs"))
@_opt("--log-level", "log_level")
@click.option("--auth/--no-auth", "auth", default=None, help=_help("auth"))
@_opt("--auth-database-uri", "auth_database_uri")
@_opt("--auth-default-permission", "auth_default_permission")
@click.option(
    "--auth-metrics-open/--auth-metrics-closed",
    "auth_metrics_open",
    default=None,
    help=_help("auth_metrics_open"),
)
@click.option("--dev", is_flag=True, help="Use Flask's development server (one process).")
def server(dev: bool, **settings: Any) -> None:
    """Run the tracking server (gunicorn, gthread workers)."""
    run_dev, run_gunicorn = _serving("run_dev"), _serving("run_gunicorn")

    for flag in ("serve_artifacts", "json_logs", "auth", "auth_metrics_open"):
        if settings.get(flag) is not None:
            settings[flag] = "true" if settings[flag] else "false"
    _run(run_dev if dev else run_gunicorn, settings)


@main.command()
@click.option(
    "--backend-store-uri",
    default="./mlruns",
    show_default=True,
    help="Where runs are recorded.",
)
@click.option(
    "--default-artifact-root",
    default=None,
    help="Where new experiments keep their artifacts, and the root the UI may read them from. "
    "Default: the store's own directory for a directory store, else ./mlruns.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=int, help="Port to listen on.")
def ui(backend_store_uri: str, default_artifact_root: str | None, host: str, port: int) -> None:
    """Browse local runs: the server on ./mlruns, one worker, on 127.0.0.1:5000."""
    run_gunicorn = _serving("run_gunicorn")

    artifact_root = default_artifact_root or local_artifact_root(backend_store_uri)
    click.echo(
        f"runyard UI on http://{host}:{port} (store: {shown(backend_store_uri)}, "
        f"artifacts: {shown(artifact_root)})",
        err=True,
    )
    settings = {
        "backend_store_uri": backend_store_uri,
        "default_artifact_root": artifact_root,
        "host": host,
        "port": port,
        "workers": 1,
        # One person on one machine: runs keep local artifact URIs, so the UI and local
        # scripts read the same files, as with MLflow's file store.
        "serve_artifacts": "false",
    }
    _run(run_gunicorn, settings)


def local_artifact_root(backend_store_uri: str) -> str:
    """The artifact root of a local store, as a ``file:`` URI: a directory store keeps
    artifacts inside its own directory (``<root>/<experiment>/<run>/artifacts``), as MLflow's
    file store does; a database keeps them under ./mlruns, as ``mlflow ui`` does."""
    from runyard.store import DEFAULT_ARTIFACT_ROOT
    from runyard.uris import local_path_from_uri, path_to_file_uri

    scheme = urlparse(backend_store_uri).scheme.lower()
    is_directory = len(scheme) <= 1 or scheme == "file"
    root = backend_store_uri if is_directory else DEFAULT_ARTIFACT_ROOT
    return path_to_file_uri(local_path_from_uri(root))


def _run(function: Any, settings: dict[str, Any]) -> None:
    try:
        function(settings)
    except RunyardError as exc:
        raise click.ClickException(exc.message) from None


@main.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@click.argument("uri", required=False)
@click.option("--auth", is_flag=True, help="Also the account tables of `runyard server --auth`.")
def db_upgrade(uri: str | None, auth: bool) -> None:
    """Create or migrate the tracking tables of the database at URI (default: the setting
    backend_store_uri, so the URI can stay out of the command line) to the latest schema."""
    from runyard.store.sql.migrate import upgrade_database

    uri = uri or config.get_text("backend_store_uri") or ""
    try:
        upgrade_database(uri)
        if auth:
            from runyard.auth.store import AUTH_CHAIN

            upgrade_database(uri, AUTH_CHAIN)
    except RunyardError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"Database at {shown(uri)} is up to date.")


@main.command()
@click.option("--tracking-uri", default=None, help="Only the spool of this server.")
@click.option("--spool-dir", default=None, help="Spool directory (default: setting spool_dir).")
def sync(tracking_uri: str | None, spool_dir: str | None) -> None:
    """Send writes spooled while the tracking server was unreachable."""
    from runyard.store.spool.spool import sync_command

    sys.exit(sync_command(tracking_uri=tracking_uri, spool_dir=spool_dir, echo=click.echo))


@main.group()
def models() -> None:
    """The model registry."""


@models.command("diff")
@click.argument("name")
@click.argument("version_a")
@click.argument("version_b")
@click.option("--tracking-uri", default=None, help="Default: the tracking URI setting.")
@click.option("--json", "as_json", is_flag=True, help="Print the differences as JSON.")
def models_diff(
    name: str, version_a: str, version_b: str, tracking_uri: str | None, as_json: bool
) -> None:
    """What differs between two versions of model NAME: params and metrics of their runs,
    their signatures and their files."""
    import json

    from runyard.registry.diff import diff_versions, render_diff
    from runyard.tracking.client import Client

    try:
        diff = diff_versions(Client(tracking_uri), name, version_a, version_b)
    except RunyardError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(json.dumps(diff, indent=2) if as_json else render_diff(diff))


def _register_commands() -> None:
    """Commands that live in modules of their own."""
    from runyard.backup import backup_command
    from runyard.gc import gc_command
    from runyard.importer.cli import import_command
    from runyard.server.auth.commands import tokens, users

    main.add_command(gc_command)
    main.add_command(backup_command)
    main.add_command(users)
    main.add_command(tokens)
    main.add_command(import_command)


_register_commands()

if __name__ == "__main__":  # pragma: no cover
    main()
