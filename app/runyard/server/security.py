"""Request hygiene: Host check, CORS, JSON-only writes, size limits, artifact locations, headers.

* **Host header** (DNS rebinding): a page on ``evil.example`` whose name is re-pointed at
  127.0.0.1 makes a browser send ``Host: evil.example``. Names must be in ``allowed_hosts``
  (default: localhost, the bound host, single-label names and Kubernetes ``*.svc`` names); IP
  literals on loopback and private networks are always accepted, since an attacker's page can
  never make a browser send them for its own origin.
* **Cross-origin writes**: a write carrying an ``Origin`` that is neither the server itself nor
  in ``cors_allowed_origins`` is refused; and JSON endpoints take only ``application/json``,
  so an HTML form cannot post to them.
* **Size**: bodies over ``max_request_bytes`` (artifact uploads: ``max_artifact_bytes``) are
  refused with 413 before anything reads them.
* **Artifact locations**: a client may not point an experiment at an arbitrary path or URL the
  server would then read or write; locations are compared in canonical form
  (``runyard.locations``), decoded and resolved, and stored ones are checked again on use.
"""

from __future__ import annotations

import fnmatch
import ipaddress
from urllib.parse import urlparse

from flask import Flask, Response, request

from runyard.errors import InvalidParameterValue, PermissionDenied, RequestTooLarge
from runyard.locations import Location, canonical_location, parse_location, parse_roots, shown
from runyard.server.errors import error_response
from runyard.server.mount import API_PATHS, MLFLOW_ARTIFACTS, MLFLOW_V2, prefixes
from runyard.server.settings import ServerConfig
from runyard.store import DEFAULT_ARTIFACT_ROOT

#: Paths that answer probes and scrapers; they touch nothing secret, so any Host may ask.
PROBE_PATHS = ("/health", "/ready", "/metrics", "/version")
ARTIFACT_PREFIXES = tuple(f"{prefix}/" for prefix in prefixes(MLFLOW_ARTIFACTS))
#: API routes whose POST body is a file's raw bytes (the web UI's upload), not JSON.
RAW_BODY_PATHS = tuple(f"{prefix}/upload-artifact" for prefix in prefixes(MLFLOW_V2))
DEFAULT_HOST_NAMES = ("localhost", "*.localhost", "*.svc", "*.svc.cluster.local")

CSP = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'"
)


