"""The one error handler: every failure leaves the server as MLflow-shaped JSON.

``RunyardError`` -> its code and status; Flask's 404/405/413 -> JSON with MLflow's codes;
anything unexpected -> 500 ``INTERNAL_ERROR`` with no traceback in the body (it is logged).
Clients retry 5xx for minutes, so a client's mistake must never end up here as a 5xx.
"""

from __future__ import annotations

import errno
import logging

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from runyard.errors import RunyardError, TemporarilyUnavailable, error_code_for_status

log = logging.getLogger("runyard.server")

#: Seconds a client is told to wait when the store is away.
RETRY_AFTER_SECONDS = 5

_CLASSES = {"RESOURCE_DOES_NOT_EXIST": "RESOURCE_NOT_FOUND"}


def error_response(error_code: str, message: str, status: int) -> Response:
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


def handle_runyard_error(error: RunyardError) -> Response:
    status = error.http_status
    if isinstance(error, TemporarilyUnavailable):
        status = 503
        log.warning("store unavailable on %s %s: %s", request.method, request.path, error.message)
    elif status >= 500:
        log.error("%s on %s %s: %s", error.error_code, request.method, request.path, error)
    return error_response(error.error_code, error.message, status)


def handle_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    code = error_code_for_status(status)
    if status == 404:
        message = f"No endpoint {request.method} {request.path}"
    elif status == 405:
        message = f"Method {request.method} is not allowed for {request.path}"
    elif status == 413:
        message = "Request body is too large."
    else:
        message = error.description or error.name
    response = error_response(code, message, status)
    if status == 405 and getattr(error, "valid_methods", None):
        response.headers["Allow"] = ", ".join(error.valid_methods)  # type: ignore[attr-defined]
    return response


#: Filesystem refusals caused by what the client named, not by the server.
_CLIENT_OS_ERRORS = {errno.ENAMETOOLONG: "A path component or the path is too long."}


def handle_unexpected(error: Exception) -> Response:
    if isinstance(error, OSError) and error.errno in _CLIENT_OS_ERRORS:
        return error_response("INVALID_PARAMETER_VALUE", _CLIENT_OS_ERRORS[error.errno], 400)
    log.exception("unexpected error on %s %s", request.method, request.path)
    return error_response("INTERNAL_ERROR", "Internal server error; see the server log.", 500)


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(RunyardError, handle_runyard_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
