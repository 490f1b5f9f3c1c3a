"""What the fluent API remembers between calls, as one object that can be swapped.

``FluentState`` holds each thread's stack of active runs, the active experiment, the run that
ended last and the clients the fluent functions log through. The process has one current
state; ``fresh_fluent_state()`` puts a new, empty one in place for a while (a test, say) and
puts the previous one back afterwards, so nothing has to reset private variables by hand.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from runyard import config, system_metrics
from runyard.entities import RunStatus
from runyard.tracking import context
from runyard.tracking.client import Client, store_key
from runyard.tracking.values import dataset_keys

if TYPE_CHECKING:
    from runyard.tracking.fluent import ActiveRun

_logger = logging.getLogger(__name__)
_FROM_SETTINGS = object()


class FluentState:
    """Active runs per thread, the active experiment, the last ended run, and clients."""

    def __init__(self) -> None:
        self.local = threading.local()
        self.all_stacks: list[list[ActiveRun]] = []
        self.lock = threading.Lock()
        self.active_experiment_id: str | None = None
        self.last_active_run_id: str | None = None
        #: (tracking URI, working directory when the URI is relative) -> the fluent client.
        self.clients: dict[tuple[str, str | None], Client] = {}
        #: run id -> the client its run was started (or resumed) with, while it is active.
        self.run_clients: dict[str, Client] = {}
        #: ``enable_system_metrics_logging()`` / ``disable_...``: overrides the setting.
        self.system_metrics_enabled: bool | None = None
        #: ``set_system_metrics_sampling_interval()``: overrides the setting.
        self.system_metrics_interval: float | None = None
        #: ``set_system_metrics_samples_before_logging()``: overrides the setting.
        self.system_metrics_samples: int | None = None
        #: ``set_system_metrics_node_id()``: overrides the setting.
        self.system_metrics_node_id: str | None = None

    def stack(self) -> list[ActiveRun]:
        """This thread's stack of active runs (innermost last)."""
        stack = getattr(self.local, "stack", None)
        if stack is None:
            stack = self.local.stack = []
            with self.lock:
                self.all_stacks.append(stack)
        return stack

    @property
    def last_logged_model_id(self) -> str | None:
        """The model this thread logged last (``last_logged_model()``), as in MLflow."""
        return getattr(self.local, "last_logged_model_id", None)

    @last_logged_model_id.setter
    def last_logged_model_id(self, model_id: str | None) -> None:
        self.local.last_logged_model_id = model_id

    @property
    def active_model_id(self) -> str | None:
        """This thread's active model (``set_active_model``), else the ``active_model_id``
        setting (MLflow's ``MLFLOW_ACTIVE_MODEL_ID``); None after ``clear_active_model``.
        The setting is read once per thread, when the thread first asks, as MLflow reads it:
        every module-level ``log_metric`` asks, and two environment lookups were half of
        its cost."""
        chosen = getattr(self.local, "active_model_id", _FROM_SETTINGS)
        if chosen is _FROM_SETTINGS:
            chosen = self.local.active_model_id = config.get("active_model_id") or None
        return chosen

    @active_model_id.setter
    def active_model_id(self, model_id: str | None) -> None:
        self.local.active_model_id = model_id

    def metric_links(self, model_id: str | None, dataset: Any) -> tuple[str | None, ...]:
        """``(model_id, dataset_name, dataset_digest)`` of a point logged through the module:
        the model given, else the active one, as in MLflow 3."""
        return (model_id or self.active_model_id, *dataset_keys(dataset))

    def client(self) -> Client:
        """The client for the current tracking URI (one per URI and, for relative URIs,
        working directory)."""
        uri = context.get_tracking_uri()
        key = store_key(uri)
        client = self.clients.get(key)
        if client is None:
            client = self.clients.setdefault(key, Client(uri))
        return client

    def forget_tracking_uri(self) -> None:
        """The tracking URI changed: experiment ids and clients belonged to the old store."""
        with self.lock:
            self.active_experiment_id = None
            self.clients.clear()
            self.run_clients.clear()

    def end_all_runs(self, status: RunStatus) -> None:
        """End every run still active in any thread; a failure is logged, not raised."""
        with self.lock:
            stacks = list(self.all_stacks)
        for stack in stacks:
            while stack:
                run_id = stack.pop().info.run_id
                try:
                    system_metrics.stop_for_run(run_id)
                    client = self.run_clients.pop(run_id, None) or self.client()
                    client.set_terminated(run_id, status)
                except Exception as exc:  # ending must not crash; say what was left open
                    _logger.warning("Could not end run %s: %s", run_id, exc)


_current = FluentState()


def current() -> FluentState:
    """The state the fluent functions use now."""
    return _current


@contextlib.contextmanager
def fresh_fluent_state() -> Iterator[FluentState]:
    """A new, empty fluent state while the block runs; runs still active in it are ended
    (FINISHED) when the block ends, and the previous state comes back."""
    global _current
    previous, state = _current, FluentState()
    _current = state
    try:
        yield state
    finally:
        try:
            state.end_all_runs(RunStatus.FINISHED)
        finally:
            _current = previous
