"""The fluent API: ``start_run`` ... ``end_run`` around an implicit active run.

Active runs live on a stack per thread (like MLflow 3): a thread sees only the runs it started,
so two training threads never log into each other's run. The active experiment and the tracking
URI are process-wide. At interpreter exit every still-active run, in every thread, is ended:
FINISHED, or FAILED when the interpreter is exiting because of an uncaught exception.

Logging calls are the hot path of training loops, so the fluent API keeps one ``Client`` per
(tracking URI, working directory for relative URIs) instead of building one per call, and a
run logs through the client it was started with: after a ``chdir`` a run started with
``./mlruns`` keeps logging to the store it lives in. ``set_tracking_uri`` drops both caches.
All of this lives in one ``FluentState`` (``runyard.tracking.fluent_state``), which tests swap.
"""

from __future__ import annotations

import atexit
import logging
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from runyard import config, system_metrics
from runyard.clock import now_ms
from runyard.entities import (
    Experiment,
    LifecycleStage,
    Metric,
    Run,
    RunStatus,
)
from runyard.errors import InvalidParameterValue, NotImplementedByBackend, RunyardError
from runyard.store.base import DEFAULT_EXPERIMENT_ID
from runyard.tracking import async_logging, context, fluent_state
from runyard.tracking.client import Client, make_metric
from runyard.tracking.fluent_system_metrics import start_system_metrics

_logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ActiveRun(Run):
    """The run ``start_run`` returned; as a context manager it ends the run on exit:
    FINISHED, FAILED after an exception, KILLED after Ctrl-C."""

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        if exc_type is None:
            status = RunStatus.FINISHED
        elif issubclass(exc_type, KeyboardInterrupt):
            status = RunStatus.KILLED
        else:
            status = RunStatus.FAILED
        _end_down_to(self.info.run_id, status)
        return False


def _stack() -> list[ActiveRun]:
    return fluent_state.current().stack()


def _client() -> Client:
    return fluent_state.current().client()


def _target(run_id: str | None) -> tuple[Client, str]:
    """The client and run to log to: the run given, else this thread's active run (through
    the client it was started with), else a run started now."""
    state = fluent_state.current()
    if run_id is None:
        stack = getattr(state.local, "stack", None)
        if stack:
            run_id = stack[-1].info.run_id
            client = state.run_clients.get(run_id)
            return (client or state.client()), run_id
        run_id = start_run().info.run_id
    return state.client(), run_id


# ---- tracking URI and experiments ---------------------------------------------------------
def set_tracking_uri(uri: str | os.PathLike[str]) -> None:
    """Track to ``uri`` from now on. The active experiment is forgotten, since experiment ids
    belong to one store."""
    context.set_tracking_uri(uri)
    fluent_state.current().forget_tracking_uri()


def get_tracking_uri() -> str:
    return context.get_tracking_uri()


def is_tracking_uri_set() -> bool:
    return context.is_tracking_uri_set()


def get_registry_uri() -> str:
    """The registry's URI: runyard keeps the registry in the tracking store."""
    return context.get_tracking_uri()


def set_registry_uri(uri: str) -> None:
    """Accepted when ``uri`` is the tracking URI; a registry elsewhere is refused, since
    runyard keeps the registry in the tracking store."""
    if os.fspath(uri) != context.get_tracking_uri():
        raise NotImplementedByBackend(
            "runyard keeps the model registry in the tracking store: set the tracking URI "
            "instead of a separate registry URI."
        )


def set_experiment(
    experiment_name: str | None = None, experiment_id: str | None = None
) -> Experiment:
    """Make an experiment the active one, creating it by name when it does not exist."""
    if (experiment_name is None) == (experiment_id is None):
        raise InvalidParameterValue(
            "set_experiment needs exactly one of 'experiment_name' or 'experiment_id'."
        )
    client = _client()
    if experiment_name is not None:
        experiment = client.get_experiment_by_name(experiment_name)
        if experiment is None:
            new_id = client.create_experiment(experiment_name)
            experiment = client.get_experiment(new_id)
    else:
        experiment = client.get_experiment(str(experiment_id))
    if experiment.lifecycle_stage != LifecycleStage.ACTIVE:
        raise InvalidParameterValue(
            f"Cannot set a deleted experiment {experiment.name!r} (id {experiment.experiment_id}) "
            "as the active experiment. Restore it first or pick another one."
        )
    state = fluent_state.current()
    with state.lock:
        state.active_experiment_id = experiment.experiment_id
    return experiment


def _resolve_experiment_id(client: Client) -> str:
    """The active experiment, else RUNYARD_EXPERIMENT_NAME (created when missing), else
    RUNYARD_EXPERIMENT_ID, else the Default experiment ``0``."""
    state = fluent_state.current()
    with state.lock:
        if state.active_experiment_id is not None:
            return state.active_experiment_id
    name = config.get("experiment_name")
    if name:
        experiment = client.get_experiment_by_name(name)
        if experiment is None:
            return client.create_experiment(name)
        return experiment.experiment_id
    return config.get("experiment_id") or DEFAULT_EXPERIMENT_ID


