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
  server would then read or write.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import os
import posixpath
from urllib.parse import urlparse

from flask import Flask, Response, request

from runyard.errors import InvalidParameterValue, PermissionDenied, RequestTooLarge
from runyard.server.errors import error_response
from runyard.server.settings import ServerConfig

#: Paths that answer probes and scrapers; they touch nothing secret, so any Host may ask.
PROBE_PATHS = ("/health", "/ready", "/metrics", "/version")
ARTIFACT_PREFIXES = ("/api/2.0/mlflow-artifacts/", "/ajax-api/2.0/mlflow-artifacts/")
JSON_API_PREFIXES = ("/api/", "/ajax-api/")
#: API routes whose POST body is a file's raw bytes (the web UI's upload), not JSON.
RAW_BODY_PATHS = ("/ajax-api/2.0/mlflow/upload-artifact", "/api/2.0/mlflow/upload-artifact")
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
def _under(location: str, root: str) -> bool:
    """Whether ``location`` lies inside ``root`` (local paths resolved, URIs compared by path)."""
    loc, base = urlparse(location), urlparse(root)
    local_schemes = ("", "file")
    if (len(loc.scheme) <= 1 or loc.scheme == "file") and (
        len(base.scheme) <= 1 or base.scheme in local_schemes
    ):
        loc_path = os.path.realpath(loc.path if loc.scheme == "file" else location)
        base_path = os.path.realpath(base.path if base.scheme == "file" else root)
        return loc_path == base_path or loc_path.startswith(base_path.rstrip(os.sep) + os.sep)
    if loc.scheme != base.scheme or loc.netloc != base.netloc or ".." in loc.path.split("/"):
        return False
    loc_path = posixpath.normpath("/" + loc.path)
    base_path = posixpath.normpath("/" + base.path)
    return base_path == "/" or loc_path == base_path or loc_path.startswith(base_path + "/")


def check_artifact_location(location: str, cfg: ServerConfig) -> str:
    """Refuse an artifact location outside what this server is configured to use."""
    if any(ch in location for ch in "\x00\r\n"):
        raise InvalidParameterValue(f"Invalid artifact location {location!r}.")
    scheme = urlparse(location).scheme.lower()
    if scheme in ("mlflow-artifacts", "runyard-artifacts"):
        parsed = urlparse(location)
        if cfg.serve_artifacts and not parsed.netloc and ".." not in parsed.path.split("/"):
            return location
    else:
        roots = [cfg.default_artifact_root] if cfg.default_artifact_root else []
        if cfg.serve_artifacts:
            roots.append(cfg.artifacts_destination)
        if any(_under(location, root) for root in roots):
            return location
    allowed = ["mlflow-artifacts:/..."] if cfg.serve_artifacts else []
    allowed += [r for r in (cfg.default_artifact_root,) if r]
    raise InvalidParameterValue(
        f"artifact_location {location!r} is not allowed on this server; use a location under "
        f"one of {allowed or ['the default artifact root']} or omit it."
    )


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
        and request.path.startswith(JSON_API_PREFIXES)
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
