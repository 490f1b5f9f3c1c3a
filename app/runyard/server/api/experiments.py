"""``/experiments/*``: create, read, search, rename, delete/restore, tags."""

from __future__ import annotations

from flask import Blueprint, Response

from runyard import protocol as p
from runyard.errors import ResourceDoesNotExist
from runyard.server.api.common import reply, request_fields, server_config, store
from runyard.server.security import check_artifact_location
from runyard.store.base import SEARCH_MAX_RESULTS_DEFAULT
from runyard.validation import (
    MAX_RESULTS_SEARCH_EXPERIMENTS,
    validate_experiment_id,
    validate_experiment_name,
    validate_experiment_tag,
    validate_max_results,
)

bp = Blueprint("experiments", __name__)


def _experiment_id(fields: dict) -> str:
    return validate_experiment_id(
        p.parse_string(p.require_field(fields, "experiment_id"), "experiment_id")
    )


@bp.post("/experiments/create")
def create_experiment() -> Response:
    fields = request_fields()
    name = p.parse_string(p.require_field(fields, "name"), "name")
    validate_experiment_name(name)
    location = p.optional_string(fields, "artifact_location") or None
    if location is not None:
        location = check_artifact_location(location, server_config())
    tags = p.key_values_from_json(fields.get("tags"), "tags")
    for key, value in tags:
        validate_experiment_tag(key, value)
    experiment_id = store().create_experiment(name, location, tags)
    return reply({"experiment_id": experiment_id})


@bp.get("/experiments/get")
def get_experiment() -> Response:
    experiment = store().get_experiment(_experiment_id(request_fields()))
    return reply({"experiment": p.experiment_to_json(experiment)})


@bp.get("/experiments/get-by-name")
def get_experiment_by_name() -> Response:
    fields = request_fields()
    name = p.parse_string(p.require_field(fields, "experiment_name"), "experiment_name")
    experiment = store().get_experiment_by_name(name)
    if experiment is None:
        raise ResourceDoesNotExist(f"Could not find experiment with name '{name}'")
    return reply({"experiment": p.experiment_to_json(experiment)})


@bp.route("/experiments/search", methods=["GET", "POST"])
def search_experiments() -> Response:
    fields = request_fields()
    max_results = p.optional_int(fields, "max_results")
    max_results = validate_max_results(
        SEARCH_MAX_RESULTS_DEFAULT if max_results is None else max_results,
        MAX_RESULTS_SEARCH_EXPERIMENTS,
    )
    page = store().search_experiments(
        view_type=p.parse_view_type(fields.get("view_type")),
        max_results=max_results,
        filter_string=p.optional_string(fields, "filter") or None,
        order_by=p.string_list(fields, "order_by") or None,
        page_token=p.optional_string(fields, "page_token") or None,
    )
    return reply(p.page_to_json("experiments", [p.experiment_to_json(e) for e in page], page))


@bp.post("/experiments/update")
def update_experiment() -> Response:
    fields = request_fields()
    experiment_id = _experiment_id(fields)
    new_name = p.parse_string(p.require_field(fields, "new_name"), "new_name")
    validate_experiment_name(new_name)
    store().rename_experiment(experiment_id, new_name)
    return reply()


@bp.post("/experiments/delete")
def delete_experiment() -> Response:
    store().delete_experiment(_experiment_id(request_fields()))
    return reply()


@bp.post("/experiments/restore")
def restore_experiment() -> Response:
    store().restore_experiment(_experiment_id(request_fields()))
    return reply()


@bp.post("/experiments/set-experiment-tag")
def set_experiment_tag() -> Response:
    fields = request_fields()
    experiment_id = _experiment_id(fields)
    key = p.parse_string(p.require_field(fields, "key"), "key")
    value = p.optional_string(fields, "value") or ""
    key, value = validate_experiment_tag(key, value)
    store().set_experiment_tag(experiment_id, key, value)
    return reply()


@bp.post("/experiments/delete-experiment-tag")
def delete_experiment_tag() -> Response:
    fields = request_fields()
    experiment_id = _experiment_id(fields)
    key = p.parse_string(p.require_field(fields, "key"), "key")
    store().delete_experiment_tag(experiment_id, key)
    return reply()
