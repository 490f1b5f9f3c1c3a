"""What the UI shows, as JSON-ready dicts: one function per page or panel.

Pages render these dicts with templates and the ``/ajax-api/2.0/runyard`` endpoints return them
as JSON, so a page and its JSON twin cannot disagree. Numbers that JSON cannot carry (NaN,
infinities) are sent as MLflow's strings.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from runyard import tags as system_tags
from runyard.clock import now_ms
from runyard.entities import (
    DatasetInput,
    Experiment,
    LoggedModel,
    Metric,
    MetricSummary,
    Run,
    ViewType,
)
from runyard.errors import InvalidParameterValue, ResourceDoesNotExist
from runyard.protocol import format_double
from runyard.search.evaluate import DATASET_CONTEXT_TAG
from runyard.search.render import quote_string
from runyard.store.base import TrackingStore

Json = dict[str, Any]

SOURCE_TAG = system_tags.SOURCE_NAME
RUN_NAME_TAG = system_tags.RUN_NAME
PARENT_TAG = system_tags.PARENT_RUN_ID
#: MLflow keeps run and experiment descriptions (Markdown) in this tag.
NOTE_TAG = system_tags.NOTE
#: Child runs listed on a run page, and logged models found by their source run.
MAX_CHILD_RUNS = 100
MAX_LOGGED_MODELS = 100
#: System metrics (CPU, memory, GPU, ...) are charted apart from the run's own metrics.
SYSTEM_METRIC_PREFIX = "system/"
#: Rows per runs-table page unless asked otherwise, and the most a page may hold.
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
#: Points per series in run-page sparklines and the default per series in charts.
SPARKLINE_POINTS = 40
CHART_POINTS = 1000
MAX_CHART_POINTS = 2500
MAX_CHART_RUNS = 100
MAX_COMPARE_RUNS = 50

#: The runs table's fixed columns: id, label, and the ``order_by`` that sorts by it (or None).
ATTRIBUTE_COLUMNS: tuple[tuple[str, str, str | None], ...] = (
    ("run_name", "Run", "attributes.run_name"),
    ("status", "Status", "attributes.status"),
    ("start_time", "Started", "attributes.start_time"),
    ("duration", "Duration", None),
    ("user_id", "User", "attributes.user_id"),
    ("source", "Source", f"tags.`{SOURCE_TAG}`"),
)


def num(value: float) -> float | str:
    return format_double(value)


# ---- experiments --------------------------------------------------------------------------------
def experiment_json(experiment: Experiment) -> Json:
    return {
        "experiment_id": experiment.experiment_id,
        "name": experiment.name,
        "lifecycle_stage": str(experiment.lifecycle_stage),
        "artifact_location": experiment.artifact_location,
        "creation_time": experiment.creation_time,
        "last_update_time": experiment.last_update_time,
        "tags": dict(experiment.tags),
        "description": experiment.tags.get(NOTE_TAG, ""),
    }


def name_filter(query: str) -> str | None:
    """A plain search box text as an experiment filter (case-insensitive substring of name)."""
    query = query.strip()
    if not query:
        return None
    return f"name ILIKE {quote_string(f'%{query}%')}"


def list_experiments(
    store: TrackingStore, query: str = "", view: str = "active", page_token: str | None = None
) -> Json:
    """The experiments page: each experiment with its runs count and last activity."""
    view_type = {"active": ViewType.ACTIVE_ONLY, "deleted": ViewType.DELETED_ONLY}.get(
        view, ViewType.ALL
    )
    page = store.search_experiments(
        view_type=view_type,
        max_results=500,
        filter_string=name_filter(query),
        order_by=["last_update_time DESC"],
        page_token=page_token or None,
    )
    stats = store.experiment_stats([e.experiment_id for e in page])
    items = []
    for experiment in page:
        item = experiment_json(experiment)
        stat = stats[experiment.experiment_id]
        item["runs_count"] = stat.runs_count
        item["runs_count_exact"] = stat.runs_count_exact
        item["last_activity"] = max(
            (t for t in (stat.last_activity, experiment.last_update_time) if t), default=None
        )
        items.append(item)
    return {"experiments": items, "query": query, "view": view, "next_page_token": page.token}


# ---- runs table ---------------------------------------------------------------------------------
def page_size(value: str | int | None) -> int:
    if value in (None, ""):
        return DEFAULT_PAGE_SIZE
    try:
        size = int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidParameterValue(f"max_results must be an integer, got {value!r}.") from None
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise InvalidParameterValue(f"max_results must be between 1 and {MAX_PAGE_SIZE}.")
    return size


def metric_cell(latest: Metric, summary: MetricSummary | None) -> list[Any]:
    """``[latest, step]``, or ``[latest, step, min, max, count]`` with a summary: a table of
    10,000 runs x 20 metrics is mostly these cells, so they are kept small."""
    if summary is None:
        return [num(latest.value), latest.step]
    return [
        num(latest.value),
        latest.step,
        num(summary.min_value),
        num(summary.max_value),
        summary.count,
    ]


def duration_ms(run: Run) -> int | None:
    start = run.info.start_time
    if start is None:
        return None
    end = run.info.end_time if run.info.status.is_terminated else None
    return max(0, (end if end is not None else now_ms()) - start)


def run_row(run: Run, summaries: Sequence[MetricSummary] | None = None) -> Json:
    by_key = {s.key: s for s in summaries or ()}
    tags = dict(run.data.tags)
    return {
        "run_id": run.info.run_id,
        "run_name": run.info.run_name,
        "experiment_id": run.info.experiment_id,
        "status": str(run.info.status),
        "lifecycle_stage": str(run.info.lifecycle_stage),
        "start_time": run.info.start_time,
        "end_time": run.info.end_time,
        "duration": duration_ms(run),
        "user_id": run.info.user_id,
        "source": tags.get(SOURCE_TAG, ""),
        "parent_run_id": tags.get(PARENT_TAG),
        "params": dict(sorted(run.data.params.items())),
        "metrics": {
            m.key: metric_cell(m, by_key.get(m.key))
            for m in sorted(run.data.metric_list, key=lambda m: m.key)
        },
        "tags": dict(sorted(tags.items())),
    }


def _keys(rows: Iterable[Json], field: str) -> list[str]:
    seen: set[str] = set()
    for row in rows:
        seen.update(row[field])
    return sorted(seen)


def runs_page(
    store: TrackingStore,
    experiment_id: str,
    filter_string: str = "",
    order_by: Sequence[str] = (),
    page_token: str | None = None,
    max_results: int = DEFAULT_PAGE_SIZE,
    with_summaries: bool = False,
    view: str = "active",
) -> Json:
    """One page of the runs table. A bad filter or order raises ``InvalidFilter``."""
    view_type = {"active": ViewType.ACTIVE_ONLY, "deleted": ViewType.DELETED_ONLY}.get(
        view, ViewType.ALL
    )
    page = store.search_runs(
        [experiment_id],
        filter_string or "",
        view_type,
        max_results=max_results,
        order_by=[o for o in order_by if o] or None,
        page_token=page_token or None,
    )
    summaries = store.get_metric_summaries([r.info.run_id for r in page]) if with_summaries else {}
    rows = [run_row(run, summaries.get(run.info.run_id)) for run in page]
    return {
        "experiment_id": experiment_id,
        "filter": filter_string,
        "order_by": list(order_by),
        "columns": [{"id": c, "label": label, "order_by": o} for c, label, o in ATTRIBUTE_COLUMNS],
        "param_keys": _keys(rows, "params"),
        "metric_keys": _keys(rows, "metrics"),
        "tag_keys": _keys(rows, "tags"),
        "runs": rows,
        "next_page_token": page.token,
    }


# ---- one run ------------------------------------------------------------------------------------
def sparkline_points(store: TrackingStore, run_id: str, key: str) -> list[list[Any]]:
    points = store.get_metric_history_bulk_interval([run_id], key, SPARKLINE_POINTS)
    return [[p.step, num(p.value)] for p in points]


def summary_json(summary: MetricSummary) -> Json:
    return {
        "key": summary.key,
        "latest": num(summary.latest.value),
        "step": summary.latest.step,
        "timestamp": summary.latest.timestamp,
        "min": num(summary.min_value),
        "max": num(summary.max_value),
        "count": summary.count,
    }


def run_detail(store: TrackingStore, run_id: str, sparklines: bool = True) -> Json:
    """The run page: info, params, metrics (latest/min/max and a sparkline), tags."""
    run = store.get_run(run_id)
    row = run_row(run)
    summaries = store.get_metric_summaries([run_id]).get(run_id, [])
    metrics = []
    for summary in sorted(summaries, key=lambda s: s.key):
        item = summary_json(summary)
        if sparklines:
            item["sparkline"] = sparkline_points(store, run_id, summary.key)
        metrics.append(item)
    experiment = store.get_experiment(run.info.experiment_id)
    tags = row.pop("tags")
    return {
        **{k: v for k, v in row.items() if k not in ("metrics", "params")},
        "artifact_uri": run.info.artifact_uri,
        "experiment_name": experiment.name,
        "description": tags.get(NOTE_TAG, ""),
        "parent_run": parent_link(store, row["parent_run_id"]),
        "child_runs": child_links(store, run),
        "params": [{"key": k, "value": v} for k, v in row["params"].items()],
        "metrics": [m for m in metrics if not m["key"].startswith(SYSTEM_METRIC_PREFIX)],
        "system_metrics": [m for m in metrics if m["key"].startswith(SYSTEM_METRIC_PREFIX)],
        "datasets": [dataset_json(d) for d in run.inputs.dataset_inputs],
        "logged_models": logged_models(store, run),
        "tags": [{"key": k, "value": v} for k, v in tags.items() if not k.startswith("mlflow.")],
        "system_tags": [{"key": k, "value": v} for k, v in tags.items() if k.startswith("mlflow.")],
    }


def dataset_json(dataset_input: DatasetInput) -> Json:
    """A dataset input as logged by ``log_input``: what it is, where from, and in what role."""
    d = dataset_input.dataset
    return {
        "name": d.name,
        "digest": d.digest,
        "source_type": d.source_type,
        "source": d.source,
        "schema": d.schema,
        "profile": d.profile,
        "context": dataset_input.tags.get(DATASET_CONTEXT_TAG),
        "tags": {k: v for k, v in dataset_input.tags.items() if k != DATASET_CONTEXT_TAG},
    }


def logged_model_json(model: LoggedModel, step: int | None = None) -> Json:
    return {
        "model_id": model.model_id,
        "name": model.name,
        "status": str(model.status),
        "model_type": model.model_type,
        "artifact_location": model.artifact_location,
        "creation_timestamp": model.creation_timestamp,
        "source_run_id": model.source_run_id,
        "step": step,
        "params": dict(sorted(model.params.items())),
        "metrics": [
            {"key": m.key, "value": num(m.value), "step": m.step}
            for m in sorted(model.metrics, key=lambda m: (m.key, m.step))
        ],
        "tags": {k: v for k, v in sorted(model.tags.items()) if not k.startswith("mlflow.")},
    }


def logged_models(store: TrackingStore, run: Run) -> list[Json]:
    """Models the run logged (MLflow 3's ``log_model``): its outputs, and models naming it as
    their source run, oldest first."""
    steps = {o.model_id: o.step for o in run.outputs.model_outputs}
    found = {
        m.model_id: m
        for m in store.search_logged_models(
            [run.info.experiment_id],
            f"source_run_id = '{run.info.run_id}'",
            max_results=MAX_LOGGED_MODELS,
        )
    }
    for model_id in steps:
        if model_id not in found:
            try:
                found[model_id] = store.get_logged_model(model_id)
            except ResourceDoesNotExist:
                continue
    ordered = sorted(found.values(), key=lambda m: (m.creation_timestamp, m.model_id))
    return [logged_model_json(m, steps.get(m.model_id)) for m in ordered]


def run_link(run: Run) -> Json:
    return {"run_id": run.info.run_id, "run_name": run.info.run_name}


def parent_link(store: TrackingStore, parent_run_id: str | None) -> Json | None:
    """The parent's id and name; a parent that is gone keeps its id, with no name."""
    if not parent_run_id:
        return None
    try:
        return run_link(store.get_run(parent_run_id))
    except ResourceDoesNotExist:
        return {"run_id": parent_run_id, "run_name": None}


def child_links(store: TrackingStore, run: Run) -> list[Json]:
    """The run's children in its experiment (nested runs), oldest first, at most a page."""
    escaped = run.info.run_id.replace("'", "")
    children = store.search_runs(
        [run.info.experiment_id],
        f"tags.`{PARENT_TAG}` = '{escaped}'",
        ViewType.ACTIVE_ONLY,
        max_results=MAX_CHILD_RUNS,
        order_by=["attributes.start_time ASC"],
    )
    return [run_link(child) for child in children]


def live_status(store: TrackingStore, run_id: str) -> Json:
    """What a page watching a running run polls: status and every metric's summary."""
    run = store.get_run(run_id)
    summaries = store.get_metric_summaries([run_id]).get(run_id, [])
    return {
        "run_id": run_id,
        "status": str(run.info.status),
        "end_time": run.info.end_time,
        "duration": duration_ms(run),
        "metrics": [summary_json(s) for s in sorted(summaries, key=lambda s: s.key)],
    }


# ---- charts and comparison ----------------------------------------------------------------------
def check_run_ids(run_ids: Sequence[str], limit: int) -> list[str]:
    ids = list(dict.fromkeys(r for r in run_ids if r))
    if not ids:
        raise InvalidParameterValue("Missing value for required parameter 'run_ids'.")
    if len(ids) > limit:
        raise InvalidParameterValue(f"At most {limit} run_ids may be given, got {len(ids)}.")
    return ids


def chart_data(
    store: TrackingStore,
    run_ids: Sequence[str],
    key: str,
    max_results: int = CHART_POINTS,
    start_step: int | None = None,
    end_step: int | None = None,
    run_names: dict[str, str] | None = None,
) -> Json:
    """One metric for several runs, downsampled in the store; points are [step, time, value]."""
    ids = check_run_ids(run_ids, MAX_CHART_RUNS)
    if not key:
        raise InvalidParameterValue("Missing value for required parameter 'metric_key'.")
    if not 1 <= max_results <= MAX_CHART_POINTS:
        raise InvalidParameterValue(f"max_results must be between 1 and {MAX_CHART_POINTS}.")
    if (start_step is None) != (end_step is None):
        raise InvalidParameterValue("Give both start_step and end_step, or neither.")
    points = store.get_metric_history_bulk_interval(
        ids, key, max_results, start_step=start_step, end_step=end_step
    )
    by_run: dict[str, list[list[Any]]] = {rid: [] for rid in ids}
    for p in points:
        by_run.setdefault(p.run_id or ids[0], []).append([p.step, p.timestamp, num(p.value)])
    names = (
        run_names
        if run_names is not None
        else {rid: store.get_run(rid).info.run_name for rid in ids}
    )
    series = []
    for rid in ids:
        pts = sorted(by_run[rid], key=lambda p: (p[0], p[1]))
        series.append({"run_id": rid, "run_name": names.get(rid, rid), "points": pts})
    return {"metric_key": key, "series": series}


def _differs(values: Sequence[Any]) -> bool:
    return len({repr(v) for v in values}) > 1


def compare_runs(store: TrackingStore, run_ids: Sequence[str]) -> Json:
    """Params and metrics of several runs side by side, with the rows that differ marked."""
    ids = check_run_ids(run_ids, MAX_COMPARE_RUNS)
    runs = [store.get_run(rid) for rid in ids]
    summaries = store.get_metric_summaries(ids)
    param_keys = sorted({k for r in runs for k in r.data.params})
    params = []
    for key in param_keys:
        values = [r.data.params.get(key) for r in runs]
        params.append({"key": key, "values": values, "differs": _differs(values)})
    metric_rows: dict[str, list[Json | None]] = {}
    for index, rid in enumerate(ids):
        for s in summaries.get(rid, []):
            metric_rows.setdefault(s.key, [None] * len(ids))[index] = summary_json(s)
    metrics = []
    for key in sorted(metric_rows):
        values = metric_rows[key]
        latest = [v["latest"] if v else None for v in values]
        metrics.append({"key": key, "values": values, "differs": _differs(latest)})
    experiment_ids = list(dict.fromkeys(r.info.experiment_id for r in runs))
    return {
        "experiments": [
            {"experiment_id": eid, "name": store.get_experiment(eid).name} for eid in experiment_ids
        ],
        "runs": [
            {
                "run_id": r.info.run_id,
                "run_name": r.info.run_name,
                "status": str(r.info.status),
                "experiment_id": r.info.experiment_id,
                "start_time": r.info.start_time,
                "duration": duration_ms(r),
            }
            for r in runs
        ],
        "params": params,
        "metrics": metrics,
        "metric_keys": sorted(metric_rows),
    }
