"""``/api/2.0/runyard/import/*``: what ``runyard import --to http(s)://…`` writes through.

MLflow's API makes new ids (``runs/create`` picks the run id, ``model-versions/create`` the
next number), so an import that keeps ids cannot go through it. These routes take entities
with their ids and write them into the server's SQL store as the database import does
(``runyard.importer.target_sql``). They are runyard's own, for administrators only when
accounts are on, and refused when the server's store is not an SQL database. A run's history
arrives in parts (``runs/begin``, ``runs/points`` as often as needed, ``runs/finish``), each
part one transaction and safe to send twice, so an import stopped anywhere can run again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from flask import Blueprint, Response, current_app, g

from runyard import protocol as p
from runyard.errors import InvalidParameterValue, PermissionDenied
from runyard.importer.target_sql import SqlTarget
from runyard.importer.wire import (
    IMPORT_API,
    metrics_from_json,
    registry_record_from_json,
    run_record_from_json,
)
from runyard.registry import protocol as rp
from runyard.server.api.common import json_body, reply

bp = Blueprint("runyard_import", __name__, url_prefix=IMPORT_API)

T = TypeVar("T")


def _target() -> SqlTarget:
    access = g.get("runyard_access")
    if access is not None and not access.user.is_admin:
        raise PermissionDenied("Permission denied: only administrators may import.")
    from runyard.store.sql.store import SqlStore

    store = current_app.config["RUNYARD_STORE"]
    if not isinstance(store, SqlStore):
        raise InvalidParameterValue(
            "This server's backend store is not an SQL database, where only an import can keep "
            "the source's ids: import into a server with an SQL --backend-store-uri."
        )
    return SqlTarget(store)


def _field(name: str) -> dict:
    value = p.require_field(json_body(), name)
    if not isinstance(value, dict):
        raise InvalidParameterValue(p.invalid_message(name, value))
    return value


def _parsed(what: str, parse: Callable[[Mapping[str, Any]], T], obj: Mapping[str, Any]) -> T:
    """An entity read from the request with the client's parser, which trusts its server: a
    field that is missing or of the wrong kind is the request's mistake, so a 400 naming it."""
    try:
        return parse(obj)
    except InvalidParameterValue:
        raise
    except KeyError as err:
        raise InvalidParameterValue(f"Invalid {what}: missing field {err}.") from None
    except (ValueError, TypeError, AttributeError) as err:
        raise InvalidParameterValue(f"Invalid {what}: {err}.") from None


@bp.post("/experiments")
def put_experiment() -> Response:
    _target().put_experiment(_parsed("experiment", p.experiment_from_json, _field("experiment")))
    return reply({})


@bp.post("/logged-models")
def put_logged_model() -> Response:
    _target().put_logged_model(_parsed("logged model", p.logged_model_from_json, _field("model")))
    return reply({})


@bp.post("/runs/finished")
def has_finished_run() -> Response:
    record = _parsed("run", run_record_from_json, _field("run"))
    return reply({"finished": _target().has_finished_run(record)})


@bp.post("/runs/begin")
def begin_run() -> Response:
    _target().begin_run(_parsed("run", run_record_from_json, _field("run")))
    return reply({})


@bp.post("/runs/points")
def write_points() -> Response:
    body = json_body()
    run_id = p.parse_string(p.require_field(body, "run_id"), "run_id")
    points = metrics_from_json(p.object_list(body, "metrics"), run_id)
    _target().write_points(run_id, points)
    return reply({"points": len(points)})


@bp.post("/runs/finish")
def finish_run() -> Response:
    _target().finish_run(_parsed("run", run_record_from_json, _field("run")))
    return reply({})


@bp.post("/registered-models")
def put_registered_model() -> Response:
    _field("registered_model")
    record = _parsed("registered model", registry_record_from_json, json_body())
    versions = _target().put_registered_model(record)
    return reply(
        {"registered_model": rp.registered_model_to_json(record.model), "versions": versions}
    )
