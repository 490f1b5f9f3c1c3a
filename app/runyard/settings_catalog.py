"""Every setting runyard reads, declared once, here, grouped by the part that reads it.

``runyard.config`` reads them (a CLI flag, then ``RUNYARD_<NAME>``, then MLflow's name where
one exists, then the default declared here); nothing else declares a setting or repeats its
default, so the list is complete whatever has been imported, and ``docs/configuration.md`` is
checked against it.
"""

from __future__ import annotations

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


#: The Python client: where runs go, how it talks to a server, where artifacts live.
CLIENT: tuple[Setting, ...] = (
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
        "active_model_id",
        None,
        "Logged model that metrics and model params logged without a model_id go to, until "
        "set_active_model() or clear_active_model() says otherwise.",
        "MLFLOW_ACTIVE_MODEL_ID",
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
        "8",
        "PostgreSQL connections each process keeps open (per server worker). Keep it at the "
        "threads setting: a request that finds the pool empty opens a connection and closes it "
        "after. Budget: pods x workers x (pool size + max overflow + the accounts' pool) must "
        "stay below max_connections.",
    ),
    Setting(
        "db_max_overflow",
        "10",
        "Extra PostgreSQL connections a process may open at peaks, closed when returned.",
    ),
    Setting(
        "sqlite_cache_mib",
        "32",
        "SQLite's page cache per connection, in MiB: database pages a process keeps between "
        "queries, filled only as pages are read. SQLite's own default is 2 MiB; a search of a "
        "large store reads the same index pages again and again.",
    ),
    Setting(
        "auth_db_pool_size",
        "2",
        "PostgreSQL connections each server process keeps open for accounts, beside the "
        "tracking pool. Account reads are remembered for a second, so two serve many threads; "
        "a request that finds them busy waits its turn. Budget: count them per worker.",
    ),
    Setting(
        "auth_db_max_overflow",
        "0",
        "Extra connections for accounts a process may open at peaks, closed when returned.",
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
        "artifact_transfer_threads",
        "4",
        "Files copied at once when a directory of artifacts is uploaded or downloaded (each over "
        "its own connection); 1 copies one after another.",
    ),
    Setting(
        "netrc",
        "~/.netrc",
        "netrc file with the passwords of ftp://, ftps:// and sftp:// hosts.",
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
        "~/.ssh/known_hosts",
        "known_hosts file that verifies SFTP servers' host keys; unknown hosts are refused.",
    ),
    Setting(
        "sftp_ssh_config",
        "~/.ssh/config",
        "ssh_config file whose Host entries sftp:// locations honour.",
    ),
    Setting(
        "sftp_client",
        "auto",
        "How sftp:// connections are made: openssh (the ssh program, as OpenSSH's sftp does), "
        "paramiko, or auto (ssh when it is installed and no password is needed, else paramiko).",
    ),
)

#: Background logging (``synchronous=False``) and system metrics of a run.
LOGGING: tuple[Setting, ...] = (
    Setting(
        "async_logging",
        "false",
        "Log metrics, params and tags in the background by default (synchronous=None).",
        "MLFLOW_ENABLE_ASYNC_LOGGING",
    ),
    Setting(
        "async_logging_queue_size",
        "100000",
        "Logging calls that may wait for background sending; when that many wait, "
        "log calls with synchronous=False block until there is room.",
    ),
    Setting(
        "enable_system_metrics_logging",
        "false",
        "Log system metrics (CPU, memory, disk, network, GPUs) for every run that start_run() "
        "starts without an explicit log_system_metrics.",
        "MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING",
    ),
    Setting(
        "system_metrics_interval",
        "10",
        "Seconds between two samples of system metrics (start_run(log_system_metrics=True)).",
        "MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL",
    ),
    Setting(
        "system_metrics_samples_before_logging",
        "1",
        "System metrics samples averaged into each logged point.",
        "MLFLOW_SYSTEM_METRICS_SAMPLES_BEFORE_LOGGING",
    ),
    Setting(
        "system_metrics_node_id",
        None,
        "Names this machine in its system metrics (system/<node id>/cpu_...), so the nodes of a "
        "distributed training log apart.",
        "MLFLOW_SYSTEM_METRICS_NODE_ID",
    ),
)

