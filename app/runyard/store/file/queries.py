"""Reading many points or many runs from the file store: metric history, chart downsampling,
metric summaries and ``search_runs`` (evaluated in Python with ``runyard.search``)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TypeVar

from runyard import validation
from runyard.entities import Metric, MetricSummary, PagedList, Run, ViewType
from runyard.store.file import metrics as file_metrics
from runyard.store.file.base import FileStoreBase
from runyard.store.file.layout import METRICS, key_path, list_keys, read_yaml

#: ``get_metric_history`` accepts any positive page size up to this.
T = TypeVar("T")

MAX_RESULTS_METRIC_HISTORY = 10_000_000


def page_of(items: Sequence[T], offset: int, max_results: int) -> PagedList[T]:
    """One page and, only when more items follow, the token of the next page."""
    from runyard.search.paging import encode_offset_token

    end = offset + max_results
    token = encode_offset_token(end) if end < len(items) else None
    return PagedList(list(items[offset:end]), token)


class QueriesMixin(FileStoreBase):
    """Read-only queries over runs."""

    def _metric_path(self, run_id: str, metric_key: str) -> str | None:
        """The file of one metric of one run; None for an unknown run."""
        validation.validate_run_id(run_id)
        validation.validate_key(metric_key, "metric_key")
        found = self._layout.find_run(run_id)
        return None if found is None else key_path(os.path.join(found[1], METRICS), metric_key)

    def _metric_points(self, run_id: str, metric_key: str) -> list[Metric]:
        """Every point of one metric of one run; an unknown run or key gives []."""
        path = self._metric_path(run_id, metric_key)
        return [] if path is None else file_metrics.read_run_metric(path, metric_key, run_id)

    def get_metric_history(
        self,
        run_id: str,
        metric_key: str,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> PagedList[Metric]:
        from runyard.search.paging import decode_offset_token, encode_offset_token

        if max_results is not None:
            validation.validate_max_results(max_results, MAX_RESULTS_METRIC_HISTORY)
        offset = decode_offset_token(page_token)
        if max_results is None:
            ordered = file_metrics.history_order(self._metric_points(run_id, metric_key))
            return PagedList(ordered[offset:], None)
        path = self._metric_path(run_id, metric_key)
        if path is None:
            return PagedList([], None)
        points, more = file_metrics.history_page(path, metric_key, run_id, offset, max_results)
        token = encode_offset_token(offset + len(points)) if more else None
        return PagedList(points, token)

    def get_metric_history_bulk_interval(
        self,
        run_ids: Sequence[str],
        metric_key: str,
        max_results: int,
        start_step: int | None = None,
        end_step: int | None = None,
    ) -> list[Metric]:
        validation.validate_max_results(max_results, MAX_RESULTS_METRIC_HISTORY)
        result: list[Metric] = []
        for run_id in dict.fromkeys(run_ids):
            points = self._metric_points(run_id, metric_key)
            sampled = file_metrics.downsample(points, max_results, start_step, end_step)
            result.extend(file_metrics.with_run_id(sampled, run_id))
        return result

    def get_metric_summaries(self, run_ids: Sequence[str]) -> dict[str, list[MetricSummary]]:
        summaries: dict[str, list[MetricSummary]] = {}
        for run_id in dict.fromkeys(run_ids):
            validation.validate_run_id(run_id)
            found = self._layout.find_run(run_id)
            summaries[run_id] = []
            if found is None:
                continue
            metrics_dir = os.path.join(found[1], METRICS)
            for key in list_keys(metrics_dir):
                points = file_metrics.read_run_metric(key_path(metrics_dir, key), key, run_id)
                if points:
                    summaries[run_id].append(file_metrics.summarize(key, points))
        return summaries

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        run_view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Run]:
        from runyard.search.evaluate import matches, sort_runs
        from runyard.search.paging import decode_offset_token
        from runyard.search.parser import parse_filter, parse_order_by

        # Everything the caller sent is checked before the disk is touched.
        expr = parse_filter(filter_string)
        keys = parse_order_by(list(order_by or []))
        validation.validate_max_results(max_results, validation.MAX_RESULTS_SEARCH_RUNS)
        offset = decode_offset_token(page_token)
        ids = [validation.validate_experiment_id(e) for e in experiment_ids]
        view = ViewType(run_view_type)
        runs: list[Run] = []
        for experiment_id in dict.fromkeys(ids):
            exp_dir = self._layout.experiment_dir(experiment_id)
            if exp_dir is None:
                continue
            for run_dir in self._layout.run_dirs(exp_dir):
                meta = read_yaml(os.path.join(run_dir, "meta.yaml"))
                if meta is None or str(meta.get("experiment_id")) != experiment_id:
                    continue
                if not view.includes(meta.get("lifecycle_stage") or "active"):
                    continue
                run = self._load_run(run_dir, meta)
                if expr is None or matches(expr, run):
                    runs.append(run)
        ordered = sort_runs(runs, keys)
        return page_of(ordered, offset, max_results)
