"""The tracking server's settings, as data, registered into ``runyard.config``.

``ServerConfig.resolve(overrides)`` reads each one (CLI flag, then ``RUNYARD_*``, then MLflow's
``MLFLOW_*`` name, then the default) once at start-up, so the rest of the server only sees a
typed, validated object.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from runyard import config
from runyard.config import Setting
from runyard.errors import InvalidParameterValue
from runyard.locations import parse_roots
from runyard.server.auth.settings import AUTH_SETTINGS, AuthConfig

SERVER_SETTINGS: tuple[Setting, ...] = (
    Setting(
        "backend_store_uri",
        "./mlruns",
        "Where the server keeps runs: a directory or file: URI (default ./mlruns), "
        "sqlite:///path.db or postgresql://user:pass@host/db.",
        "MLFLOW_BACKEND_STORE_URI",
    ),
    Setting(
        "default_artifact_root",
        None,
        "Artifact root for new experiments; clients write there directly (e.g. s3://bucket/path, "
        "sftp://user@host/path). Default: mlflow-artifacts:/ (the proxy) when the server serves "
        "artifacts, else ./mlruns.",
        "MLFLOW_DEFAULT_ARTIFACT_ROOT",
    ),
    Setting(
        "artifacts_destination",
        "./mlartifacts",
        "Where the server stores artifacts it proxies (a directory or s3://bucket/prefix).",
        "MLFLOW_ARTIFACTS_DESTINATION",
    ),
    Setting(
        "serve_artifacts",
        "true",
        "Proxy artifact uploads and downloads through the server (mlflow-artifacts:/ URIs).",
        "MLFLOW_SERVE_ARTIFACTS",
    ),
    Setting(
        "allowed_artifact_locations",
        None,
        "Comma-separated extra roots clients may choose as an experiment's artifact_location, "
        "e.g. 's3://team-bucket/*,file:/data/shared/*' (a trailing * means everything below). "
        "Default: none beyond the proxy, the artifacts destination and the default artifact "
        "root.",
    ),
    Setting("host", "127.0.0.1", "Address the server listens on.", "MLFLOW_HOST"),
    Setting("port", "5000", "Port the server listens on.", "MLFLOW_PORT"),
    Setting("workers", "4", "Number of server worker processes.", "MLFLOW_WORKERS"),
    Setting(
        "threads",
        "8",
        "Threads per worker process (requests served concurrently by each worker).",
    ),
    Setting(
        "allowed_hosts",
        None,
        "Comma-separated Host header values accepted (DNS-rebinding protection); wildcards like "
        "*.example.com allowed, * disables the check. Default: localhost, the bound host, "
        "single-label names, *.svc and *.svc.cluster.local; loopback and private IP addresses "
        "are always accepted.",
        "MLFLOW_SERVER_ALLOWED_HOSTS",
    ),
    Setting(
        "cors_allowed_origins",
        None,
        "Comma-separated origins allowed to call the API from a browser (* for any). Default: "
        "none, so other sites cannot write through a visitor's browser.",
        "MLFLOW_SERVER_CORS_ALLOWED_ORIGINS",
    ),
    Setting(
        "max_request_bytes",
        str(16 * 1024 * 1024),
        "Largest JSON request body accepted, in bytes (413 beyond).",
    ),
    Setting(
        "max_artifact_bytes",
        str(5 * 1024 * 1024 * 1024),
        "Largest artifact upload accepted through the proxy, in bytes (413 beyond).",
    ),
    Setting(
        "graceful_timeout",
        "30",
        "Seconds a worker gets to finish in-flight requests after SIGTERM.",
    ),
    Setting(
        "gunicorn_timeout",
        "120",
        "Seconds a request may take before gunicorn restarts its worker.",
    ),
    Setting(
        "gunicorn_opts",
        None,
        "Extra gunicorn command-line options, e.g. '--keep-alive 5'.",
        "MLFLOW_GUNICORN_OPTS",
    ),
    Setting("json_logs", "false", "Write server logs as one JSON object per line."),
    Setting("log_level", "INFO", "Server log level (DEBUG, INFO, WARNING, ERROR)."),
)

# Auth settings are server settings too, but only some are flags (no password on a command line).
config.register(*SERVER_SETTINGS, *AUTH_SETTINGS)

_SETTING_NAMES = tuple(s.name for s in (*SERVER_SETTINGS, *AUTH_SETTINGS))


def _csv(value: str | None) -> tuple[str, ...]:
    return tuple(item.strip() for item in (value or "").split(",") if item.strip())


def _artifact_roots(value: str | None) -> tuple[str, ...]:
    """The extra artifact roots, checked now so a typo stops the server at start-up."""
    patterns = _csv(value)
    parse_roots(patterns)
    return patterns


def _port(value: str | None) -> int:
    """The port; a Kubernetes service link (``tcp://10.0.0.1:5000``) in the env is ignored."""
    if value and "://" in value:
        return int(_default("port"))
    return _int("port", value)


def _default(name: str) -> str:
    return next(s.default for s in SERVER_SETTINGS if s.name == name) or ""


def _int(name: str, value: str | None) -> int:
    try:
        return int(value or _default(name))
    except ValueError:
        raise InvalidParameterValue(f"Setting {name!r} must be an integer, got {value!r}") from None


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

        def get(name: str) -> str | None:
            return config.get(name, overrides)

        return cls(
            backend_store_uri=get("backend_store_uri") or "./mlruns",
            default_artifact_root=get("default_artifact_root") or None,
            artifacts_destination=get("artifacts_destination") or "./mlartifacts",
            serve_artifacts=config.get_bool("serve_artifacts", overrides),
            allowed_artifact_locations=_artifact_roots(get("allowed_artifact_locations")),
            host=get("host") or "127.0.0.1",
            port=_port(get("port")),
            workers=max(1, _int("workers", get("workers"))),
            threads=max(1, _int("threads", get("threads"))),
            allowed_hosts=_csv(get("allowed_hosts")),
            cors_allowed_origins=_csv(get("cors_allowed_origins")),
            max_request_bytes=_int("max_request_bytes", get("max_request_bytes")),
            max_artifact_bytes=_int("max_artifact_bytes", get("max_artifact_bytes")),
            graceful_timeout=_int("graceful_timeout", get("graceful_timeout")),
            gunicorn_timeout=_int("gunicorn_timeout", get("gunicorn_timeout")),
            gunicorn_opts=get("gunicorn_opts"),
            json_logs=config.get_bool("json_logs", overrides),
            log_level=(get("log_level") or "INFO").upper(),
            auth=AuthConfig.resolve(get),
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
