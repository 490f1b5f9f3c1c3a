"""Operations endpoints: liveness, readiness, Prometheus metrics, version.

``/health`` touches nothing, so a slow database never gets a healthy pod killed. ``/ready``
means "can serve tracking": it checks the store and the artifact destination with short
timeouts, but only the store decides. Logging params and metrics needs only the store, so an
artifact store outage keeps the pod in the Service; artifact calls answer 503 with
``Retry-After`` meanwhile, and the outage shows in ``/ready``'s body and in ``/metrics``
(``runyard_artifact_store_up``).
"""

from __future__ import annotations

import concurrent.futures
import logging
import re
import time
from collections.abc import Callable

from flask import Blueprint, Response, current_app, jsonify

from runyard.errors import RunyardError
from runyard.server.errors import RETRY_AFTER_SECONDS
from runyard.server.ops.prom import RequestMetrics
from runyard.version import runyard_version

bp = Blueprint("ops", __name__)
log = logging.getLogger("runyard.server")

READY_TIMEOUT_SECONDS = 3.0
_checks = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="ready")


#: The MLflow server version whose client-gated features runyard serves. MLflow's client reads
#: ``/version`` and turns features on by it; the first one runyard does not serve is span
#: logging (tracing, gated on 3.4), so runyard answers the last level below it.
MLFLOW_API_LEVEL = "3.3.0"


def server_version() -> str:
    """``/version``: the MLflow API level, with runyard's own version as the PEP 440 local
    part (``3.3.0+runyard.0.1.0``), so MLflow's client parses it and people can read it."""
    local = re.sub(r"[^A-Za-z0-9]+", ".", runyard_version()).strip(".")
    return f"{MLFLOW_API_LEVEL}+runyard.{local}"


def _run_checks(checks: dict[str, Callable[[], object]]) -> dict[str, str | None]:
    """Run the checks at once; per name None when it succeeds in time, else a short reason."""
    futures = {name: _checks.submit(check) for name, check in checks.items()}
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    results: dict[str, str | None] = {}
    for name, future in futures.items():
        try:
            future.result(timeout=max(0.0, deadline - time.monotonic()))
            results[name] = None
        except concurrent.futures.TimeoutError:
            results[name] = f"no answer within {READY_TIMEOUT_SECONDS:.0f}s"
        except RunyardError as exc:
            results[name] = exc.message
        except Exception as exc:
            log.warning("readiness check %s failed: %r", name, exc)
            results[name] = type(exc).__name__
    return results


def dependency_problems() -> dict[str, str | None]:
    """The store's and the artifact destination's state: None when reachable, else why not."""
    store = current_app.config["RUNYARD_STORE"]
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def artifacts() -> None:
        with app.app_context():
            _check_artifacts()

    return _run_checks({"store": store.check_ready, "artifacts": artifacts})


def _check_artifacts() -> None:
    repo = current_app.config.get("RUNYARD_ARTIFACT_REPO")
    if repo is None:
        return
    check = getattr(repo, "check_ready", None)
    if callable(check):
        check()
    else:
        repo.list_artifacts(None)


@bp.get("/health")
def health() -> Response:
    return Response("OK", mimetype="text/plain")


@bp.get("/ready")
def ready() -> Response:
    problems = dependency_problems()
    checks = {name: problem or "ok" for name, problem in problems.items()}
    if problems["store"]:
        response = jsonify(
            {
                "error_code": "TEMPORARILY_UNAVAILABLE",
                "message": f"Not ready: store: {problems['store']}",
                "checks": checks,
            }
        )
        response.status_code = 503
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return jsonify({"status": "ready", "checks": checks})


def _pool_gauges() -> dict[str, float]:
    """Connection-pool numbers: ``pool_stats()`` if the store has it, else its engine's pool."""
    store = current_app.config["RUNYARD_STORE"]
    try:
        stats = getattr(store, "pool_stats", None)
        if callable(stats):
            return {f"runyard_db_pool_{k}": float(v) for k, v in stats().items()}
        engine = getattr(store, "engine", None) or getattr(store, "_engine", None)
        pool = getattr(engine, "pool", None)
        if pool is None or not hasattr(pool, "checkedout"):
            return {}
        return {
            "runyard_db_pool_size": float(pool.size()),
            "runyard_db_pool_checked_out": float(pool.checkedout()),
            "runyard_db_pool_checked_in": float(pool.checkedin()),
            "runyard_db_pool_overflow": float(pool.overflow()),
        }
    except Exception:
        return {}


@bp.get("/metrics")
def metrics() -> Response:
    registry: RequestMetrics = current_app.config["RUNYARD_METRICS"]
    problems = dependency_problems()
    gauges = {
        **_pool_gauges(),
        "runyard_store_up": 0.0 if problems["store"] else 1.0,
        "runyard_artifact_store_up": 0.0 if problems["artifacts"] else 1.0,
    }
    return Response(registry.render(gauges), mimetype="text/plain; version=0.0.4")


@bp.get("/version")
def version() -> Response:
    response = Response(server_version(), mimetype="text/plain")
    response.headers["X-Runyard-Version"] = runyard_version()
    return response
