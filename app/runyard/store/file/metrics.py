"""Metric files of the ``mlruns`` layout, and what is computed from a metric's points.

A run's metric file has one line per point, ``<timestamp_ms> <value> <step>``, optionally
followed by ``<dataset_name> <dataset_digest>``; a logged model's file adds the run id after the
step. Values are written as Python writes floats (``0.5``, ``1e+20``, ``nan``, ``inf``), which is
what MLflow writes and parses.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace

from runyard.entities import Metric, MetricSummary
from runyard.errors import InvalidParameterValue, RunyardError


def _value_text(value: float) -> str:
    return str(float(value))


def check_line_fields(metrics: Iterable[Metric]) -> None:
    """Refuse, before anything is written, dataset names and digests a metric line cannot hold:
    fields are separated by single spaces, so one with whitespace (or none at all) would make
    the line unreadable and the whole history with it."""
    for metric in metrics:
        for field in ("dataset_name", "dataset_digest"):
            text = getattr(metric, field)
            if text is not None and (not text or any(c.isspace() for c in text)):
                raise InvalidParameterValue(
                    f"Metric '{metric.key}' has {field} {text!r}: the mlruns file store keeps "
                    "it in a space-separated line, so it must be non-empty and have no "
                    "whitespace (a SQL store or a runyard server takes any)."
                )


def format_run_line(metric: Metric) -> str:
    line = f"{metric.timestamp} {_value_text(metric.value)} {metric.step}"
    if metric.dataset_name is not None and metric.dataset_digest is not None:
        line += f" {metric.dataset_name} {metric.dataset_digest}"
    return line + "\n"


def format_model_line(metric: Metric, run_id: str) -> str:
    line = f"{metric.timestamp} {_value_text(metric.value)} {metric.step} {run_id}"
    if metric.dataset_name is not None and metric.dataset_digest is not None:
        line += f" {metric.dataset_name} {metric.dataset_digest}"
    return line + "\n"


def parse_run_line(key: str, line: str, run_id: str | None) -> Metric:
    parts = line.strip().split(" ")
    if len(parts) not in (2, 3, 5):
        raise RunyardError(
            f"Metric '{key}' is malformed; its file has a line with {len(parts)} fields. "
            "Expected 2, 3, or 5 fields."
        )
    return Metric(
        key=key,
        value=float(parts[1]),
        timestamp=int(parts[0]),
        step=int(parts[2]) if len(parts) >= 3 else 0,
        run_id=run_id,
        dataset_name=parts[3] if len(parts) == 5 else None,
        dataset_digest=parts[4] if len(parts) == 5 else None,
    )


def parse_model_line(key: str, line: str, model_id: str) -> Metric:
    parts = line.strip().split(" ")
    if len(parts) not in (4, 6):
        raise RunyardError(
            f"Metric '{key}' of model {model_id} is malformed; a line has {len(parts)} fields. "
            "Expected 4 or 6 fields."
        )
    return Metric(
        key=key,
        value=float(parts[1]),
        timestamp=int(parts[0]),
        step=int(parts[2]),
        run_id=parts[3],
        model_id=model_id,
        dataset_name=parts[4] if len(parts) == 6 else None,
        dataset_digest=parts[5] if len(parts) == 6 else None,
    )


def latest_run_point(key: str, lines: Sequence[str], run_id: str | None) -> Metric | None:
    """The latest point of a run's metric file (None when it has none): ``latest`` over
    ``parse_run_line``, with a ``Metric`` built for the winner only (a run's file holds every
    step of a training; a run page reads every key's)."""
    best: tuple[tuple[int, int, float], str] | None = None
    for line in lines:
        parts = line.strip().split(" ")
        if len(parts) not in (2, 3, 5):
            parse_run_line(key, line, run_id)  # raises, naming the malformed line
        value = float(parts[1])
        step = int(parts[2]) if len(parts) >= 3 else 0
        order = (step, int(parts[0]), -math.inf if math.isnan(value) else value)
        if best is None or order > best[0]:
            best = (order, line)
    return None if best is None else parse_run_line(key, best[1], run_id)


def latest_model_points(key: str, lines: Sequence[str], model_id: str) -> list[Metric]:
    """The latest point of ``key`` on each dataset of a model's metric file: what
    ``parse_model_line`` and ``latest`` give per dataset, with a ``Metric`` built only for the
    winners (a model's file holds every training iteration)."""
    best: dict[tuple[str | None, str | None], tuple[tuple[int, int, float], list[str]]] = {}
    for line in lines:
        parts = line.strip().split(" ")
        if len(parts) not in (4, 6):
            parse_model_line(key, line, model_id)  # raises, naming the malformed line
        value = float(parts[1])
        order = (int(parts[2]), int(parts[0]), -math.inf if math.isnan(value) else value)
        group = (parts[4], parts[5]) if len(parts) == 6 else (None, None)
        found = best.get(group)
        if found is None or order > found[0]:
            best[group] = (order, parts)
    return [parse_model_line(key, " ".join(parts), model_id) for _, parts in best.values()]


def read_lines(path: str) -> list[str]:
    """Complete lines of a metric file ("" if it is missing). A last line without its
    newline is still being written by another process and is not yet a point."""
    try:
        with open(path, "rb") as handle:
            data = handle.read().decode("utf-8")
    except FileNotFoundError:
        return []
    lines = data.split("\n")
    return [line for line in lines[:-1] if line.strip()]


#: How far back from the end of a metric file a re-sent point is looked for (at least).
DEDUP_WINDOW_BYTES = 256 * 1024


def read_tail_lines(path: str, window: int) -> list[str]:
    """The complete lines within the last ``window`` bytes of a metric file.

    Re-sent points (a client retrying, a spool replaying) are always among the most recent
    writes to a key: a spool holds back every later write to the run until it drains. So the
    duplicate check reads the tail, keeping an append O(batch) rather than O(history)."""
    try:
        with open(path, "rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            start = max(0, size - window)
            handle.seek(start)
            data = handle.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return []
    lines = data.split("\n")
    if start > 0:
        lines = lines[1:]  # the first line is cut by the window
    return [line for line in lines[:-1] if line.strip()]


def read_run_metric(path: str, key: str, run_id: str | None) -> list[Metric]:
    return [parse_run_line(key, line, run_id) for line in read_lines(path)]


def _order_key(metric: Metric) -> tuple[int, int, float]:
    """MLflow's "latest": greatest (step, timestamp, value); NaN compares below numbers here
    so a NaN never hides a real value logged at the same step and time."""
    value = metric.value
    return (metric.step, metric.timestamp, -math.inf if math.isnan(value) else value)


def latest(points: Iterable[Metric]) -> Metric:
    return max(points, key=_order_key)


def history_order(points: Iterable[Metric]) -> list[Metric]:
    """Metric history order: (timestamp, step, value) ascending."""
    return sorted(
        points,
        key=lambda m: (m.timestamp, m.step, -math.inf if math.isnan(m.value) else m.value),
    )


def _complete_lines(path: str) -> Iterator[str]:
    """The complete, non-empty lines of a metric file, streamed (see ``read_lines``)."""
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed by the with below
    except FileNotFoundError:
        return
    with handle:
        for raw in handle:
            if not raw.endswith(b"\n"):
                return  # still being written by another process
            line = raw.decode("utf-8")
            if line.strip():
                yield line


def _line_order_key(line: str) -> tuple[int, int, float]:
    parts = line.split()
    value = float(parts[1])
    step = int(parts[2]) if len(parts) >= 3 else 0
    return (int(parts[0]), step, -math.inf if math.isnan(value) else value)


def history_page(
    path: str, key: str, run_id: str | None, offset: int, limit: int
) -> tuple[list[Metric], bool]:
    """Points ``[offset, offset + limit)`` of a metric in history order, and whether more follow.

    A training loop appends points in time order, so the file is usually in history order
    already: then it is streamed twice (check, then slice) holding one page, and a
    million-point metric is answered in bounded memory. A file out of order is sorted whole.
    """
    previous: tuple[int, int, float] | None = None
    for line in _complete_lines(path):
        current = _line_order_key(line)
        if previous is not None and current < previous:
            ordered = history_order(read_run_metric(path, key, run_id))
            return ordered[offset : offset + limit], len(ordered) > offset + limit
        previous = current
    page: list[Metric] = []
    for index, line in enumerate(_complete_lines(path)):
        if index < offset:
            continue
        if len(page) == limit:
            return page, True
        page.append(parse_run_line(key, line, run_id))
    return page, False


def summarize(key: str, points: Sequence[Metric]) -> MetricSummary:
    finite = [m.value for m in points if not math.isnan(m.value)]
    return MetricSummary(
        key=key,
        latest=latest(points),
        min_value=min(finite) if finite else math.nan,
        max_value=max(finite) if finite else math.nan,
        count=len(points),
    )


def downsample(
    points: Sequence[Metric],
    max_results: int,
    start_step: int | None = None,
    end_step: int | None = None,
) -> list[Metric]:
    """At most ``max_results`` points for a chart, ordered by (step, timestamp).

    Keeps the first and the last point and, in each of equal-width step buckets between
    them, the point with the smallest and the one with the largest value, so spikes survive.
    """
    chosen = sorted(
        (
            m
            for m in points
            if (start_step is None or m.step >= start_step)
            and (end_step is None or m.step <= end_step)
        ),
        key=lambda m: (m.step, m.timestamp),
    )
    if len(chosen) <= max_results:
        return chosen
    if max_results <= 2:
        return [chosen[0], chosen[-1]][:max_results]
    first, last, middle = chosen[0], chosen[-1], chosen[1:-1]
    budget = max_results - 2
    per_bucket = 2 if budget >= 2 else 1
    buckets = max(1, budget // per_bucket)
    low, high = middle[0].step, middle[-1].step
    width = max(1, (high - low + 1 + buckets - 1) // buckets)
    grouped: dict[int, list[Metric]] = {}
    for m in middle:
        grouped.setdefault((m.step - low) // width, []).append(m)
    kept: list[Metric] = [first, last]
    for group in grouped.values():
        ranked = [m for m in group if not math.isnan(m.value)] or group
        top = max(ranked, key=lambda m: m.value)
        kept.append(top)
        if per_bucket == 2:
            bottom = min(ranked, key=lambda m: m.value)
            if bottom is not top:
                kept.append(bottom)
    unique = {id(m): m for m in kept}
    return sorted(unique.values(), key=lambda m: (m.step, m.timestamp))[:max_results]


def with_run_id(points: Iterable[Metric], run_id: str) -> list[Metric]:
    return [m if m.run_id == run_id else replace(m, run_id=run_id) for m in points]