def get_experiment(experiment_id: str) -> Experiment:
    return _client().get_experiment(experiment_id)


def get_experiment_by_name(name: str) -> Experiment | None:
    return _client().get_experiment_by_name(name)


def create_experiment(
    name: str, artifact_location: str | None = None, tags: Mapping[str, Any] | None = None
) -> str:
    return _client().create_experiment(name, artifact_location, tags)


def delete_experiment(experiment_id: str) -> None:
    _client().delete_experiment(experiment_id)


def _active_experiment_id() -> str:
    """The experiment the next run would start in (MLflow's ``_get_experiment_id``)."""
    return _resolve_experiment_id(_client())


def set_experiment_tag(key: str, value: Any) -> None:
    """Tag the active experiment."""
    _client().set_experiment_tag(_active_experiment_id(), key, value)


def set_experiment_tags(tags: Mapping[str, Any]) -> None:
    """Tag the active experiment with each of ``tags``."""
    client = _client()
    experiment_id = _active_experiment_id()
    for key, value in tags.items():
        client.set_experiment_tag(experiment_id, key, value)


def delete_experiment_tag(key: str) -> None:
    """Remove a tag from the active experiment."""
    _client().delete_experiment_tag(_active_experiment_id(), key)


def restore_experiment(experiment_id: str) -> None:
    _client().restore_experiment(experiment_id)


# ---- runs -----------------------------------------------------------------------------------
def start_run(
    run_id: str | None = None,
    experiment_id: str | None = None,
    run_name: str | None = None,
    nested: bool = False,
    parent_run_id: str | None = None,
    tags: Mapping[str, Any] | None = None,
    description: str | None = None,
    log_system_metrics: bool | None = None,
) -> ActiveRun:
    """Start a run (or resume ``run_id``) and make it the active one of this thread.

    A new run is the child of ``parent_run_id`` (an existing run that is not deleted; with an
    active run, only that one), else of the active run when ``nested``. ``log_system_metrics``
    samples CPU, memory, disk and network into the run until it ends; None follows the
    ``enable_system_metrics_logging`` setting."""
    stack = _stack()
    if stack and not nested:
        raise RunyardError(
            f"Run with UUID {stack[-1].info.run_id} is already active. To start a new run, "
            "first end the current run with runyard.end_run(). To start a nested run, call "
            "start_run with nested=True."
        )
    client = _client()
    resume_id = run_id or config.get("run_id")
    user_tags = {k: str(v) for k, v in (tags or {}).items()}
    if description is not None:
        user_tags[context.TAG_NOTE] = description
    if resume_id:
        run = _resume(client, resume_id, experiment_id, run_name, user_tags)
    else:
        run_tags = {**context.system_tags(), **user_tags}
        parent = _parent_of_new_run(client, stack, parent_run_id)
        if parent is not None:
            run_tags[context.TAG_PARENT_RUN_ID] = parent
        exp_id = str(experiment_id) if experiment_id is not None else _resolve_experiment_id(client)
        run = client.create_run(exp_id, tags=run_tags, run_name=run_name)
    active = ActiveRun(run.info, run.data, run.inputs, run.outputs)
    stack.append(active)
    fluent_state.current().run_clients[active.info.run_id] = client
    state = fluent_state.current()
    if log_system_metrics is None:
        log_system_metrics = state.system_metrics_enabled
    if log_system_metrics is None:
        log_system_metrics = config.get_bool("enable_system_metrics_logging")
    if log_system_metrics:
        first_step = system_metrics.next_step(run.data.metric_list) if resume_id else 0
        start_system_metrics(client, active.info.run_id, state, first_step)
    return active


def _parent_of_new_run(client: Client, stack: list[Any], parent_run_id: str | None) -> str | None:
    """The run a new run is the child of: ``parent_run_id``, checked as MLflow checks it, else
    the active run (``start_run`` refused an active run without ``nested`` already)."""
    if parent_run_id is None:
        return stack[-1].info.run_id if stack else None
    if stack and parent_run_id != stack[-1].info.run_id:
        raise InvalidParameterValue(
            f"Current run with UUID {stack[-1].info.run_id} does not match the specified "
            f"parent_run_id {parent_run_id}. To start a new nested run under the parent run "
            f"with UUID {stack[-1].info.run_id}, first end the current run with "
            "runyard.end_run()."
        )
    parent = client.get_run(parent_run_id)  # refuses a malformed or unknown id
    if parent.info.lifecycle_stage == "deleted":
        raise InvalidParameterValue(
            f"Cannot start run under parent run with ID {parent_run_id} because it is in the "
            "deleted state."
        )
    return parent_run_id


def _resume(
    client: Client,
    run_id: str,
    experiment_id: str | None,
    run_name: str | None,
    tags: dict[str, str],
) -> Run:
    run = client.get_run(run_id)
    if run.info.lifecycle_stage != LifecycleStage.ACTIVE:
        raise InvalidParameterValue(
            f"Cannot start run with ID {run_id} because it is in the deleted state."
        )
    if experiment_id is not None and str(experiment_id) != run.info.experiment_id:
        raise InvalidParameterValue(
            f"Run {run_id} belongs to experiment {run.info.experiment_id}, not to the requested "
            f"experiment {experiment_id}."
        )
    client.update_run(run_id, RunStatus.RUNNING, name=run_name)
    if tags:
        client.log_batch(run_id, tags=tags)
    return client.get_run(run_id)


