"""``/metrics/*``: one run's metric history, and many runs' histories sampled for charts."""

from __future__ import annotations

import json

from flask import Blueprint, Response, current_app

from runyard import protocol as p
from runyard.errors import InvalidParameterValue
from runyard.server.api.common import large_reply, reply, request_fields, store
from runyard.validation import MAX_RESULTS_GET_METRIC_HISTORY

bp = Blueprint("metrics", __name__)

#: MLflow's limits for the chart endpoint.
MAX_RESULTS_PER_RUN = 2500
MAX_RUNS_BULK = 100


@bp.get("/metrics/get-history")
def get_metric_history() -> Response:
    fields = request_fields()
    run_id = p.run_id_from(fields)
    key = p.parse_string(p.require_field(fields, "metric_key"), "metric_key")
    max_results = p.optional_int(fields, "max_results")
    if max_results is not None and max_results <= 0:
        raise InvalidParameterValue(
            f"Invalid value {max_results} for parameter 'max_results' supplied. It must be a "
            "positive integer"
        )
    if max_results is not None and max_results > MAX_RESULTS_GET_METRIC_HISTORY:
        raise InvalidParameterValue(
            f"Invalid value {max_results} for parameter 'max_results' supplied. It must be at "
            f"most {MAX_RESULTS_GET_METRIC_HISTORY}; page with next_page_token."
        )
    max_results = max_results or MAX_RESULTS_GET_METRIC_HISTORY
    token = p.optional_string(fields, "page_token") or None
    points, next_token = store().get_metric_history_json(
        run_id, key, max_results=max_results, page_token=token
    )
    # At most MAX_RESULTS_GET_METRIC_HISTORY points, written as text by the store.
    fields_text = ['"metrics":' + points] if points else []
    if next_token:
        fields_text.append('"next_page_token":' + json.dumps(next_token))
    text = "{" + ",".join(fields_text) + "}\n"
    return current_app.response_class(text, mimetype="application/json")


@bp.get("/metrics/get-history-bulk-interval")
def get_metric_history_bulk_interval() -> Response:
    fields = request_fields()
    run_ids = p.string_list(fields, "run_ids")
    if not run_ids:
        raise InvalidParameterValue(p.missing_message("run_ids"))
    if len(run_ids) > MAX_RUNS_BULK:
        raise InvalidParameterValue(
            f"GetMetricHistoryBulkInterval request must specify at most {MAX_RUNS_BULK} run_ids. "
            f"Received {len(run_ids)} run_ids."
        )
    key = p.parse_string(p.require_field(fields, "metric_key"), "metric_key")
    max_results = p.optional_int(fields, "max_results")
    max_results = MAX_RESULTS_PER_RUN if max_results is None else max_results
    if not 1 <= max_results <= MAX_RESULTS_PER_RUN:
        raise InvalidParameterValue(f"max_results must be between 1 and {MAX_RESULTS_PER_RUN}.")
    start_step = p.optional_int(fields, "start_step")
    end_step = p.optional_int(fields, "end_step")
    if (start_step is None) != (end_step is None):
        raise InvalidParameterValue(
            "If either start step or end step are specified, both must be specified."
        )
    if start_step is not None and end_step is not None and start_step > end_step:
        raise InvalidParameterValue(
            "end_step must be greater than start_step. "
            f"Found start_step={start_step} and end_step={end_step}."
        )
    points = store().get_metric_history_bulk_interval(
        run_ids, key, max_results, start_step=start_step, end_step=end_step
    )
    return reply(p.page_to_json("metrics", [p.metric_to_json(m, with_run_id=True) for m in points]))


#: MLflow's limits for ``get-history-bulk`` (the web UI's chart endpoint before sampling).
MAX_RESULTS_HISTORY_BULK = 25_000


@bp.get("/metrics/get-history-bulk")
def get_metric_history_bulk() -> Response:
    """Full histories of up to 100 runs, each point with its ``run_id``; like MLflow, at most
    ``max_results`` points in all (runs in id order)."""
    fields = request_fields()
    run_ids = p.string_list(fields, "run_id")
    if not run_ids:
        raise InvalidParameterValue(
            "GetMetricHistoryBulk request must specify at least one run_id."
        )
    if len(run_ids) > MAX_RUNS_BULK:
        raise InvalidParameterValue(
            f"GetMetricHistoryBulk request cannot specify more than {MAX_RUNS_BULK} run_ids. "
            f"Received {len(run_ids)} run_ids."
        )
    key = p.optional_string(fields, "metric_key")
    if key is None:
        raise InvalidParameterValue("GetMetricHistoryBulk request must specify a metric_key.")
    max_results = p.optional_int(fields, "max_results") or MAX_RESULTS_HISTORY_BULK
    max_results = min(max_results, MAX_RESULTS_HISTORY_BULK)
    points: list = []
    for run_id in sorted(run_ids):
        if len(points) >= max_results:
            break
        page = store().get_metric_history(run_id, key, max_results=max_results)
        points += [
            {**p.metric_to_json(m), "run_id": run_id} for m in page[: max_results - len(points)]
        ]
    return large_reply({"metrics": points} if points else {})
