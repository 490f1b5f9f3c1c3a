"""How long a request line may be: GETs carry every field in the query string, and MLflow's web
UI asks for 100 runs' metrics in one URL, so up to 64 KiB of query string is served; beyond,
a JSON error (gunicorn's own refusal would be an HTML page the client cannot parse)."""

from __future__ import annotations

from flask import Flask, Response, request

from runyard.server.errors import error_response

MAX_QUERY_STRING_BYTES = 64 * 1024
#: gunicorn's ``limit_request_line``: 0 lifts its 8 KiB cap (it still stops at 1 MiB), so the
#: check below, which answers in JSON, is the one that applies.
GUNICORN_LIMIT_REQUEST_LINE = 0


def refuse_long_query() -> Response | None:
    size = len(request.query_string)
    if size > MAX_QUERY_STRING_BYTES:
        return error_response(
            "BAD_REQUEST",
            f"The query string is {size} bytes long; the limit is {MAX_QUERY_STRING_BYTES}. "
            "Send the fields in a POST body where the endpoint accepts one.",
            414,
        )
    return None


def install_limits(app: Flask) -> None:
    app.before_request(refuse_long_query)