# ---- Host header --------------------------------------------------------------------------------
def _split_host(host_header: str) -> str:
    """The host part of a Host header, lower-cased, without port or IPv6 brackets."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host[1:]
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host.rstrip(".")


def _is_local_ip(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private or address.is_link_local


def host_allowed(host_header: str | None, cfg: ServerConfig) -> bool:
    if not host_header:
        return False
    host = _split_host(host_header)
    if "*" in cfg.allowed_hosts or _is_local_ip(host):
        return True
    if cfg.allowed_hosts:
        patterns = [
            _split_host(h) if not h.startswith("*") else h.lower() for h in cfg.allowed_hosts
        ]
        return any(fnmatch.fnmatchcase(host, pattern) for pattern in patterns)
    if host == cfg.host.lower().strip("[]") or "." not in host:
        return True  # the bound host, or a single-label name (e.g. a Kubernetes Service)
    return any(fnmatch.fnmatchcase(host, pattern) for pattern in DEFAULT_HOST_NAMES)


# ---- origins ------------------------------------------------------------------------------------
def origin_allowed(origin: str, cfg: ServerConfig) -> bool:
    if "*" in cfg.cors_allowed_origins:
        return True
    return origin.rstrip("/") in {o.rstrip("/") for o in cfg.cors_allowed_origins}


def _same_origin(origin: str) -> bool:
    parsed = urlparse(origin)
    return bool(parsed.netloc) and parsed.netloc.lower() == (request.host or "").lower()


# ---- artifact locations -------------------------------------------------------------------------
PROXY_ROOTS = ("mlflow-artifacts:/", "runyard-artifacts:/")


def creatable_roots(cfg: ServerConfig) -> tuple[Location, ...]:
    """Where a client may point a new experiment: the proxy and its destination when serving
    artifacts, the default artifact root, and ``--allowed-artifact-locations``."""
    roots = list(PROXY_ROOTS) if cfg.serve_artifacts else []
    if cfg.serve_artifacts:
        roots.append(cfg.artifacts_destination)
    if cfg.default_artifact_root:
        roots.append(cfg.default_artifact_root)
    return tuple(parse_location(r) for r in roots) + parse_roots(cfg.allowed_artifact_locations)


def usable_roots(cfg: ServerConfig) -> tuple[Location, ...]:
    """Where a stored run's artifacts may be read: the creatable roots, plus the directory the
    store itself puts artifacts in when nothing else is configured (a file store's own
    directory, or ``./mlruns`` beside a database), where runs logged without a server live."""
    scheme = urlparse(cfg.backend_store_uri).scheme.lower()
    implicit = cfg.backend_store_uri if scheme in ("", "file") else DEFAULT_ARTIFACT_ROOT
    return (*creatable_roots(cfg), parse_location(implicit))


def check_artifact_location(location: str, cfg: ServerConfig) -> str:
    """A new experiment's ``artifact_location`` in canonical form, or 400 when it is malformed
    or lies outside what this server allows."""
    return canonical_location(location, creatable_roots(cfg)).uri


def check_stored_location(location: str, cfg: ServerConfig) -> str:
    """A stored artifact location about to be used, refused when it is no longer allowed
    (a database written before locations were checked may hold one)."""
    try:
        return canonical_location(location, usable_roots(cfg)).uri
    except InvalidParameterValue as exc:
        raise InvalidParameterValue(
            f"The stored artifact location {shown(location)!r} is not allowed on this server, "
            f"so it is not used ({exc.message}). Move the artifacts under an allowed root or "
            "allow the location with --allowed-artifact-locations."
        ) from None


# ---- hooks --------------------------------------------------------------------------------------
def _is_artifact_upload() -> bool:
    return request.method == "PUT" and request.path.startswith(ARTIFACT_PREFIXES)


def _check_request(cfg: ServerConfig) -> Response | None:
    if request.path not in PROBE_PATHS and not host_allowed(request.host, cfg):
        return error_response(
            "PERMISSION_DENIED",
            f"Host {request.host!r} is not allowed; add it to --allowed-hosts.",
            403,
        )
    limit = cfg.max_artifact_bytes if _is_artifact_upload() else cfg.max_request_bytes
    request.max_content_length = limit
    if request.content_length is not None and request.content_length > limit:
        raise RequestTooLarge(
            f"Request body of {request.content_length} bytes exceeds the limit of {limit} bytes."
        )
    origin = request.headers.get("Origin")
    if request.method == "OPTIONS" and origin:
        return Response(status=204 if origin_allowed(origin, cfg) else 403)
    writes = request.method in ("POST", "PUT", "PATCH", "DELETE")
    if writes and origin and not (_same_origin(origin) or origin_allowed(origin, cfg)):
        raise PermissionDenied(f"Cross-origin request from {origin!r} is not allowed.")
    if (
        request.method in ("POST", "PATCH")
        and request.path.startswith(API_PATHS)
        and not request.path.startswith(ARTIFACT_PREFIXES)
        and request.path not in RAW_BODY_PATHS
    ):
        if not request.headers.get("Content-Type"):
            raise InvalidParameterValue("Bad Request. Content-Type header is missing.")
        if request.mimetype != "application/json":
            raise InvalidParameterValue(
                "Bad Request. Content-Type must be one of ['application/json']."
            )
    return None


def _add_headers(response: Response, cfg: ServerConfig) -> Response:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    if response.mimetype == "text/html":
        headers.setdefault("Content-Security-Policy", CSP)
    origin = request.headers.get("Origin")
    if origin and origin_allowed(origin, cfg):
        headers["Access-Control-Allow-Origin"] = origin
        headers["Vary"] = "Origin"
        headers["Access-Control-Allow-Methods"] = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
        headers["Access-Control-Allow-Headers"] = "Content-Type, Authorization"
    return response


def install_security(app: Flask, cfg: ServerConfig) -> None:
    app.before_request(lambda: _check_request(cfg))
    app.after_request(lambda response: _add_headers(response, cfg))
