"""``Client``: the explicit API over one tracking store and the runs' artifact repositories.

Names and signatures follow MLflow's ``MlflowClient`` so code moves over unchanged. The client
coerces values the way MLflow's does (numbers from bools, numeric strings and numpy scalars;
params and tags as strings), checks everything before the first request, and splits big
batches into store-sized pieces.
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlparse

from runyard import config, protocol, system_metrics
from runyard import tags as system_tags
from runyard.batching import plan_batches
from runyard.clock import now_ms
from runyard.entities import (
    DatasetInput,
    Experiment,
    LoggedModel,
    LoggedModelStatus,
    Metric,
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
from runyard.errors import InvalidParameterValue, NotImplementedByBackend
from runyard.store import TrackingStore, store_for_uri
from runyard.store.base import SEARCH_MAX_RESULTS_DEFAULT
from runyard.tracking import context
from runyard.tracking.artifact_client import ArtifactClientMixin
from runyard.tracking.registry_client import RegistryClientMixin
from runyard.tracking.values import (
    coerce_metric,
    make_metric,
    to_pairs,
)
from runyard.validation import (
    MAX_RESULTS_GET_METRIC_HISTORY,
    check_run_name,
    validate_param,
    validate_tag,
)

#: Page size when following metric history pages (MLflow's client uses the same).
METRIC_HISTORY_PAGE_SIZE = MAX_RESULTS_GET_METRIC_HISTORY
_ASYNC_MODULE = "runyard.tracking.async_logging"

_stores: dict[tuple[str, str | None], TrackingStore] = {}
_stores_lock = threading.Lock()
_cwd_dependent: dict[str, bool] = {}


def depends_on_cwd(uri: str) -> bool:
    """Whether ``uri`` names a relative path (``./mlruns``, ``file:mlruns``,
    ``sqlite:///runs.db``), so that it means another store after a ``chdir``."""
    known = _cwd_dependent.get(uri)
    if known is None:
        known = _cwd_dependent[uri] = _names_relative_path(uri)
    return known


def _names_relative_path(uri: str) -> bool:
    scheme = urlparse(uri).scheme.lower()
    if scheme == "" or len(scheme) == 1:  # a plain path (or a Windows drive letter)
        return not os.path.isabs(uri)
    if scheme == "file":
        return not urlparse(uri).path.startswith("/")
    if scheme.startswith("sqlite"):
        path = uri.split(":///", 1)[1] if ":///" in uri else ""
        return path not in ("", ":memory:") and not path.startswith("/")
    return False


def store_key(uri: str) -> tuple[str, str | None]:
    """What makes two stores the same: the URI, plus the working directory when the URI is
    relative. Only relative URIs pay for a ``getcwd``."""
    return (uri, os.getcwd() if depends_on_cwd(uri) else None)


def _store_for(uri: str) -> TrackingStore:
    """One store per URI per process: SQL engines and HTTP sessions are worth reusing. The
    working directory is part of the key for relative URIs, since ``file:./mlruns`` means
    another store after a ``chdir``."""
    key = store_key(uri)
    store = _stores.get(key)
    if store is not None:
        return store
    with _stores_lock:
        store = _stores.get(key)
        if store is None:
            store = _stores[key] = store_for_uri(uri)
        return store


def _flush_async(run_id: str) -> None:
    """Wait for background logging of ``run_id``. Nothing can be pending if the background
    module was never loaded, so a process that never logs asynchronously pays nothing."""
    if _ASYNC_MODULE not in sys.modules:
        return
    try:
        from runyard.tracking.async_logging import flush
    except ImportError:
        return
    flush(run_id)


def _async_submit() -> Callable[..., Any]:
    """``async_logging.submit``, imported on first use: a process that never logs in the
    background never starts (or registers) the background machinery."""
    module = sys.modules.get(_ASYNC_MODULE)
    if module is None:
        module = importlib.import_module(_ASYNC_MODULE)
    return module.submit


class Client(RegistryClientMixin, ArtifactClientMixin):
    """Experiments, runs, metrics and artifacts of one tracking server or store, and its model
    registry (``RegistryClientMixin``); the artifact calls are ``ArtifactClientMixin``'s."""

    def __init__(
        self,
        tracking_uri: str | os.PathLike[str] | None = None,
        registry_uri: str | None = None,
    ) -> None:
        self._tracking_uri = (
            os.fspath(tracking_uri) if tracking_uri is not None else context.get_tracking_uri()
        )
        if registry_uri is not None and registry_uri != self._tracking_uri:
            raise NotImplementedByBackend(
                "runyard keeps the model registry in the tracking store: a registry_uri other "
                "than the tracking URI is not supported."
            )
        self._store = _store_for(self._tracking_uri)
        ArtifactClientMixin.__init__(self)

    @property
    def tracking_uri(self) -> str:
        return self._tracking_uri

    @property
    def store(self) -> TrackingStore:
        return self._store

    # ---- experiments ---------------------------------------------------------------------
    def create_experiment(
        self,
        name: str,
        artifact_location: str | None = None,
        tags: Mapping[str, Any] | None = None,
    ) -> str:
        pairs = [(k, str(v)) for k, v in (tags or {}).items()]
        return self._store.create_experiment(name, artifact_location, pairs)

    def get_experiment(self, experiment_id: str) -> Experiment:
        return self._store.get_experiment(str(experiment_id))

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        return self._store.get_experiment_by_name(name)

    def search_experiments(
        self,
        view_type: ViewType | str = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Experiment]:
        return self._store.search_experiments(
            ViewType(view_type), max_results, filter_string, order_by, page_token
        )

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        self._store.rename_experiment(str(experiment_id), new_name)

    def delete_experiment(self, experiment_id: str) -> None:
        self._store.delete_experiment(str(experiment_id))

    def restore_experiment(self, experiment_id: str) -> None:
        self._store.restore_experiment(str(experiment_id))

    def set_experiment_tag(self, experiment_id: str, key: str, value: Any) -> None:
        self._store.set_experiment_tag(str(experiment_id), key, str(value))

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        self._store.delete_experiment_tag(str(experiment_id), key)

    # ---- runs ----------------------------------------------------------------------------
    def create_run(
        self,
        experiment_id: str,
        start_time: int | None = None,
        tags: Mapping[str, Any] | None = None,
        run_name: str | None = None,
    ) -> Run:
        """A RUNNING run. The user is tag ``mlflow.user`` when given, else the OS user; a
        ``mlflow.runName`` tag names the run when ``run_name`` is not given."""
        run_tags = to_pairs(tags, RunTag)
        for tag in run_tags:
            validate_tag(tag)
        by_key = {t.key: t.value for t in run_tags}
        user_id = by_key.get(context.TAG_USER) or context.current_user()
        run_name = check_run_name(run_name, run_tags)
        start = now_ms() if start_time is None else int(start_time)
        run = self._store.create_run(str(experiment_id), user_id, start, run_tags, run_name)
        self._remember(("run", run.info.run_id), run.info.artifact_uri)
        return run

    def get_run(self, run_id: str) -> Run:
        return self._store.get_run(run_id)

    def get_parent_run(self, run_id: str) -> Run | None:
        """The run that ``run_id`` was started under, or None for a top-level run."""
        parent_id = self.get_run(run_id).data.tags.get(system_tags.PARENT_RUN_ID)
        return None if parent_id is None else self.get_run(parent_id)

    def update_run(
        self, run_id: str, status: RunStatus | str | None = None, name: str | None = None
    ) -> None:
        self._store.update_run_info(
            run_id, status=None if status is None else RunStatus(status), run_name=name
        )

    def set_terminated(
        self, run_id: str, status: RunStatus | str = "FINISHED", end_time: int | None = None
    ) -> RunInfo:
        """End a run: its system metrics monitor stops and its background logging is flushed
        first, so nothing lands after the end."""
        final = RunStatus(status)
        system_metrics.stop_for_run(run_id)
        _flush_async(run_id)
        return self._store.update_run_info(
            run_id, status=final, end_time=now_ms() if end_time is None else int(end_time)
        )

    def delete_run(self, run_id: str) -> None:
        self._store.delete_run(run_id)

    def restore_run(self, run_id: str) -> None:
        self._store.restore_run(run_id)

    # ---- logging -------------------------------------------------------------------------
    def log_metric(
        self,
        run_id: str,
        key: str,
        value: Any,
        timestamp: int | None = None,
        step: int | None = None,
        synchronous: bool | None = None,
        dataset_name: str | None = None,
        dataset_digest: str | None = None,
        model_id: str | None = None,
    ) -> Any:
        """Log one point. The hot path of training loops, so it skips batch splitting: the
        point is checked once (``make_metric``) and goes straight to the queue or the store."""
        metric = make_metric(
            key, value, timestamp, step, None, model_id, dataset_name, dataset_digest
        )
        if synchronous is False or (synchronous is None and config.get_bool("async_logging")):
            return _async_submit()(self, run_id, (metric,), (), ())
        self._store.log_batch(run_id, [metric], [], [])
        return None

    def log_param(self, run_id: str, key: str, value: Any, synchronous: bool | None = None) -> Any:
        """Log a param; returns the value like MLflow's client (or the pending operation)."""
        pending = self._log(run_id, [], [Param(key, str(value))], [], synchronous)
        return value if pending is None else pending

    def set_tag(self, run_id: str, key: str, value: Any, synchronous: bool | None = None) -> Any:
        return self._log(run_id, [], [], [RunTag(key, str(value))], synchronous)

    def delete_tag(self, run_id: str, key: str) -> None:
        self._store.delete_tag(run_id, key)

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] | Mapping[str, Any] = (),
        tags: Sequence[RunTag] | Mapping[str, Any] = (),
        synchronous: bool | None = None,
    ) -> Any:
        """Log everything, checked up front; sent in store-sized pieces when it is big."""
        metric_list = [coerce_metric(m) for m in metrics]
        return self._log(
            run_id, metric_list, to_pairs(params, Param), to_pairs(tags, RunTag), synchronous
        )

    def _log(
        self,
        run_id: str,
        metrics: list[Metric],
        params: list[Param],
        tags: list[RunTag],
        synchronous: bool | None,
    ) -> Any:
        """Check params and tags (metrics were checked when they were made), refuse a param
        key given twice, then queue everything or send it in store-sized pieces."""
        seen: set[str] = set()
        duplicates: set[str] = set()
        for param in params:
            validate_param(param)
            (duplicates if param.key in seen else seen).add(param.key)
        for tag in tags:
            validate_tag(tag)
        if duplicates:
            raise InvalidParameterValue(
                f"Duplicate parameter keys have been submitted: {sorted(duplicates)}. Please "
                "ensure the request contains only one param value per param key."
            )
        if synchronous is None:
            synchronous = not config.get_bool("async_logging")
        if not synchronous:
            return _async_submit()(self, run_id, metrics, params, tags)
        for batch in plan_batches([(metrics, params, tags)]):
            self._store.log_batch(run_id, batch.metrics, batch.params, batch.tags)
        return None

    # ---- metric history and search -------------------------------------------------------
    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        """Every point of a metric, following all pages, ordered by (timestamp, step, value)."""
        points: list[Metric] = []
        token: str | None = None
        while True:
            page = self.get_metric_history_paged(run_id, key, METRIC_HISTORY_PAGE_SIZE, token)
            points.extend(page)
            token = page.token
            if not token:
                return points

    def get_metric_history_paged(
        self,
        run_id: str,
        key: str,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> PagedList[Metric]:
        return self._store.get_metric_history(run_id, key, max_results, page_token)

    def search_runs(
        self,
        experiment_ids: Sequence[str] | str,
        filter_string: str = "",
        run_view_type: ViewType | str = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Run]:
        ids = [experiment_ids] if isinstance(experiment_ids, (str, int)) else experiment_ids
        return self._store.search_runs(
            [str(i) for i in ids],
            filter_string or "",
            ViewType(run_view_type),
            max_results,
            order_by,
            page_token,
        )

    # ---- inputs, outputs and logged models -----------------------------------------------
    def log_inputs(
        self,
        run_id: str,
        datasets: Sequence[DatasetInput] | None = None,
        models: Sequence[ModelInput] | None = None,
    ) -> None:
        self._store.log_inputs(run_id, datasets or (), models or ())

    def log_outputs(self, run_id: str, models: Sequence[ModelOutput]) -> None:
        self._store.log_outputs(run_id, models)

    def create_logged_model(
        self,
        experiment_id: str,
        name: str | None = None,
        source_run_id: str | None = None,
        tags: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        model_type: str | None = None,
    ) -> LoggedModel:
        model = self._store.create_logged_model(
            str(experiment_id),
            name,
            source_run_id,
            [(k, str(v)) for k, v in (tags or {}).items()],
            [(k, str(v)) for k, v in (params or {}).items()],
            model_type,
        )
        self._remember(("model", model.model_id), model.artifact_location)
        return model

    def get_logged_model(self, model_id: str) -> LoggedModel:
        return self._store.get_logged_model(model_id)

    def finalize_logged_model(self, model_id: str, status: LoggedModelStatus | str) -> LoggedModel:
        return self._store.finalize_logged_model(model_id, LoggedModelStatus.of(status))

    def log_model_params(self, model_id: str, params: Mapping[str, Any]) -> None:
        """Add params to a logged model; a key logged again takes the new value."""
        self._store.log_logged_model_params(model_id, [(k, str(v)) for k, v in params.items()])

    def delete_logged_model(self, model_id: str) -> None:
        self._store.delete_logged_model(model_id)
        self._forget_repo(("model", model_id))  # its artifact calls now find it gone

    def set_logged_model_tags(self, model_id: str, tags: Mapping[str, Any]) -> None:
        self._store.set_logged_model_tags(model_id, [(k, str(v)) for k, v in tags.items()])

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        self._store.delete_logged_model_tag(model_id, key)

    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        datasets: Sequence[Mapping[str, Any]] | None = None,
        max_results: int = 100,
        order_by: Sequence[Mapping[str, Any]] | None = None,
        page_token: str | None = None,
    ) -> PagedList[LoggedModel]:
        """One page of logged models, in MLflow's form: ``datasets`` as
        ``[{"dataset_name": ..., "dataset_digest": ...}]``, ``order_by`` as
        ``[{"field_name": "metrics.accuracy", "ascending": False}]``, with ``"dataset_name"``
        (and ``"dataset_digest"``) to order by the metric on that dataset alone."""
        return self._store.search_logged_models(
            [str(i) for i in experiment_ids],
            filter_string,
            max_results,
            page_token,
            order_by=[
                protocol.model_order_from_json(item, i) for i, item in enumerate(order_by or ())
            ],
            datasets=[
                protocol.model_dataset_from_json(item, i) for i, item in enumerate(datasets or ())
            ],
        )
