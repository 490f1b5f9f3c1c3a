"""The ``runyard`` command: ``server``, ``ui``, ``db upgrade``, ``sync``, ``import``.

Flags override ``RUNYARD_*`` environment variables, which override MLflow's ``MLFLOW_*`` names,
which override defaults; a flag left out is passed as None so the next layer decides.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from runyard.errors import RunyardError
from runyard.server.ops import runyard_version
from runyard.server.settings import SERVER_SETTINGS

_HELP = {s.name: s for s in SERVER_SETTINGS}


def _help(name: str) -> str:
    setting = _HELP[name]
    env = setting.env_var + (f" or {setting.mlflow_name}" if setting.mlflow_name else "")
    default = f" Default: {setting.default}." if setting.default is not None else ""
    return f"{setting.help}{default} Env: {env}."


def _opt(flag: str, name: str, **kwargs: Any):
    return click.option(flag, name, default=None, show_default=False, help=_help(name), **kwargs)


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
@_opt("--host", "host")
@_opt("--port", "port", type=int)
@_opt("--workers", "workers", type=int)
@_opt("--threads", "threads", type=int)
@_opt("--allowed-hosts", "allowed_hosts")
@_opt("--cors-allowed-origins", "cors_allowed_origins")
@_opt("--max-request-bytes", "max_request_bytes", type=int)
@_opt("--max-artifact-bytes", "max_artifact_bytes", type=int)
@_opt("--graceful-timeout", "graceful_timeout", type=int)
@_opt("--gunicorn-timeout", "gunicorn_timeout", type=int)
@_opt("--gunicorn-opts", "gunicorn_opts")
@click.option("--json-logs/--text-logs", "json_logs", default=None, help=_help("json_logs"))
@_opt("--log-level", "log_level")
@click.option("--dev", is_flag=True, help="Use Flask's development server (one process).")
def server(dev: bool, **settings: Any) -> None:
    """Run the tracking server (gunicorn, gthread workers)."""
    from runyard.server.serve import run_dev, run_gunicorn

    if settings.get("serve_artifacts") is not None:
        settings["serve_artifacts"] = "true" if settings["serve_artifacts"] else "false"
    if settings.get("json_logs") is not None:
        settings["json_logs"] = "true" if settings["json_logs"] else "false"
    _run(run_dev if dev else run_gunicorn, settings)


@main.command()
@click.option(
    "--backend-store-uri",
    default="./mlruns",
    show_default=True,
    help="Where runs are recorded.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=int, help="Port to listen on.")
def ui(backend_store_uri: str, host: str, port: int) -> None:
    """Browse local runs: the server on ./mlruns, one worker, on 127.0.0.1:5000."""
    from runyard.server.serve import run_gunicorn

    click.echo(f"runyard UI on http://{host}:{port} (store: {backend_store_uri})", err=True)
    settings = {
        "backend_store_uri": backend_store_uri,
        "host": host,
        "port": port,
        "workers": 1,
        # One person on one machine: runs keep local artifact URIs, so the UI and local
        # scripts read the same files, as with MLflow's file store.
        "serve_artifacts": "false",
    }
    _run(run_gunicorn, settings)


def _run(function: Any, settings: dict[str, Any]) -> None:
    try:
        function(settings)
    except RunyardError as exc:
        raise click.ClickException(exc.message) from None


@main.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@click.argument("uri")
def db_upgrade(uri: str) -> None:
    """Create or migrate the tracking tables of the database at URI to the latest schema."""
    from runyard.store.sql.migrate import upgrade_database

    try:
        upgrade_database(uri)
    except RunyardError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"Database at {_redact(uri)} is up to date.")


def _redact(uri: str) -> str:
    """A URI without its password, for messages."""
    scheme, sep, rest = uri.partition("://")
    if sep and "@" in rest:
        credentials, _, host = rest.rpartition("@")
        user = credentials.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}"
    return uri


@main.command()
@click.option("--tracking-uri", default=None, help="Only the spool of this server.")
@click.option("--spool-dir", default=None, help="Spool directory (default: setting spool_dir).")
def sync(tracking_uri: str | None, spool_dir: str | None) -> None:
    """Send writes spooled while the tracking server was unreachable."""
    from runyard.tracking.spool import sync_command

    sys.exit(sync_command(tracking_uri=tracking_uri, spool_dir=spool_dir, echo=click.echo))


def _register_import() -> None:
    from runyard.importer.cli import import_command

    main.add_command(import_command)


_register_import()

if __name__ == "__main__":  # pragma: no cover
    main()
