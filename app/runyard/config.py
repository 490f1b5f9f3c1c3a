"""Settings as data: every knob runyard reads, in one list, read in one place.

A value comes from an explicit override (a CLI flag), then ``RUNYARD_<NAME>``, then MLflow's
``MLFLOW_<NAME>`` where one exists (so users can switch without renaming), then the default.
Nothing else in runyard reads ``os.environ``; a test checks that every setting is documented.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Setting:
    name: str
    default: str | None
    help: str
    mlflow_name: str | None = None

    @property
    def env_var(self) -> str:
        return "RUNYARD_" + self.name.upper()


SETTINGS: tuple[Setting, ...] = (
    # ---- client -------------------------------------------------------------------------------
    Setting(
        "tracking_uri",
        None,
        "Where runs are recorded: a path or file: URI (default "
        "./mlruns), sqlite:///..., postgresql://..., or http(s)://server.",
        "MLFLOW_TRACKING_URI",
    ),
    Setting(
        "experiment_name",
        None,
        "Experiment that start_run() uses when none is set.",
        "MLFLOW_EXPERIMENT_NAME",
    ),
    Setting(
        "experiment_id",
        None,
        "Experiment id that start_run() uses when none is set.",
        "MLFLOW_EXPERIMENT_ID",
    ),
    Setting(
        "run_id", None, "Run that start_run() resumes when no run_id is passed.", "MLFLOW_RUN_ID"
    ),
    Setting(
        "http_timeout",
        "120",
        "Seconds before an HTTP request to a server times out.",
        "MLFLOW_HTTP_REQUEST_TIMEOUT",
    ),
    Setting(
        "http_max_retries",
        "7",
        "Retries of a failed HTTP request (connection errors, 429, 503) before giving up.",
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES",
    ),
    Setting(
        "http_backoff_factor",
        "0.5",
        "Backoff factor (seconds) between HTTP retries; jitter is added.",
        None,
    ),
    Setting(
        "tracking_username",
        None,
        "Basic-auth user for the tracking server.",
        "MLFLOW_TRACKING_USERNAME",
    ),
    Setting(
        "tracking_password",
        None,
        "Basic-auth password for the tracking server.",
        "MLFLOW_TRACKING_PASSWORD",
    ),
    Setting(
        "tracking_token", None, "Bearer token for the tracking server.", "MLFLOW_TRACKING_TOKEN"
    ),
    Setting(
        "s3_endpoint_url",
        None,
        "S3 endpoint (MinIO and other S3-compatible servers).",
        "MLFLOW_S3_ENDPOINT_URL",
    ),
    Setting(
        "s3_ignore_tls",
        "false",
        "Skip TLS verification for the S3 endpoint.",
        "MLFLOW_S3_IGNORE_TLS",
    ),
    Setting(
        "db_pool_size",
        "5",
        "PostgreSQL connections each process keeps open (per server worker). Budget: "
        "pods x workers x (pool size + max overflow) must stay below max_connections.",
    ),
    Setting(
        "db_max_overflow",
        "10",
        "Extra PostgreSQL connections a process may open at peaks, closed when returned.",
    ),
    # ---- artifact stores on file servers and Google Cloud Storage ---------------------------
    Setting(
        "artifact_timeout",
        "30",
        "Seconds to wait for an SFTP, FTP or Google Cloud Storage server to connect or answer.",
    ),
    Setting(
        "artifact_connect_attempts",
        "3",
        "Attempts to reach an SFTP or FTP server (with backoff) before answering "
        "TEMPORARILY_UNAVAILABLE.",
    ),
    Setting(
        "netrc",
        None,
        "netrc file with the passwords of ftp://, ftps:// and sftp:// hosts (default ~/.netrc).",
    ),
    Setting(
        "ftp_password",
        None,
        "Password for ftp:// and ftps:// artifact locations (else the netrc entry of the host).",
    ),
    Setting(
        "ftp_tls",
        "false",
        "Use explicit TLS (AUTH TLS) for ftp:// locations too; ftps:// locations always do.",
    ),
    Setting(
        "ftp_ca_bundle",
        None,
        "CA certificates (PEM) that verify an FTPS server; default: the system's.",
    ),
    Setting(
        "sftp_identity_file",
        None,
        "Private key for sftp:// locations; when set, only this key is offered (default: the "
        "SSH agent, then ~/.ssh/id_* and ssh_config's IdentityFile).",
    ),
    Setting(
        "sftp_known_hosts",
        None,
        "known_hosts file that verifies SFTP servers' host keys (default ~/.ssh/known_hosts); "
        "unknown hosts are refused.",
    ),
    Setting(
        "sftp_ssh_config",
        None,
        "ssh_config file whose Host entries sftp:// locations honour (default ~/.ssh/config).",
    ),
)

_BY_NAME = {s.name: s for s in SETTINGS}


def register(*settings: Setting) -> None:
    """Add settings owned by another part (server, autolog, ...) to the one list."""
    global SETTINGS
    for setting in settings:
        if setting.name in _BY_NAME:
            if _BY_NAME[setting.name] != setting:
                raise ValueError(f"setting {setting.name!r} registered twice, differently")
            continue
        _BY_NAME[setting.name] = setting
        SETTINGS = (*SETTINGS, setting)


def get(name: str, overrides: Mapping[str, object | None] | None = None) -> str | None:
    """The value of setting ``name``: override, RUNYARD_*, MLFLOW_*, then default."""
    setting = _BY_NAME[name]
    if overrides is not None and overrides.get(name) is not None:
        return str(overrides[name])
    value = os.environ.get(setting.env_var)
    if value is None and setting.mlflow_name:
        value = os.environ.get(setting.mlflow_name)
    return value if value is not None else setting.default


def get_bool(name: str, overrides: Mapping[str, object | None] | None = None) -> bool:
    value = get(name, overrides)
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def get_int(name: str, overrides: Mapping[str, object | None] | None = None) -> int | None:
    value = get(name, overrides)
    return None if value in (None, "") else int(value)


def get_float(name: str, overrides: Mapping[str, object | None] | None = None) -> float | None:
    value = get(name, overrides)
    return None if value in (None, "") else float(value)
