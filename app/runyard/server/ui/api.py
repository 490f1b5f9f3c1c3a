"""The UI's JSON twins, mounted under ``mount.RUNYARD`` (``/ajax-api/2.0/runyard`` and
``/api/2.0/runyard``).

Each page of the UI shows exactly what one of these endpoints returns (see ``ui_data``); every
write the UI makes (create, rename, delete, restore, tags, descriptions) uses MLflow's own
endpoints, so it is validated as a client's would be. Errors are the
server's usual JSON (``{"error_code", "message"}``), e.g. a bad filter names its column.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Sequence

from flask import Blueprint, Response, request, stream_with_context

from runyard.errors import InvalidParameterValue
from runyard.server.api.common import reply, store
from runyard.server.ui import artifacts as ui_artifacts
from runyard.server.ui import data as ui_data

bp = Blueprint("runyard_ui_api", __name__)

#: Rows the CSV export asks the store for at a time.
EXPORT_PAGE = 1000
#: Cells a spreadsheet would run as a formula start with one of these.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def arg(name: str, default: str = "") -> str:
    return request.args.get(name, default)


def int_arg(name: str) -> int | None:
    value = request.args.get(name)
    if value in (None, ""):
        return None
    try:
        return int(value)
    except ValueError:
        raise InvalidParameterValue(f"{name} must be an integer, got {value!r}.") from None


def list_arg(name: str) -> list[str]:
    values = request.args.getlist(name)
    if len(values) == 1 and "," in values[0] and name == "run_ids":
        values = values[0].split(",")
    return [v for v in values if v]


def required(name: str) -> str:
    value = request.args.get(name, "")
    if not value:
        raise InvalidParameterValue(f"Missing value for required parameter '{name}'.")
    return value


@bp.get("/experiments")
def experiments() -> Response:
    return reply(
        ui_data.list_experiments(
            store(), arg("q"), arg("view", "active"), arg("page_token") or None
        )
    )


def _runs_page(page_token: str | None, max_results: int, summaries: bool) -> dict:
    return ui_data.runs_page(
        store(),
        required("experiment_id"),
        filter_string=arg("filter"),
        order_by=list_arg("order_by"),
        page_token=page_token,
        max_results=max_results,
        with_summaries=summaries,
        view=arg("view", "active"),
    )


@bp.get("/runs")
def runs() -> Response:
    summaries = arg("summaries") in ("1", "true", "minmax")
    size = ui_data.page_size(arg("max_results"))
    return reply(_runs_page(arg("page_token") or None, size, summaries))


@bp.get("/runs/get")
def run() -> Response:
    return reply(ui_data.run_detail(store(), required("run_id")))


@bp.get("/runs/live")
def live() -> Response:
    return reply(ui_data.live_status(store(), required("run_id")))


@bp.get("/compare")
def compare() -> Response:
    return reply(ui_data.compare_runs(store(), list_arg("run_ids")))


@bp.get("/chart")
def chart() -> Response:
    max_results = int_arg("max_results")
    return reply(
        ui_data.chart_data(
            store(),
            list_arg("run_ids"),
            required("metric_key"),
            max_results=ui_data.CHART_POINTS if max_results is None else max_results,
            start_step=int_arg("start_step"),
            end_step=int_arg("end_step"),
        )
    )


@bp.get("/artifacts/list")
def artifacts_list() -> Response:
    run = store().get_run(required("run_id"))
    return reply(ui_artifacts.list_children(run, arg("path")))


@bp.get("/artifacts/preview")
def artifacts_preview() -> Response:
    run = store().get_run(required("run_id"))
    return reply(ui_artifacts.preview(run, required("path")))


@bp.get("/images")
def step_images() -> Response:
    run = store().get_run(required("run_id"))
    return reply(ui_artifacts.step_images(run))


@bp.get("/artifacts/raw")
def artifacts_raw() -> Response:
    run = store().get_run(required("run_id"))
    return ui_artifacts.raw_response(
        run.info.artifact_uri, required("path"), download=arg("download") == "1"
    )


@bp.get("/logged-models/files")
def logged_model_files() -> Response:
    model = store().get_logged_model(required("model_id"))
    return reply(
        {
            "model_id": model.model_id,
            **ui_artifacts.list_under(model.artifact_location, arg("path")),
        }
    )


@bp.get("/logged-models/raw")
def logged_model_raw() -> Response:
    model = store().get_logged_model(required("model_id"))
    return ui_artifacts.raw_response(model.artifact_location, required("path"), download=True)


# ---- CSV export ---------------------------------------------------------------------------------
def csv_safe(value: object) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def export_columns(columns: Sequence[str]) -> list[str]:
    """Column ids as the table names them: an attribute, or ``params.k``/``metrics.k``/...."""
    chosen = list(columns) or [c for c, _, _ in ui_data.ATTRIBUTE_COLUMNS]
    attributes = {c for c, _, _ in ui_data.ATTRIBUTE_COLUMNS} | {"run_id", "end_time"}
    for column in chosen:
        kind, _, key = column.partition(".")
        if column not in attributes and not (kind in ("params", "metrics", "tags") and key):
            raise InvalidParameterValue(f"Unknown column {column!r} in 'columns'.")
    return chosen


def cell(row: dict, column: str) -> object:
    kind, _, key = column.partition(".")
    if kind == "metrics" and key:
        metric = row["metrics"].get(key)
        return metric[0] if metric else None
    if kind in ("params", "tags") and key:
        return row[kind].get(key)
    return row.get(column)


def _csv_lines(columns: list[str], first: dict) -> Iterator[str]:
    out = io.StringIO()
    writer = csv.writer(out)

    def flush() -> str:
        text = out.getvalue()
        out.seek(0)
        out.truncate()
        return text

    writer.writerow(["run_id", *columns])
    yield flush()
    page = first
    while True:
        for row in page["runs"]:
            values = [cell(row, c) for c in columns]
            writer.writerow([row["run_id"], *(csv_safe(v) for v in values)])
        yield flush()
        if not page["next_page_token"]:
            return
        page = _runs_page(page["next_page_token"], EXPORT_PAGE, False)


@bp.get("/runs/export.csv")
def export_csv() -> Response:
    """Every run matching the filter, in the table's order and columns, streamed as CSV."""
    columns = export_columns(list_arg("columns"))
    first = _runs_page(None, EXPORT_PAGE, False)  # a bad filter fails here, before streaming
    name = "runs-experiment-" + re.sub(r"[^0-9A-Za-z_-]", "_", first["experiment_id"]) + ".csv"
    return Response(
        stream_with_context(_csv_lines(columns, first)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
