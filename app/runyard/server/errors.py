"""The one error handler: every failure is decided once (``failure_of``: status, MLflow code,
message) and leaves the server as MLflow-shaped JSON, or as an HTML page for a browser on one
of the UI's pages.

``RunyardError`` -> its code and status; Flask's 404/405/413 -> MLflow's codes; anything
unexpected -> 500 ``INTERNAL_ERROR`` with no traceback in the body (it is logged). Clients retry
5xx for minutes, so a client's mistake must never end up here as a 5xx.
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Collection
from dataclasses import dataclass, field

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from runyard.errors import RunyardError, error_code_for_status
from runyard.server.mount import API_PATHS

log = logging.getLogger("runyard.server")

#: Seconds a client is told to wait when the store is away.
RETRY_AFTER_SECONDS = 5

_CLASSES = {"RESOURCE_DOES_NOT_EXIST": "RESOURCE_NOT_FOUND"}

#: Filesystem refusals caused by what the client named, not by the server.
_CLIENT_OS_ERRORS = {errno.ENAMETOOLONG: "A path component or the path is too long."}

#: Paths that are never pages, whatever the client accepts: the APIs and the probes.
_NEVER_PAGES = (*API_PATHS, "/health", "/ready", "/metrics", "/version")


@dataclass(frozen=True)
class Failure:
    """What a failed request answers, whatever the form."""

    status: int
    code: str
    message: str
    headers: dict[str, str] = field(default_factory=dict)


def failure_of(error: BaseException) -> Failure:
    """The one decision of status, code and message for any exception, logged as it deserves."""
    if isinstance(error, RunyardError):
        status = error.http_status
        if status == 503:
            log.warning("unavailable on %s %s: %s", request.method, request.path, error.message)
        elif status >= 500:
            log.error("%s on %s %s: %s", error.error_code, request.method, request.path, error)
        return Failure(status, error.error_code, error.message)
    if isinstance(error, HTTPException):
        return _http_failure(error)
    if isinstance(error, OSError) and error.errno in _CLIENT_OS_ERRORS:
        return Failure(400, "INVALID_PARAMETER_VALUE", _CLIENT_OS_ERRORS[error.errno])
    log.exception("unexpected error on %s %s", request.method, request.path)
    return Failure(500, "INTERNAL_ERROR", "Internal server error; see the server log.")


def _http_failure(error: HTTPException) -> Failure:
    status = error.code or 500
    headers: dict[str, str] = {}
    if status == 404:
        message = f"No endpoint {request.method} {request.path}"
    elif status == 405:
        message = f"Method {request.method} is not allowed for {request.path}"
        if getattr(error, "valid_methods", None):
            headers["Allow"] = ", ".join(error.valid_methods)  # type: ignore[attr-defined]
    elif status == 413:
        message = "Request body is too large."
    else:
        message = error.description or error.name
    return Failure(status, error_code_for_status(status), message, headers)


def error_response(error_code: str, message: str, status: int) -> Response:
    """The JSON form, MLflow's: ``error_code``, ``message``, ``error_class``; a 503 says when
    to retry."""
    body = {
        "error_code": error_code,
        "message": message,
        "error_class": _CLASSES.get(error_code, error_code),
    }
    response = jsonify(body)
    response.status_code = status
    if status == 503:
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _page(failure: Failure) -> Response:
    message = failure.message
    if failure.status == 404 and request.blueprint is None:
        message = f"There is no page at {request.path}."
    html = render_template("error.html", status=failure.status, code=failure.code, message=message)
    return Response(html, status=failure.status, mimetype="text/html")


def register_error_handlers(app: Flask, page_blueprints: Collection[str] = ()) -> None:
    """One handler for every exception. A request to a route of ``page_blueprints``, or a
    browser asking for a path no route serves, gets the failure as a page; everything else
    (the APIs, the probes, clients, curl) gets JSON."""

    def wants_page() -> bool:
        if request.path.startswith(_NEVER_PAGES):
            return False
        if request.blueprint is not None:
            return request.blueprint in page_blueprints
        # A browser prefers HTML to JSON; "*/*" alone (curl, clients) gets JSON.
        preferred = request.accept_mimetypes.best_match(["application/json", "text/html"])
        return bool(page_blueprints) and preferred == "text/html"

    def handle(error: Exception) -> Response:
        failure = failure_of(error)
        response = (
            _page(failure)
            if wants_page()
            else error_response(failure.code, failure.message, failure.status)
        )
        response.headers.update(failure.headers)
        return response

    app.register_error_handler(Exception, handle)