def end_run(status: RunStatus | str = "FINISHED") -> None:
    """End this thread's active run (background logging for it is flushed first). The run
    leaves the stack even if the store cannot be reached, so a new run can still start."""
    state = fluent_state.current()
    stack = state.stack()
    if not stack:
        return
    final = RunStatus(status)
    run = stack.pop()
    run_id = state.last_active_run_id = run.info.run_id
    client = state.run_clients.pop(run_id, None) or state.client()
    client.set_terminated(run_id, final)  # stops system metrics, flushes background logging


def _end_down_to(run_id: str, status: RunStatus) -> None:
    """End runs from the top of the stack down to ``run_id`` (children left open by the
    block end with it). Nothing happens if the run was already ended."""
    stack = _stack()
    if not any(r.info.run_id == run_id for r in stack):
        return
    while stack:
        top = stack[-1].info.run_id
        end_run(status)
        if top == run_id:
            return


def active_run() -> ActiveRun | None:
    """This thread's active run (as it was when started), or None."""
    stack = _stack()
    return stack[-1] if stack else None


def last_active_run() -> Run | None:
    """The active run, else the run most recently ended, fetched fresh from the store."""
    current = active_run()
    last = fluent_state.current().last_active_run_id
    run_id = current.info.run_id if current is not None else last
    return None if run_id is None else _client().get_run(run_id)


def get_run(run_id: str) -> Run:
    return _client().get_run(run_id)


def delete_run(run_id: str) -> None:
    _client().delete_run(run_id)


def restore_run(run_id: str) -> None:
    _client().restore_run(run_id)


def get_parent_run(run_id: str) -> Run | None:
    """The run that ``run_id`` was started under (``nested=True``), or None for a top run."""
    return _client().get_parent_run(run_id)


# ---- logging --------------------------------------------------------------------------------
def log_param(key: str, value: Any, synchronous: bool | None = None) -> Any:
    client, run_id = _target(None)
    return client.log_param(run_id, key, value, synchronous=synchronous)


def log_params(
    params: Mapping[str, Any], synchronous: bool | None = None, run_id: str | None = None
) -> Any:
    client, run_id = _target(run_id)
    return client.log_batch(run_id, params=params, synchronous=synchronous)


def log_metric(
    key: str,
    value: Any,
    step: int | None = None,
    synchronous: bool | None = None,
    timestamp: int | None = None,
    run_id: str | None = None,
    model_id: str | None = None,
    dataset: Any = None,
) -> Any:
    """One point; with ``model_id`` (else the active model) and the ``dataset`` it was measured
    on, it is that logged model's metric too, as in MLflow 3."""
    client, rid = _target(run_id)
    model_id, name, digest = fluent_state.current().metric_links(model_id, dataset)
    return client.log_metric(
        rid, key, value, timestamp, step, synchronous, name, digest, model_id=model_id
    )


def log_metrics(
    metrics: Mapping[str, Any],
    step: int | None = None,
    synchronous: bool | None = None,
    run_id: str | None = None,
    timestamp: int | None = None,
    model_id: str | None = None,
    dataset: Any = None,
) -> Any:
    """Log several metrics at one step and one timestamp, in one request (``model_id`` and
    ``dataset`` as for ``log_metric``)."""
    client, rid = _target(run_id)
    ts = now_ms() if timestamp is None else timestamp
    model_id, name, digest = fluent_state.current().metric_links(model_id, dataset)
    points: list[Metric] = [
        make_metric(k, v, ts, step, rid, model_id, name, digest) for k, v in metrics.items()
    ]
    return client.log_batch(rid, metrics=points, synchronous=synchronous)


def set_tag(key: str, value: Any, synchronous: bool | None = None) -> Any:
    client, run_id = _target(None)
    return client.set_tag(run_id, key, value, synchronous=synchronous)


def set_tags(tags: Mapping[str, Any], synchronous: bool | None = None) -> Any:
    client, run_id = _target(None)
    return client.log_batch(run_id, tags=tags, synchronous=synchronous)


def delete_tag(key: str) -> None:
    client, run_id = _target(None)
    client.delete_tag(run_id, key)


def flush_async_logging() -> None:
    """Wait until every ``synchronous=False`` call so far has been sent, raising the first
    error any of them met."""
    async_logging.flush(None)


# ---- interpreter exit -----------------------------------------------------------------------
def _end_all_runs_at_exit() -> None:
    """End every run still active in any thread; an uncaught exception means FAILED."""
    failed = getattr(sys, "last_value", None) is not None
    fluent_state.current().end_all_runs(RunStatus.FAILED if failed else RunStatus.FINISHED)


atexit.register(_end_all_runs_at_exit)
