"""``create_app``: the tracking server as a Flask application, assembled from its parts."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from flask import Flask

from runyard.artifacts import repo_for_uri
from runyard.server.api import datasets as api_datasets
from runyard.server.api import experiments as api_experiments
from runyard.server.api import logged_models as api_models
from runyard.server.api import metrics as api_metrics
from runyard.server.api import registry as api_registry
from runyard.server.api import run_artifacts as api_run_artifacts
from runyard.server.api import runs as api_runs
from runyard.server.api.common import register_api
from runyard.server.auth.install import install_auth
from runyard.server.errors import register_error_handlers
from runyard.server.limits import install_limits
from runyard.server.ops import routes as ops
from runyard.server.ops.logs import configure_logging, log_access
from runyard.server.ops.prom import RequestMetrics, install_metrics
from runyard.server.security import install_security
from runyard.server.settings import ServerConfig
from runyard.store import store_for_uri

log = logging.getLogger("runyard.server")


def _artifact_repo(cfg: ServerConfig):
    """The repository behind ``mlflow-artifacts:/``, or None when not serving artifacts."""
    if not cfg.serve_artifacts:
        return None
    try:
        return repo_for_uri(cfg.artifacts_destination)
    except ImportError as exc:
        log.warning("artifact serving unavailable: %s", exc)
        return None


def _register_optional(app: Flask, module: str, **options: str) -> None:
    """Blueprints that live in optional modules (artifact proxy, UI)."""
    try:
        imported = __import__(module, fromlist=["bp"])
    except ImportError as exc:
        if exc.name and module.startswith(exc.name):
            return
        raise
    app.register_blueprint(imported.bp, **options)


def _register_file_artifacts(app: Flask) -> None:
    """``/get-artifact``, UI uploads and logged-model files (they reuse the artifact proxy's
    path checks and download headers)."""
    from runyard.server.api import file_artifacts as api_file_artifacts

    app.register_blueprint(api_file_artifacts.root_bp)
    register_api(app, api_file_artifacts.bp)


def create_app(settings: Mapping[str, object | None] | None = None) -> Flask:
    """The server app. ``settings`` overrides server settings by name (as CLI flags do)."""
    cfg = ServerConfig.resolve(settings)
    configure_logging(cfg.json_logs, cfg.log_level)
    app = Flask("runyard.server")
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.config["RUNYARD_SERVER_CONFIG"] = cfg
    app.config["RUNYARD_STORE"] = store_for_uri(cfg.backend_store_uri, cfg.artifact_root_for_store)
    app.config["RUNYARD_ARTIFACT_REPO"] = _artifact_repo(cfg)
    app.config["RUNYARD_METRICS"] = metrics = RequestMetrics()
    app.config["MAX_CONTENT_LENGTH"] = max(cfg.max_request_bytes, cfg.max_artifact_bytes)

    install_metrics(app, metrics, on_done=log_access)
    install_security(app, cfg)
    install_auth(app, cfg)
    install_limits(app)
    register_error_handlers(app)

    for module in (
        api_experiments,
        api_runs,
        api_metrics,
        api_models,
        api_registry,
        api_run_artifacts,
        api_datasets,
    ):
        register_api(app, module.bp)
    app.register_blueprint(api_registry.artifact_bp)
    for prefix in ("/api/3.0/mlflow", "/ajax-api/3.0/mlflow"):
        name = "server_info" if prefix.startswith("/api") else "ajax_server_info"
        app.register_blueprint(api_run_artifacts.server_info_bp, url_prefix=prefix, name=name)
    app.register_blueprint(ops.bp)
    _register_optional(app, "runyard.server.api.artifact_proxy")
    _register_optional(app, "runyard.server.api.imports")
    _register_file_artifacts(app)
    _register_optional(app, "runyard.server.ui.pages")
    _register_optional(app, "runyard.server.ui.registry")
    return app
