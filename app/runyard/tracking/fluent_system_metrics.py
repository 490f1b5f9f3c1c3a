"""The fluent calls that shape system metrics (``enable_system_metrics_logging``,
``set_system_metrics_sampling_interval``, ...): each sets this process's override of a setting,
and ``start_run`` starts a run's monitor with them (``runyard.system_metrics``)."""

from __future__ import annotations

import logging
from typing import Any

from runyard import system_metrics
from runyard.errors import InvalidParameterValue
from runyard.tracking import fluent_state

_logger = logging.getLogger(__name__)


def start_system_metrics(
    client: Any, run_id: str, state: fluent_state.FluentState, first_step: int
) -> None:
    """Like MLflow: a missing psutil costs the run its system metrics, not the run."""
    try:
        system_metrics.start_for_run(
            client,
            run_id,
            state.system_metrics_interval,
            state.system_metrics_samples,
            state.system_metrics_node_id,
            first_step,
        )
    except ImportError as error:
        _logger.warning("System metrics for run %s are not logged: %s", run_id, error)


def enable_system_metrics_logging() -> None:
    """Log system metrics for every run started from now on without an explicit
    ``log_system_metrics`` (this process's override of the setting)."""
    fluent_state.current().system_metrics_enabled = True


def disable_system_metrics_logging() -> None:
    """Log no system metrics for runs started from now on without an explicit
    ``log_system_metrics``."""
    fluent_state.current().system_metrics_enabled = False


def set_system_metrics_sampling_interval(interval: float | None) -> None:
    """Seconds between two samples for runs started from now on; None goes back to the
    ``system_metrics_interval`` setting."""
    if interval is not None and (isinstance(interval, bool) or not interval > 0):
        raise InvalidParameterValue(
            f"The sampling interval must be a positive number of seconds, not {interval!r}."
        )
    fluent_state.current().system_metrics_interval = interval


def set_system_metrics_samples_before_logging(samples: int | None) -> None:
    """How many samples are averaged into each logged point, for runs started from now on;
    None goes back to the ``system_metrics_samples_before_logging`` setting."""
    if samples is not None and (
        not isinstance(samples, int) or isinstance(samples, bool) or samples < 1
    ):
        raise InvalidParameterValue(f"samples is a whole number of at least 1, not {samples!r}.")
    fluent_state.current().system_metrics_samples = samples


def set_system_metrics_node_id(node_id: str | None) -> None:
    """Name this machine in the system metrics of runs started from now on
    (``system/<node_id>/...``), so the nodes of a distributed training log apart; None goes
    back to the ``system_metrics_node_id`` setting."""
    if node_id is not None and (not isinstance(node_id, str) or not node_id or "/" in node_id):
        raise InvalidParameterValue(f"A node id is a name without '/', not {node_id!r}.")
    fluent_state.current().system_metrics_node_id = node_id
