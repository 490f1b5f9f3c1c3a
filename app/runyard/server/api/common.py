"""What every REST handler needs: the request's fields, the store, and a JSON reply.

GET fields come from the query string (a repeated key becomes a list), POST/PATCH/DELETE fields
from the JSON body. A body that is not a JSON object is a 400, never a 500.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from flask import Response, current_app, g, jsonify, request

from runyard import wire_json
from runyard.artifacts.base import ArtifactRepo
from runyard.errors import BadRequest
from runyard.server.security import check_stored_location
from runyard.server.settings import ServerConfig
from runyard.store.base import TrackingStore
from runyard.wire_types import SURROGATE_ESCAPE, check_request, refuse_lone_surrogates


def request_fields() -> dict[str, Any]:
    """The request's fields: query string for GET, JSON body otherwise (plus the query).

    Every field's type is checked against MLflow's request schema of the route first
    (``runyard.wire_types``), so handlers never see a number where a string belongs.
    """
    fields: dict[str, Any] = {}
    for key in request.args:
        values = request.args.getlist(key)
        fields[key] = values[0] if len(values) == 1 else values
    rule = request.url_rule
    route = schema_path(rule.rule) if rule is not None else ""
    method = "GET" if request.method == "HEAD" else request.method
    if fields:
        check_request(method, route, fields, from_query=True)
    if method == "GET":
        return fields
    body = json_body()
    check_request(method, route, body, from_query=False)
    fields.update(body)
    return fields


_VERSION_PREFIX = re.compile(r"^/(?:ajax-)?api/\d+\.\d+")
_RULE_VARIABLE = re.compile(r"<(?:\w+:)?(\w+)>")


@cache
def schema_path(rule: str) -> str:
    """A URL rule as the schema names it: ``/api/2.0/mlflow/x/<id>`` -> ``/mlflow/x/{id}``."""
    return _RULE_VARIABLE.sub(r"{\1}", _VERSION_PREFIX.sub("", rule))


def json_body() -> dict[str, Any]:
    raw = request.get_data(cache=True)
    if not raw or not raw.strip():
        return {}
    try:
        body = wire_json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"Malformed JSON in request body: {exc}") from None
    except RecursionError:  # 200,000 '[': the parser gives up after ~1,000 levels, quickly
        raise BadRequest("Malformed JSON in request body: nested too deeply.") from None
    if not isinstance(body, dict):
        raise BadRequest(f"Request body must be a JSON object, got {type(body).__name__} instead.")
    if SURROGATE_ESCAPE.search(raw):
        refuse_lone_surrogates(body)
    return body


def store() -> TrackingStore:
    """The tracking store, as the signed-in user may see it when auth is on."""
    view = g.get("runyard_store_view")
    return view if view is not None else current_app.config["RUNYARD_STORE"]


def server_config() -> ServerConfig:
    return current_app.config["RUNYARD_SERVER_CONFIG"]


def artifact_repo() -> ArtifactRepo | None:
    return current_app.config.get("RUNYARD_ARTIFACT_REPO")


def check_experiment_location(experiment_id: str) -> None:
    """Refuse to create a run or model under an experiment whose stored artifact location is no
    longer allowed (its artifacts would go there)."""
    location = store().get_experiment(experiment_id).artifact_location
    check_stored_location(location, server_config())


def reply(body: dict[str, Any] | None = None) -> Response:
    if not body:  # most logging calls: skip the JSON provider for the constant "{}"
        return current_app.response_class("{}\n", mimetype="application/json")
    return jsonify(body)


def large_reply(body: dict[str, Any]) -> Response:
    """A large body (a history or search page) encoded compactly without sorting every
    object's keys, as Flask's provider does: same content as ``reply``, less time."""
    return current_app.response_class(wire_json.dumps(body) + b"\n", mimetype="application/json")
