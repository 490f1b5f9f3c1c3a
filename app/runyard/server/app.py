"""``create_app``: the tracking server as a Flask application, assembled from its parts."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from flask import Flask

from runyard.artifacts import repo_for_uri
from runyard.server.api import artifact_proxy, file_artifacts, imports
from runyard.server.api import datasets as api_datasets
from runyard.server.api import experiments as api_experiments
from runyard.server.api import logged_models as api_models
from runyard.server.api import metrics as api_metrics
from runyard.server.api import registry as api_registry
from runyard.server.api import run_artifacts as api_run_artifacts
from runyard.server.api import runs as api_runs
from runyard.server.auth import pages as auth_pages
from runyard.server.auth.install import install_auth
from runyard.server.errors import register_error_handlers
from runyard.server.limits import install_limits
from runyard.server.mount import MLFLOW_ARTIFACTS, MLFLOW_V2, MLFLOW_V3, RUNYARD, mount
from runyard.server.ops import routes as ops
from runyard.server.ops.logs import configure_logging, log_access
from runyard.server.ops.prom import RequestMetrics, install_metrics
from runyard.server.security import install_security
from runyard.server.settings import ServerConfig
from runyard.server.ui import api as ui_api
from runyard.server.ui import pages as ui_pages
from runyard.server.ui import registry as ui_registry
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
    register_error_handlers(
        app, page_blueprints=(ui_pages.bp.name, ui_registry.bp.name, auth_pages.bp.name)
    )
    app.url_map.converters["anypath"] = artifact_proxy.AnyPathConverter

    # MLflow's REST APIs, each under /api and /ajax-api.
    for blueprint in (
        api_experiments.bp,
        api_runs.bp,
        api_metrics.bp,
        api_models.bp,
        api_registry.bp,
        api_run_artifacts.bp,
        api_datasets.bp,
        file_artifacts.bp,  # the web UI's uploads and logged-model files
    ):
        mount(app, blueprint, MLFLOW_V2)
    mount(app, api_run_artifacts.server_info_bp, MLFLOW_V3)
    mount(app, artifact_proxy.bp, MLFLOW_ARTIFACTS)
    # runyard's own APIs: the UI's JSON twins and the importer's target.
    mount(app, ui_api.bp, RUNYARD)
    app.register_blueprint(imports.bp)
    # Routes at fixed paths: MLflow's /get-artifact and /model-versions/get-artifact, probes.
    app.register_blueprint(file_artifacts.root_bp)
    app.register_blueprint(api_registry.artifact_bp)
    app.register_blueprint(ops.bp)
    # The web UI's pages (accounts' pages come with install_auth).
    app.register_blueprint(ui_pages.bp)
    app.register_blueprint(ui_registry.bp)
    return app
