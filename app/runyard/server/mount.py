"""Where the server's REST blueprints live: MLflow serves every API under both ``/api`` and
``/ajax-api`` (its UI uses the second), so each API blueprint is mounted once per root, and the
path prefixes other parts check (security, the auth gate, the error handler) come from here."""

from __future__ import annotations

from flask import Blueprint, Flask

#: The two roots every REST API is served under.
API_ROOTS = ("/api", "/ajax-api")
#: The APIs, each under both roots.
MLFLOW_V2 = "2.0/mlflow"
MLFLOW_V3 = "3.0/mlflow"
MLFLOW_ARTIFACTS = "2.0/mlflow-artifacts"
RUNYARD = "2.0/runyard"
#: Paths under any API root start with one of these.
API_PATHS = tuple(f"{root}/" for root in API_ROOTS)


def prefixes(api: str) -> tuple[str, ...]:
    """The URL prefixes of one API (``MLFLOW_V2`` and the like), one per root."""
    return tuple(f"{root}/{api}" for root in API_ROOTS)


def mounted_names(blueprint: Blueprint) -> tuple[str, str]:
    """The names ``mount`` registers ``blueprint`` under: its own for ``/api``, and
    ``ajax_<name>`` for ``/ajax-api`` (Flask needs a distinct name per registration)."""
    return blueprint.name, f"ajax_{blueprint.name}"


def mount(app: Flask, blueprint: Blueprint, api: str) -> None:
    """Register ``blueprint`` under each root of ``api`` (``mounted_names`` says as what)."""
    for name, prefix in zip(mounted_names(blueprint), prefixes(api), strict=True):
        app.register_blueprint(blueprint, url_prefix=prefix, name=name)
