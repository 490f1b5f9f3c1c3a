"""The tracking server's settings (declared in ``runyard.settings_catalog``), read once.

``ServerConfig.resolve(overrides)`` reads each one (CLI flag, then ``RUNYARD_*``, then MLflow's
``MLFLOW_*`` name, then the default) once at start-up, so the rest of the server only sees a
typed, validated object.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from runyard import config
from runyard.errors import InvalidParameterValue
from runyard.locations import parse_roots
from runyard.server.auth.settings import AuthConfig
from runyard.settings_catalog import AUTH, SERVER

_SETTING_NAMES = tuple(s.name for s in (*SERVER, *AUTH))


def _csv(value: str | None) -> tuple[str, ...]:
    return tuple(item.strip() for item in (value or "").split(",") if item.strip())


def _artifact_roots(value: str | None) -> tuple[str, ...]:
    """The extra artifact roots, checked now so a typo stops the server at start-up."""
    patterns = _csv(value)
    parse_roots(patterns)
    return patterns


def _port(overrides: Mapping[str, object | None]) -> int:
    """The port; a Kubernetes service link (``tcp://10.0.0.1:5000``) in the env is ignored."""
    if "://" in (config.get("port", overrides) or ""):
        return int(config.default("port") or 0)
    return config.get_int("port", overrides)


@dataclass(frozen=True)
class ServerConfig:
    backend_store_uri: str
    default_artifact_root: str | None
    artifacts_destination: str
    serve_artifacts: bool
    allowed_artifact_locations: tuple[str, ...]
    host: str
    port: int
    workers: int
    threads: int
    allowed_hosts: tuple[str, ...]
    cors_allowed_origins: tuple[str, ...]
    max_request_bytes: int
    max_artifact_bytes: int
    graceful_timeout: int
    client_timeout: int
    gunicorn_timeout: int
    gunicorn_opts: str | None
    json_logs: bool
    log_level: str
    auth: AuthConfig

    @classmethod
    def resolve(cls, overrides: Mapping[str, object | None] | None = None) -> ServerConfig:
        """Read every server setting: overrides, then RUNYARD_*, then MLFLOW_*, then default."""
        overrides = dict(overrides or {})
        unknown = set(overrides) - set(_SETTING_NAMES)
        if unknown:
            raise InvalidParameterValue(f"Unknown server settings: {sorted(unknown)}")

        def text(name: str) -> str:
            return config.get_text(name, overrides) or ""

        def optional(name: str) -> str | None:
            return config.get_text(name, overrides)

        def count(name: str) -> int:
            return config.get_int(name, overrides)

        return cls(
            backend_store_uri=text("backend_store_uri"),
            default_artifact_root=optional("default_artifact_root"),
            artifacts_destination=text("artifacts_destination"),
            serve_artifacts=config.get_bool("serve_artifacts", overrides),
            allowed_artifact_locations=_artifact_roots(optional("allowed_artifact_locations")),
            host=text("host"),
            port=_port(overrides),
            workers=max(1, count("workers")),
            threads=max(1, count("threads")),
            allowed_hosts=_csv(optional("allowed_hosts")),
            cors_allowed_origins=_csv(optional("cors_allowed_origins")),
            max_request_bytes=count("max_request_bytes"),
            max_artifact_bytes=count("max_artifact_bytes"),
            graceful_timeout=count("graceful_timeout"),
            client_timeout=max(1, count("client_timeout")),
            gunicorn_timeout=count("gunicorn_timeout"),
            gunicorn_opts=optional("gunicorn_opts"),
            json_logs=config.get_bool("json_logs", overrides),
            log_level=text("log_level").upper(),
            auth=AuthConfig.resolve(overrides),
        )

    @property
    def artifact_root_for_store(self) -> str | None:
        """What the store uses as the root of new experiments' artifact locations, as MLflow
        decides it: ``--default-artifact-root`` when given, else the proxy when serving
        artifacts; None lets a file store keep artifacts in each experiment's own directory
        (and a SQL store use ./mlruns)."""
        if self.default_artifact_root:
            return self.default_artifact_root
        return "mlflow-artifacts:/" if self.serve_artifacts else None
