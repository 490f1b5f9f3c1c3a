"""``/runs/*``: create, read, update, delete/restore, logging, search, inputs and outputs."""

from __future__ import annotations

import time

from flask import Blueprint, Response, request

from runyard import protocol as p
from runyard.clock import now_ms
from runyard.entities import Metric, ModelInput, ModelOutput, Param, Run, RunTag, ViewType
from runyard.errors import InvalidParameterValue, ResourceAlreadyExists, ResourceDoesNotExist
from runyard.idempotency import IDEMPOTENCY_HEADER, run_id_for
from runyard.server.api.common import (
    check_experiment_location,
    large_reply,
    reply,
    request_fields,
    store,
)
from runyard.store.base import DEFAULT_EXPERIMENT_ID, SEARCH_MAX_RESULTS_DEFAULT
from runyard.validation import (
    MAX_RESULTS_SEARCH_RUNS,
    validate_experiment_id,
    validate_max_results,
)

bp = Blueprint("runs", __name__)

#: How long a replayed create waits for the first attempt's run to appear (20 x 0.1 s).
REPLAY_WAIT_TRIES = 20
REPLAY_WAIT_SECONDS = 0.1


@bp.post("/runs/create")
def create_run() -> Response:
    fields = request_fields()
    experiment_id = validate_experiment_id(
        p.optional_string(fields, "experiment_id") or DEFAULT_EXPERIMENT_ID
    )
    tags = [RunTag(k, v) for k, v in p.key_values_from_json(fields.get("tags"), "tags")]
    run_name = p.optional_string(fields, "run_name") or None
    start_time = p.optional_int(fields, "start_time")
    check_experiment_location(experiment_id)
    key = request.headers.get(IDEMPOTENCY_HEADER)
    run_id = run_id_for(key, experiment_id) if key else None
    try:
        run = store().create_run(
            experiment_id=experiment_id,
            user_id=p.optional_string(fields, "user_id") or "",
            start_time=now_ms() if start_time is None else start_time,
            tags=tags,
            run_name=run_name,
            run_id=run_id,
        )
    except ResourceAlreadyExists:
        if run_id is None:
            raise
        run = _replayed_run(run_id)
    return reply({"run": p.run_to_json(run)})


def _replayed_run(run_id: str) -> Run:
    """The run a replayed create made first; it may still be being written by another worker
    (a file store renames a finished run into place), so wait for it briefly."""
    for _ in range(REPLAY_WAIT_TRIES):
        try:
            return store().get_run(run_id)
        except ResourceDoesNotExist:
            time.sleep(REPLAY_WAIT_SECONDS)
    return store().get_run(run_id)


@bp.get("/runs/get")
def get_run() -> Response:
    run = store().get_run(p.run_id_from(request_fields()))
    return reply({"run": p.run_to_json(run)})


@bp.post("/runs/update")
def update_run() -> Response:
    fields = request_fields()
    run_id = p.run_id_from(fields)
    info = store().update_run_info(
        run_id,
        status=p.parse_run_status(fields.get("status")),
        end_time=p.optional_int(fields, "end_time"),
        run_name=p.optional_string(fields, "run_name") or None,
    )
    return reply({"run_info": p.run_info_to_json(info)})


@bp.post("/runs/delete")
def delete_run() -> Response:
    store().delete_run(p.run_id_from(request_fields()))
    return reply()


@bp.post("/runs/restore")
def restore_run() -> Response:
    store().restore_run(p.run_id_from(request_fields()))
    return reply()


@bp.post("/runs/log-metric")
def log_metric() -> Response:
    fields = request_fields()
    run_id = p.run_id_from(fields)
    store().log_metric(run_id, p.metric_from_json(fields))
    return reply()


@bp.post("/runs/log-parameter")
def log_parameter() -> Response:
    fields = request_fields()
    run_id = p.run_id_from(fields)
    key = p.parse_string(p.require_field(fields, "key"), "key")
    store().log_param(run_id, Param(key, p.optional_string(fields, "value") or ""))
    return reply()


@bp.post("/runs/set-tag")
def set_tag() -> Response:
    fields = request_fields()
    run_id = p.run_id_from(fields)
    key = p.parse_string(p.require_field(fields, "key"), "key")
    store().set_tag(run_id, RunTag(key, p.optional_string(fields, "value") or ""))
    return reply()


@bp.post("/runs/delete-tag")
def delete_tag() -> Response:
    fields = request_fields()
    run_id = p.run_id_from(fields)
    store().delete_tag(run_id, p.parse_string(p.require_field(fields, "key"), "key"))
    return reply()


@bp.post("/runs/log-batch")
def log_batch() -> Response:
    fields = request_fields()
    run_id = p.run_id_from(fields)
    metrics = _metrics_from(p.object_list(fields, "metrics"))
    params = [Param(k, v) for k, v in p.key_values_from_json(fields.get("params"), "params")]
    tags = [RunTag(k, v) for k, v in p.key_values_from_json(fields.get("tags"), "tags")]
    if metrics or params or tags:
        store().log_batch(run_id, metrics=metrics, params=params, tags=tags)
    return reply()


def _metrics_from(items: list) -> list[Metric]:
    """The batch's metrics; the field path (``metrics[i].``) is built only to name a bad one,
    not for each of up to 1000 points."""
    try:
        return [p.metric_from_json(m) for m in items]
    except InvalidParameterValue:
        return [p.metric_from_json(m, f"metrics[{i}].") for i, m in enumerate(items)]


@bp.post("/runs/search")
def search_runs() -> Response:
    fields = request_fields()
    max_results = p.optional_int(fields, "max_results")
    max_results = validate_max_results(
        SEARCH_MAX_RESULTS_DEFAULT if max_results is None else max_results,
        MAX_RESULTS_SEARCH_RUNS,
    )
    experiment_ids = [validate_experiment_id(e) for e in p.string_list(fields, "experiment_ids")]
    view_type: ViewType = p.parse_view_type(fields.get("run_view_type"), "run_view_type")
    page = store().search_runs(
        experiment_ids,
        filter_string=p.optional_string(fields, "filter") or "",
        run_view_type=view_type,
        max_results=max_results,
        order_by=p.string_list(fields, "order_by") or None,
        page_token=p.optional_string(fields, "page_token") or None,
    )
    return large_reply(p.page_to_json("runs", [p.run_to_json(r) for r in page], page))


@bp.post("/runs/log-inputs")
def log_inputs() -> Response:
    fields = request_fields()
    run_id = p.run_id_from(fields)
    datasets = [
        p.dataset_input_from_json(d, f"datasets[{i}]")
        for i, d in enumerate(p.object_list(fields, "datasets"))
    ]
    models = [
        ModelInput(p.parse_string(p.require_field(m, "model_id"), f"models[{i}].model_id"))
        for i, m in enumerate(p.object_list(fields, "models"))
    ]
    store().log_inputs(run_id, datasets=datasets, models=models)
    return reply()


@bp.post("/runs/outputs")
def log_outputs() -> Response:
    fields = request_fields()
    run_id = p.run_id_from(fields)
    items = p.object_list(fields, "models")
    if not items:
        raise InvalidParameterValue(p.missing_message("models"))
    models = [
        ModelOutput(
            p.parse_string(p.require_field(m, "model_id"), f"models[{i}].model_id"),
            p.optional_int(m, "step") or 0,
        )
        for i, m in enumerate(items)
    ]
    store().log_outputs(run_id, models)
    return reply()