#: The offline spool of writes to a tracking server that cannot be reached.
SPOOL: tuple[Setting, ...] = (
    Setting(
        "spool",
        "true",
        "Keep writes to a tracking server that cannot be reached in a local spool and send "
        "them when it is back (false: raise instead).",
    ),
    Setting(
        "spool_dir",
        "~/.runyard/spool",
        "Directory of the offline spool (one file per tracking server); `runyard sync` sends it.",
    ),
)

#: ``runyard server``: each is also a command-line flag.
SERVER: tuple[Setting, ...] = (
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
        "client_timeout",
        "120",
        "Seconds the server waits for a client to send the next bytes of its request, or to "
        "take more of the answer, before it closes the connection, so a stalled or vanished "
        "client frees its thread.",
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

#: ``runyard server --auth``: flags too, except secrets (no password on a command line).
AUTH: tuple[Setting, ...] = (
    Setting(
        "auth",
        "false",
        "Require sign-in on every route except /health, /ready, /version, the sign-in page and "
        "static files (HTTP basic, bearer tokens, a browser session or a trusted proxy).",
    ),
    Setting(
        "auth_database_uri",
        None,
        "Database of users, tokens and permissions (sqlite:/// or postgresql://). Default: the "
        "tracking database for SQL stores; for a file store, <store directory>-auth.db beside it.",
    ),
    Setting(
        "auth_default_permission",
        "READ",
        "Permission on experiments and registered models a user was not granted anything on: "
        "READ, USE, EDIT, MANAGE or DENY (NO_PERMISSIONS is read as DENY).",
    ),
    Setting(
        "admin_username",
        None,
        "With admin_password: the first administrator, created at start-up if that user does "
        "not exist yet (an existing user is left unchanged). There is no default account.",
    ),
    Setting("admin_password", None, "Password of admin_username (at least 12 characters)."),
    Setting(
        "auth_metrics_open",
        "false",
        "Serve /metrics without credentials (for a scraper the network already restricts).",
    ),
    Setting("auth_session_hours", "12", "Hours a browser session lasts after sign-in."),
    Setting(
        "auth_max_failed_logins",
        "10",
        "Failed sign-ins per account name (five times as many per client address) before "
        "further attempts are refused (429) for the rest of auth_failed_login_window.",
    ),
    Setting("auth_failed_login_window", "300", "Seconds over which failed sign-ins are counted."),
    Setting(
        "auth_secure_cookies",
        "auto",
        "Mark the session cookie Secure: auto (when the request came over TLS, directly or per "
        "X-Forwarded-Proto from a trusted proxy), true or false.",
    ),
    Setting(
        "auth_proxy_user_header",
        None,
        "Trusted-header mode: take the user name from this header (e.g. X-Forwarded-User), only "
        "on requests from auth_trusted_proxies; the account is created on first sight.",
    ),
    Setting(
        "auth_proxy_groups_header",
        None,
        "Header with the user's groups, comma-separated (e.g. X-Forwarded-Groups).",
    ),
    Setting(
        "auth_trusted_proxies",
        None,
        "Comma-separated addresses or networks (10.0.0.5, 10.1.0.0/16) of the identity proxy "
        "whose headers are believed; from anywhere else the headers are ignored.",
    ),
    Setting(
        "auth_proxy_group_permissions",
        None,
        "Groups mapped to permissions on every experiment and registered model, e.g. "
        "'ml-admins=ADMIN,ml-team=EDIT,viewers=READ' (ADMIN makes the user an administrator).",
    ),
)

ALL: tuple[Setting, ...] = (*CLIENT, *LOGGING, *SPOOL, *SERVER, *AUTH)
