"""``/logged-models*``: what ``log_model`` and the autologgers create, finalize and look up."""

from __future__ import annotations

from flask import Blueprint, Response

from runyard import protocol as p
from runyard.server.api.common import check_experiment_location, reply, request_fields, store
from runyard.validation import validate_experiment_id, validate_key, validate_max_results

bp = Blueprint("logged_models", __name__)

#: MLflow's proto default page size for logged-model search.
SEARCH_DEFAULT_MAX_RESULTS = 50
SEARCH_MAX_RESULTS = 1000


def _model_reply(model_id: str) -> Response:
    return reply({"model": p.logged_model_to_json(store().get_logged_model(model_id))})


@bp.post("/logged-models")
def create_logged_model() -> Response:
    fields = request_fields()
    experiment_id = validate_experiment_id(
        p.parse_string(p.require_field(fields, "experiment_id"), "experiment_id")
    )
    tags = p.key_values_from_json(fields.get("tags"), "tags")
    params = p.key_values_from_json(fields.get("params"), "params")
    for key, _ in (*tags, *params):
        validate_key(key)
    check_experiment_location(experiment_id)
    model = store().create_logged_model(
        experiment_id,
        name=p.optional_string(fields, "name") or None,
        source_run_id=p.optional_string(fields, "source_run_id") or None,
        tags=tags,
        params=params,
        model_type=p.optional_string(fields, "model_type") or None,
    )
    return reply({"model": p.logged_model_to_json(model)})


@bp.get("/logged-models/<model_id>")
def get_logged_model(model_id: str) -> Response:
    return _model_reply(model_id)


@bp.patch("/logged-models/<model_id>")
def finalize_logged_model(model_id: str) -> Response:
    fields = request_fields()
    status = p.parse_model_status(p.require_field(fields, "status"))
    model = store().finalize_logged_model(model_id, status)
    return reply({"model": p.logged_model_to_json(model)})


@bp.delete("/logged-models/<model_id>")
def delete_logged_model(model_id: str) -> Response:
    store().delete_logged_model(model_id)
    return reply()


@bp.patch("/logged-models/<model_id>/tags")
def set_logged_model_tags(model_id: str) -> Response:
    tags = p.key_values_from_json(request_fields().get("tags"), "tags")
    for key, _ in tags:
        validate_key(key)
    store().set_logged_model_tags(model_id, tags)
    return reply()


@bp.post("/logged-models/<model_id>/params")
def log_logged_model_params(model_id: str) -> Response:
    params = p.key_values_from_json(request_fields().get("params"), "params")
    store().log_logged_model_params(model_id, params)
    return reply()


@bp.delete("/logged-models/<model_id>/tags/<path:tag_key>")
def delete_logged_model_tag(model_id: str, tag_key: str) -> Response:
    store().delete_logged_model_tag(model_id, tag_key)
    return reply()


@bp.post("/logged-models/search")
def search_logged_models() -> Response:
    fields = request_fields()
    experiment_ids = [validate_experiment_id(e) for e in p.string_list(fields, "experiment_ids")]
    max_results = p.optional_int(fields, "max_results")
    max_results = SEARCH_DEFAULT_MAX_RESULTS if max_results is None else max_results
    validate_max_results(max_results, SEARCH_MAX_RESULTS)
    order_by = [
        p.model_order_from_json(item, i) for i, item in enumerate(p.object_list(fields, "order_by"))
    ]
    datasets = [
        p.model_dataset_from_json(item, i)
        for i, item in enumerate(p.object_list(fields, "datasets"))
    ]
    page = store().search_logged_models(
        experiment_ids,
        filter_string=p.optional_string(fields, "filter") or None,
        max_results=max_results,
        page_token=p.optional_string(fields, "page_token") or None,
        order_by=order_by,
        datasets=datasets,
    )
    return reply(p.page_to_json("models", [p.logged_model_to_json(m) for m in page], page))
