"""The web UI's pages: server-rendered Jinja templates over the ``ui_data`` dicts.

Each page shows what its JSON twin in ``ui_api`` returns; small ES modules in ``static/js``
add sorting, paging, charts, previews and live updates by calling those twins. Errors raised
while rendering a page become an error page (the API keeps its JSON errors).
"""

from __future__ import annotations

import datetime as dt
import logging

from flask import Blueprint, render_template, request
from markupsafe import Markup

from runyard.server.api.common import store
from runyard.server.ui import api as ui_api
from runyard.server.ui import data as ui_data

log = logging.getLogger("runyard.server")

bp = Blueprint(
    "ui",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/ui-static",
)


# ---- formatting filters -------------------------------------------------------------------------
@bp.app_template_filter("ms_time")
def ms_time(value: int | None) -> str:
    if value is None:
        return "—"
    return dt.datetime.fromtimestamp(value / 1000).strftime("%Y-%m-%d %H:%M:%S")


@bp.app_template_filter("duration")
def duration(value: int | None) -> str:
    if value is None:
        return "—"
    seconds = value / 1000
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, sec = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {sec}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes}m"


@bp.app_template_filter("num")
def fmt_num(value: float | str | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}"


@bp.app_template_filter("sparkline")
def sparkline(points: list[list], width: int = 120, height: int = 24) -> Markup:
    """An inline SVG polyline of [step, value] points (numbers only, so nothing to escape)."""
    values = [(float(s), float(v)) for s, v in points if not isinstance(v, str)]
    if len(values) < 2:
        return Markup("")
    xs, ys = [s for s, _ in values], [v for _, v in values]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    dx, dy = (x1 - x0) or 1.0, (y1 - y0) or 1.0
    coords = " ".join(
        f"{(s - x0) / dx * (width - 2) + 1:.1f},{height - 1 - (v - y0) / dy * (height - 2):.1f}"
        for s, v in values
    )
    return Markup(
        f'<svg class="spark" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'aria-hidden="true"><polyline points="{coords}"/></svg>'
    )


# ---- pages --------------------------------------------------------------------------------------
@bp.get("/")
def experiments_page() -> str:
    data = ui_data.list_experiments(
        store(), request.args.get("q", ""), request.args.get("view", "active")
    )
    return render_template("experiments.html", data=data)


@bp.get("/experiments/<experiment_id>")
def experiment_page(experiment_id: str) -> str:
    experiment = ui_data.experiment_json(store().get_experiment(experiment_id))
    return render_template("experiment.html", experiment=experiment)


@bp.get("/experiments/<experiment_id>/charts")
def chart_view_page(experiment_id: str) -> str:
    experiment = ui_data.experiment_json(store().get_experiment(experiment_id))
    return render_template("charts.html", experiment=experiment, max_runs=ui_data.MAX_CHART_RUNS)


@bp.get("/runs/<run_id>")
def run_page(run_id: str) -> str:
    return render_template("run.html", run=ui_data.run_detail(store(), run_id))


@bp.get("/compare")
def compare_page() -> str:
    data = ui_data.compare_runs(store(), ui_api.list_arg("run_ids"))
    return render_template("compare.html", data=data)
