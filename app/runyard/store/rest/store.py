"""``RestStore``: the tracking store of a runyard (or MLflow) server, over its REST API.

Every request and reply goes through ``runyard.protocol``, the same code the server renders
with, so the two sides cannot disagree about the wire format. Transport concerns (timeouts,
auth, retries with backoff, ``TemporarilyUnavailable`` when the server stays away) live in
``runyard.http``; this module only maps ``TrackingStore`` calls to endpoints.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from runyard import protocol, search
from runyard.entities import (
    DatasetInput,
    Experiment,
    LoggedModel,
    LoggedModelStatus,
    Metric,
    MetricSummary,
    ModelInput,
    ModelOutput,
    PagedList,
    Param,
    Run,
    RunInfo,
    RunStatus,
    RunTag,
    ViewType,
)
from runyard.errors import InvalidParameterValue, ResourceDoesNotExist, TemporarilyUnavailable
from runyard.http import HttpClient, error_from_response
from runyard.idempotency import IDEMPOTENCY_HEADER, new_key
from runyard.store.base import SEARCH_MAX_RESULTS_DEFAULT, TrackingStore
from runyard.store.rest.registry import RestRegistryMixin
from runyard.validation import (
    MAX_RESULTS_GET_METRIC_HISTORY,
    validate_batch,
    validate_model_order_by,
)

API = "/api/2.0/mlflow"
#: Page size used when following metric history pages (MLflow's client uses the same).
HISTORY_PAGE_SIZE = MAX_RESULTS_GET_METRIC_HISTORY


class RestStore(RestRegistryMixin, TrackingStore):
    """Talks to ``base_url`` (``http(s)://host:port[/prefix]``)."""

    def __init__(self, base_url: str, http: HttpClient | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = http or HttpClient(self.base_url)

    # ---- plumbing ----------------------------------------------------------------------------
    def _get(self, endpoint: str, **params: Any) -> dict[str, Any]:
        query = {k: v for k, v in params.items() if v is not None}
        return self.http.call("GET", f"{API}/{endpoint}", params=query)

    def _send(
        self,
        method: str,
        endpoint: str,
        body: dict[str, Any],
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        payload = {k: v for k, v in body.items() if v is not None}
        return self.http.call(method, f"{API}/{endpoint}", json_body=payload, headers=headers)

    def _post(self, endpoint: str, **body: Any) -> dict[str, Any]:
        return self._send("POST", endpoint, body)

    # ---- experiments -------------------------------------------------------------------------
    def create_experiment(
        self,
        name: str,
        artifact_location: str | None = None,
        tags: Sequence[tuple[str, str]] | None = None,
    ) -> str:
        reply = self._post(
            "experiments/create",
            name=name,
            artifact_location=artifact_location or None,
            tags=protocol.key_values_to_json(dict(tags or ())) or None,
        )
        return str(reply["experiment_id"])

    def get_experiment(self, experiment_id: str) -> Experiment:
        reply = self._get("experiments/get", experiment_id=experiment_id)
        return protocol.experiment_from_json(reply["experiment"])

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        try:
            reply = self._get("experiments/get-by-name", experiment_name=name)
        except ResourceDoesNotExist:
            return None
        return protocol.experiment_from_json(reply["experiment"])

    def search_experiments(
        self,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Experiment]:
        # Parsed here too, so a bad filter is an ``InvalidFilter`` before anything is sent.
        search.parse_experiment_filter(filter_string)
        search.parse_experiment_order_by(order_by)
        reply = self._post(
            "experiments/search",
            max_results=max_results,
            view_type=str(ViewType(view_type)),
            filter=filter_string or None,
            order_by=list(order_by) if order_by else None,
            page_token=page_token or None,
        )
        experiments = [protocol.experiment_from_json(e) for e in reply.get("experiments", [])]
        return PagedList(experiments, reply.get("next_page_token") or None)

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        self._post("experiments/update", experiment_id=experiment_id, new_name=new_name)

    def delete_experiment(self, experiment_id: str) -> None:
        self._post("experiments/delete", experiment_id=experiment_id)

    def restore_experiment(self, experiment_id: str) -> None:
        self._post("experiments/restore", experiment_id=experiment_id)

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        self._post(
            "experiments/set-experiment-tag", experiment_id=experiment_id, key=key, value=value
        )

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        self._post("experiments/delete-experiment-tag", experiment_id=experiment_id, key=key)

    # ---- runs --------------------------------------------------------------------------------
    def create_run(
        self,
        experiment_id: str,
        user_id: str,
        start_time: int,
        tags: Sequence[RunTag] = (),
        run_name: str | None = None,
        run_id: str | None = None,
    ) -> Run:
        """Sent with a fresh ``Idempotency-Key``, kept across the HTTP client's retries, so a
        create whose reply was lost and is sent again returns the same run."""
        if run_id is not None:
            raise InvalidParameterValue("The server chooses run ids; run_id cannot be sent.")
        body = {
            "experiment_id": experiment_id,
            "user_id": user_id,
            "start_time": start_time,
            "tags": [{"key": t.key, "value": t.value} for t in tags] or None,
            "run_name": run_name,
        }
        reply = self._send("POST", "runs/create", body, {IDEMPOTENCY_HEADER: new_key()})
        return protocol.run_from_json(reply["run"])

    def get_run(self, run_id: str) -> Run:
        reply = self._get("runs/get", run_uuid=run_id, run_id=run_id)
        return protocol.run_from_json(reply["run"])

    def update_run_info(
        self,
        run_id: str,
        status: RunStatus | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
    ) -> RunInfo:
        reply = self._post(
            "runs/update",
            run_uuid=run_id,
            run_id=run_id,
            status=None if status is None else str(RunStatus(status)),
            end_time=end_time,
            run_name=run_name,
        )
        return protocol.run_info_from_json(reply["run_info"])

    def delete_run(self, run_id: str) -> None:
        self._post("runs/delete", run_id=run_id)

    def restore_run(self, run_id: str) -> None:
        self._post("runs/restore", run_id=run_id)

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        validate_batch(metrics, params, tags)
        self.send_batch(run_id, metrics, params, tags)

    def send_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        """``log_batch`` without the checks, for a caller that made them already (the spool
        checks a batch before keeping it, and sends it through here)."""
        self._post(
            "runs/log-batch",
            run_id=run_id,
            metrics=[protocol.metric_to_json(m) for m in metrics] or None,
            params=[{"key": p.key, "value": p.value} for p in params] or None,
            tags=[{"key": t.key, "value": t.value} for t in tags] or None,
        )

    def delete_tag(self, run_id: str, key: str) -> None:
        self._post("runs/delete-tag", run_id=run_id, key=key)

    def get_metric_history(
        self,
        run_id: str,
        metric_key: str,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> PagedList[Metric]:
        """One page when ``max_results`` or ``page_token`` is given; otherwise every page."""
        if max_results is not None or page_token:
            return self._history_page(run_id, metric_key, max_results, page_token)
        points: list[Metric] = []
        token: str | None = None
        while True:
            page = self._history_page(run_id, metric_key, HISTORY_PAGE_SIZE, token)
            points.extend(page)
            token = page.token
            if not token:
                return PagedList(points, None)

    def _history_page(
        self, run_id: str, key: str, max_results: int | None, token: str | None
    ) -> PagedList[Metric]:
        reply = self._get(
            "metrics/get-history",
            run_uuid=run_id,
            run_id=run_id,
            metric_key=key,
            max_results=max_results,
            page_token=token or None,
        )
        points = [protocol.metric_from_json(m, run_id=run_id) for m in reply.get("metrics", [])]
        return PagedList(points, reply.get("next_page_token") or None)

    def get_metric_history_bulk_interval(
        self,
        run_ids: Sequence[str],
        metric_key: str,
        max_results: int,
        start_step: int | None = None,
        end_step: int | None = None,
    ) -> list[Metric]:
        reply = self._get(
            "metrics/get-history-bulk-interval",
            run_ids=list(run_ids),
            metric_key=metric_key,
            max_results=max_results,
            start_step=start_step,
            end_step=end_step,
        )
        return [protocol.metric_from_json(m) for m in reply.get("metrics", [])]

    def get_metric_summaries(self, run_ids: Sequence[str]) -> dict[str, list[MetricSummary]]:
        """Built from each run's latest values and full histories: MLflow's API has no summary
        endpoint, and this keeps the store usable against any compatible server."""
        summaries: dict[str, list[MetricSummary]] = {}
        for run_id in run_ids:
            try:
                run = self.get_run(run_id)
            except ResourceDoesNotExist:
                summaries[run_id] = []
                continue
            rows: list[MetricSummary] = []
            for latest in run.data.metric_list:
                history = self.get_metric_history(run_id, latest.key)
                values = [m.value for m in history if not math.isnan(m.value)]
                rows.append(
                    MetricSummary(
                        key=latest.key,
                        latest=latest if latest.run_id else _with_run_id(latest, run_id),
                        min_value=min(values) if values else math.nan,
                        max_value=max(values) if values else math.nan,
                        count=len(history),
                    )
                )
            summaries[run_id] = sorted(rows, key=lambda s: s.key)
        return summaries

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        run_view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Run]:
        search.parse_filter(filter_string)
        search.parse_order_by(order_by)
        reply = self._post(
            "runs/search",
            experiment_ids=list(experiment_ids),
            filter=filter_string or "",
            run_view_type=str(ViewType(run_view_type)),
            max_results=max_results,
            order_by=list(order_by) if order_by else None,
            page_token=page_token or None,
        )
        runs = [protocol.run_from_json(r) for r in reply.get("runs", [])]
        return PagedList(runs, reply.get("next_page_token") or None)

    # ---- inputs, outputs, logged models ------------------------------------------------------
    def log_inputs(
        self,
        run_id: str,
        datasets: Sequence[DatasetInput] = (),
        models: Sequence[ModelInput] = (),
    ) -> None:
        self._post(
            "runs/log-inputs",
            run_id=run_id,
            datasets=[protocol.dataset_input_to_json(d) for d in datasets] or None,
            models=[{"model_id": m.model_id} for m in models] or None,
        )

    def log_outputs(self, run_id: str, models: Sequence[ModelOutput]) -> None:
        self._post(
            "runs/outputs",
            run_id=run_id,
            models=[{"model_id": m.model_id, "step": m.step} for m in models],
        )

    def create_logged_model(
        self,
        experiment_id: str,
        name: str | None = None,
        source_run_id: str | None = None,
        tags: Sequence[tuple[str, str]] = (),
        params: Sequence[tuple[str, str]] = (),
        model_type: str | None = None,
    ) -> LoggedModel:
        reply = self._post(
            "logged-models",
            experiment_id=experiment_id,
            name=name,
            source_run_id=source_run_id,
            tags=[{"key": k, "value": v} for k, v in tags] or None,
            params=[{"key": k, "value": v} for k, v in params] or None,
            model_type=model_type,
        )
        return protocol.logged_model_from_json(reply["model"])

    def get_logged_model(self, model_id: str) -> LoggedModel:
        reply = self._get(f"logged-models/{_segment(model_id)}")
        return protocol.logged_model_from_json(reply["model"])

    def finalize_logged_model(self, model_id: str, status: LoggedModelStatus) -> LoggedModel:
        reply = self._send(
            "PATCH",
            f"logged-models/{_segment(model_id)}",
            {"model_id": model_id, "status": str(LoggedModelStatus(status))},
        )
        return protocol.logged_model_from_json(reply["model"])

    def set_logged_model_tags(self, model_id: str, tags: Sequence[tuple[str, str]]) -> None:
        self._send(
            "PATCH",
            f"logged-models/{_segment(model_id)}/tags",
            {"tags": [{"key": k, "value": v} for k, v in tags]},
        )

    def log_logged_model_params(self, model_id: str, params: Sequence[tuple[str, str]]) -> None:
        self._send(
            "POST",
            f"logged-models/{_segment(model_id)}/params",
            # MLflow's server also wants the id in the body, as its own client sends it
            {"model_id": model_id, "params": [{"key": k, "value": v} for k, v in params]},
        )

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        self.http.call("DELETE", f"{API}/logged-models/{_segment(model_id)}/tags/{_segment(key)}")

    def delete_logged_model(self, model_id: str) -> None:
        self.http.call("DELETE", f"{API}/logged-models/{_segment(model_id)}")

    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        max_results: int = 100,
        page_token: str | None = None,
        order_by: Sequence[Sequence[Any]] | None = None,
        datasets: Sequence[tuple[str, str | None]] | None = None,
    ) -> PagedList[LoggedModel]:
        reply = self._post(
            "logged-models/search",
            experiment_ids=list(experiment_ids),
            filter=filter_string or None,
            max_results=max_results,
            page_token=page_token or None,
            order_by=[
                protocol.model_order_to_json(order) for order in validate_model_order_by(order_by)
            ]
            or None,
            datasets=[
                {"dataset_name": n, **({"dataset_digest": d} if d else {})}
                for n, d in datasets or ()
            ]
            or None,
        )
        models = [protocol.logged_model_from_json(m) for m in reply.get("models", [])]
        return PagedList(models, reply.get("next_page_token") or None)

    # ---- lifecycle ---------------------------------------------------------------------------
    def check_ready(self) -> None:
        """One quick ``GET /health``, no retries: readiness is a question about now."""
        response = self.http.request("GET", "/health", retries=0)
        if not response.ok:
            error = error_from_response(response)
            raise TemporarilyUnavailable(f"{self.base_url} is not ready: {error.message}")

    def close(self) -> None:
        self.http.close()


def _segment(value: str) -> str:
    """One URL path segment (ids and tag keys may hold ``/`` or spaces)."""
    return quote(value, safe="")


def _with_run_id(metric: Metric, run_id: str) -> Metric:
    return Metric(
        key=metric.key,
        value=metric.value,
        timestamp=metric.timestamp,
        step=metric.step,
        run_id=run_id,
        model_id=metric.model_id,
        dataset_name=metric.dataset_name,
        dataset_digest=metric.dataset_digest,
    )


__all__ = ["RestStore"]
