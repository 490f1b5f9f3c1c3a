"""``TrackingStore``: the one interface every tracking backend implements.

FileStore, SqlStore and RestStore all pass the same contract suite (``tests/contract/``), so
code above this line never asks which backend it has. Every method validates its input before
it writes (``runyard.validation``) and raises ``RunyardError`` subclasses, never a backend's own
exception type.
"""

from __future__ import annotations

import abc
import re
import uuid
from collections.abc import Sequence
from typing import Any

from runyard.entities import (
    DatasetInput,
    Experiment,
    ExperimentStats,
    HistoryRow,
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
from runyard.errors import InvalidParameterValue, ResourceDoesNotExist
from runyard.protocol.runs import history_rows_json_text

DEFAULT_EXPERIMENT_ID = "0"
DEFAULT_EXPERIMENT_NAME = "Default"
SEARCH_MAX_RESULTS_DEFAULT = 1000
#: Runs ``experiment_stats`` pages through per experiment before the count is a lower bound.
STATS_COUNT_LIMIT = 5000
_CHOSEN_RUN_ID = re.compile(r"^[0-9a-f]{32}$")


def experiment_not_found(experiment_id: str) -> ResourceDoesNotExist:
    """What every store answers for an experiment that is not there (or, for delete and
    restore, not in the state looked in), in MLflow's words."""
    return ResourceDoesNotExist(f"No Experiment with id={experiment_id} exists")


def chosen_run_id(run_id: str | None) -> str:
    """A new run's id: the one an idempotent create chose (checked), else a random one."""
    if run_id is None:
        return uuid.uuid4().hex
    if not _CHOSEN_RUN_ID.match(run_id):
        raise InvalidParameterValue(f"A chosen run id must be 32 hex digits, got {run_id!r}")
    return run_id


class TrackingStore(abc.ABC):
    """Experiments, runs, their params, metrics, tags, inputs/outputs and logged models."""

    # ---- experiments -------------------------------------------------------------------------
    @abc.abstractmethod
    def create_experiment(
        self,
        name: str,
        artifact_location: str | None = None,
        tags: Sequence[tuple[str, str]] | None = None,
    ) -> str:
        """Create an experiment and return its id. A taken name is ``ResourceAlreadyExists``."""

    @abc.abstractmethod
    def get_experiment(self, experiment_id: str) -> Experiment:
        """Deleted experiments are returned too; a missing id is ``ResourceDoesNotExist``."""

    @abc.abstractmethod
    def get_experiment_by_name(self, name: str) -> Experiment | None: ...

    @abc.abstractmethod
    def search_experiments(
        self,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Experiment]:
        """Default order: creation_time DESC, then experiment_id ASC."""

    @abc.abstractmethod
    def rename_experiment(self, experiment_id: str, new_name: str) -> None: ...

    @abc.abstractmethod
    def delete_experiment(self, experiment_id: str) -> None:
        """Move the experiment and all its runs to the ``deleted`` stage."""

    @abc.abstractmethod
    def restore_experiment(self, experiment_id: str) -> None: ...

    @abc.abstractmethod
    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None: ...

    @abc.abstractmethod
    def delete_experiment_tag(self, experiment_id: str, key: str) -> None: ...

    # ---- runs --------------------------------------------------------------------------------
    @abc.abstractmethod
    def create_run(
        self,
        experiment_id: str,
        user_id: str,
        start_time: int,
        tags: Sequence[RunTag] = (),
        run_name: str | None = None,
        run_id: str | None = None,
    ) -> Run:
        """Create a RUNNING run. Without a name one is generated; tag ``mlflow.runName`` is
        always set to the run's name. A deleted experiment is ``InvalidParameterValue``.
        ``run_id`` (32 hex digits) is chosen by the caller only for an idempotent create
        (``runyard.idempotency``); a run with that id already existing is
        ``ResourceAlreadyExists``. A store behind a server cannot choose ids."""

    @abc.abstractmethod
    def get_run(self, run_id: str) -> Run:
        """Deleted runs are returned too; ``data.metric_list`` holds the latest point per key."""

    @abc.abstractmethod
    def update_run_info(
        self,
        run_id: str,
        status: RunStatus | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
    ) -> RunInfo:
        """A rename also updates tag ``mlflow.runName``."""

    @abc.abstractmethod
    def delete_run(self, run_id: str) -> None: ...

    @abc.abstractmethod
    def restore_run(self, run_id: str) -> None: ...

    @abc.abstractmethod
    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        """All or nothing. Params are immutable (same value again is fine). Re-sending an
        identical metric point (key, step, timestamp, value) stores it once."""

    def log_metric(self, run_id: str, metric: Metric) -> None:
        self.log_batch(run_id, metrics=[metric])

    def log_param(self, run_id: str, param: Param) -> None:
        self.log_batch(run_id, params=[param])

    def set_tag(self, run_id: str, tag: RunTag) -> None:
        self.log_batch(run_id, tags=[tag])

    @abc.abstractmethod
    def delete_tag(self, run_id: str, key: str) -> None:
        """A missing key is ``ResourceDoesNotExist``."""

    @abc.abstractmethod
    def get_metric_history(
        self,
        run_id: str,
        metric_key: str,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> PagedList[Metric]:
        """Ordered by (timestamp, step, value). Unknown run or key gives an empty list."""

    def get_metric_history_rows(
        self,
        run_id: str,
        metric_key: str,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> tuple[list[HistoryRow], str | None]:
        """``get_metric_history`` as bare rows and the next page token, for rendering a long
        history without a ``Metric`` per point. Stores that read rows override this."""
        page = self.get_metric_history(run_id, metric_key, max_results, page_token)
        rows: list[HistoryRow] = [
            (
                m.value,
                m.value != m.value,
                m.timestamp,
                m.step,
                m.model_id,
                m.dataset_name,
                m.dataset_digest,
            )
            for m in page
        ]
        return rows, page.token

    def get_metric_history_json(
        self,
        run_id: str,
        metric_key: str,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> tuple[str | None, str | None]:
        """A page of ``get_metric_history`` as what the server sends: the JSON text of its
        ``metrics`` array (None when the page is empty) and the next page token. Stores whose
        database can write the text override this."""
        rows, token = self.get_metric_history_rows(run_id, metric_key, max_results, page_token)
        return (history_rows_json_text(metric_key, rows) if rows else None), token

    @abc.abstractmethod
    def get_metric_history_bulk_interval(
        self,
        run_ids: Sequence[str],
        metric_key: str,
        max_results: int,
        start_step: int | None = None,
        end_step: int | None = None,
    ) -> list[Metric]:
        """At most ``max_results`` points per run, for charts, keeping spikes (min and max per
        step bucket) and the first and last points. Each Metric carries its ``run_id``."""

    @abc.abstractmethod
    def get_metric_summaries(self, run_ids: Sequence[str]) -> dict[str, list[MetricSummary]]:
        """Latest, min, max and count of every metric of each run (for the runs table)."""

    @abc.abstractmethod
    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        run_view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Run]:
        """MLflow's filter language plus OR and parentheses (``runyard.search``). After the
        caller's order: start_time DESC, then run_id ASC. Missing values sort last."""

    def experiment_stats(self, experiment_ids: Sequence[str]) -> dict[str, ExperimentStats]:
        """Active runs count and latest run activity per experiment id (``NO_RUNS`` for one
        with none, or that does not exist). This counts by paging ``search_runs`` up to
        ``STATS_COUNT_LIMIT`` runs, past which the count is a lower bound; a store that can
        count directly overrides it."""
        return {eid: self._paged_stats(eid) for eid in experiment_ids}

    def _paged_stats(self, experiment_id: str) -> ExperimentStats:
        count, last, token = 0, None, None
        while True:
            page = self.search_runs(
                [experiment_id], "", ViewType.ACTIVE_ONLY, max_results=1000, page_token=token
            )
            for run in page:
                count += 1
                for t in (run.info.start_time, run.info.end_time):
                    if t is not None and (last is None or t > last):
                        last = t
            token = page.token
            if not token:
                return ExperimentStats(count, True, last)
            if count >= STATS_COUNT_LIMIT:
                return ExperimentStats(count, False, last)

    # ---- inputs, outputs, logged models (what MLflow 3 clients and autologgers send) ---------
    @abc.abstractmethod
    def log_inputs(
        self,
        run_id: str,
        datasets: Sequence[DatasetInput] = (),
        models: Sequence[ModelInput] = (),
    ) -> None: ...

    @abc.abstractmethod
    def log_outputs(self, run_id: str, models: Sequence[ModelOutput]) -> None: ...

    @abc.abstractmethod
    def create_logged_model(
        self,
        experiment_id: str,
        name: str | None = None,
        source_run_id: str | None = None,
        tags: Sequence[tuple[str, str]] = (),
        params: Sequence[tuple[str, str]] = (),
        model_type: str | None = None,
    ) -> LoggedModel: ...

    @abc.abstractmethod
    def get_logged_model(self, model_id: str) -> LoggedModel: ...

    @abc.abstractmethod
    def finalize_logged_model(self, model_id: str, status: LoggedModelStatus) -> LoggedModel: ...

    @abc.abstractmethod
    def set_logged_model_tags(self, model_id: str, tags: Sequence[tuple[str, str]]) -> None: ...

    @abc.abstractmethod
    def delete_logged_model_tag(self, model_id: str, key: str) -> None: ...

    @abc.abstractmethod
    def log_logged_model_params(self, model_id: str, params: Sequence[tuple[str, str]]) -> None:
        """Add params to a logged model (a key logged again takes the new value, as MLflow)."""

    @abc.abstractmethod
    def delete_logged_model(self, model_id: str) -> None: ...

    @abc.abstractmethod
    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        max_results: int = 100,
        page_token: str | None = None,
        order_by: Sequence[Sequence[Any]] | None = None,
        datasets: Sequence[tuple[str, str | None]] | None = None,
    ) -> PagedList[LoggedModel]:
        """Filter supports ``name``, ``source_run_id``, ``status``, ``model_type`` with ``=``,
        ``!=``, ``LIKE``, joined by AND. ``order_by`` is ``ModelOrder`` entries (or
        ``(field, ascending)`` pairs) over ``validation.LOGGED_MODEL_ORDER_FIELDS`` or
        ``metrics.<key>``, on one dataset when an entry names it; then newest first, then model
        id.
        ``datasets`` (``[(name, digest or None), ...]``) keeps only models with a metric
        logged on one of them, name and digest both matching, as MLflow does."""

    # ---- lifecycle ---------------------------------------------------------------------------
    def check_ready(self) -> None:
        """Raise ``TemporarilyUnavailable`` if the backing storage cannot be reached now."""
        return None

    def close(self) -> None:
        """Release connections and files. The store is unusable afterwards."""
        return None
