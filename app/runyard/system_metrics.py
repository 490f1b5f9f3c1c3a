"""System metrics: CPU, memory, disk, network (and NVIDIA GPUs) logged while a run is active.

``start_run(log_system_metrics=True)`` (or the ``enable_system_metrics_logging`` setting with
``log_system_metrics=None``) calls ``start_for_run``; ending the run (``end_run``, leaving its
``with`` block, interpreter exit, ``Client.set_terminated``) calls ``stop_for_run``, so no
point lands after the run's end. A daemon thread samples every ``system_metrics_interval``
seconds and logs the mean of every ``system_metrics_samples_before_logging`` samples as one
batch, at step 0, 1, 2, ... (a resumed run goes on after its last step), under MLflow's names
(``system/cpu_utilization_percentage``, or ``system/<node id>/...`` with
``system_metrics_node_id``). Network figures are megabytes since monitoring started. Needs
psutil (``pip install runyard[system-metrics]``); GPU figures need ``pynvml`` (nvidia-ml-py)
and a GPU.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import Any

from runyard import config
from runyard.clock import now_ms
from runyard.entities import Metric
from runyard.errors import InvalidParameterValue

_logger = logging.getLogger(__name__)
INSTALL_HINT = "system metrics need psutil: pip install runyard[system-metrics]"
_MB = 1024 * 1024


def _psutil() -> Any:
    try:
        import psutil
    except ImportError as error:
        raise ImportError(INSTALL_HINT) from error
    return psutil


class _Gpus:
    """NVIDIA GPUs through NVML, or nothing when NVML or a GPU is missing."""

    def __init__(self) -> None:
        self.handles: list[Any] = []
        try:
            import pynvml

            pynvml.nvmlInit()
            self.nvml = pynvml
            count = pynvml.nvmlDeviceGetCount()
            self.handles = [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(count)]
        except Exception:
            self.handles = []

    def sample(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for i, handle in enumerate(self.handles):
            try:
                util = self.nvml.nvmlDeviceGetUtilizationRates(handle)
                memory = self.nvml.nvmlDeviceGetMemoryInfo(handle)
            except Exception:
                continue
            out[f"gpu_{i}_utilization_percentage"] = float(util.gpu)
            out[f"gpu_{i}_memory_usage_megabytes"] = memory.used / _MB
            out[f"gpu_{i}_memory_usage_percentage"] = 100.0 * memory.used / memory.total
        return out


class SystemMetricsMonitor:
    """Samples the machine every ``interval`` seconds and logs the mean of every
    ``samples_before_logging`` samples to ``run_id`` via ``client`` (a ``Client`` or a store:
    anything with ``log_batch(run_id, metrics, params, tags)``), from ``first_step`` on."""

    def __init__(
        self,
        client: Any,
        run_id: str,
        interval: float = 10.0,
        disk_path: str = "/",
        samples_before_logging: int = 1,
        node_id: str | None = None,
        first_step: int = 0,
    ) -> None:
        self.psutil = _psutil()
        self.client = client
        self.run_id = run_id
        self.interval = interval
        self.disk_path = disk_path
        self.samples_before_logging = samples_before_logging
        self.prefix = f"system/{node_id}/" if node_id else "system/"
        self.step = first_step
        self._samples: list[dict[str, float]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._gpus: _Gpus | None = None
        self._net_start = self.psutil.net_io_counters()
        self.psutil.cpu_percent(interval=None)  # the first call only sets the baseline

    def sample(self) -> dict[str, float]:
        ps = self.psutil
        memory = ps.virtual_memory()
        disk = ps.disk_usage(self.disk_path)
        net = ps.net_io_counters()
        values = {
            "cpu_utilization_percentage": float(ps.cpu_percent(interval=None)),
            "system_memory_usage_megabytes": (memory.total - memory.available) / _MB,
            "system_memory_usage_percentage": float(memory.percent),
            "disk_usage_percentage": float(disk.percent),
            "disk_usage_megabytes": disk.used / _MB,
            "network_receive_megabytes": (net.bytes_recv - self._net_start.bytes_recv) / _MB,
            "network_transmit_megabytes": (net.bytes_sent - self._net_start.bytes_sent) / _MB,
        }
        if self._gpus is None:
            self._gpus = _Gpus()
        values.update(self._gpus.sample())
        return values

    def log_sample(self) -> None:
        """Take a sample; once ``samples_before_logging`` are taken, log their mean."""
        self._samples.append(self.sample())
        if len(self._samples) < self.samples_before_logging:
            return
        samples, self._samples = self._samples, []
        ts = now_ms()
        points = [
            Metric(self.prefix + key, sum(s[key] for s in samples) / len(samples), ts, self.step)
            for key in samples[-1]
            if all(key in s for s in samples)  # a GPU that stopped answering is left out
        ]
        store = getattr(self.client, "store", self.client)
        store.log_batch(self.run_id, points, [], [])
        self.step += 1

    def start(self) -> SystemMetricsMonitor:
        self._thread = threading.Thread(
            target=self._loop, name=f"runyard-system-metrics-{self.run_id}", daemon=True
        )
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.log_sample()
            except Exception as error:  # a hiccup must not end monitoring
                _logger.warning("System metrics for run %s not logged: %s", self.run_id, error)

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)


_MONITORS: dict[str, SystemMetricsMonitor] = {}
_LOCK = threading.Lock()


def start_for_run(
    client: Any,
    run_id: str,
    interval: float | None = None,
    samples_before_logging: int | None = None,
    node_id: str | None = None,
    first_step: int = 0,
) -> SystemMetricsMonitor:
    """Start monitoring ``run_id`` (once; a second call returns the running monitor); what is
    not given comes from the settings."""
    with _LOCK:
        monitor = _MONITORS.get(run_id)
        if monitor is None:
            monitor = SystemMetricsMonitor(
                client,
                run_id,
                interval or config.get_float("system_metrics_interval"),
                samples_before_logging=samples_before_logging or _samples_setting(),
                node_id=node_id if node_id is not None else config.get("system_metrics_node_id"),
                first_step=first_step,
            )
            _MONITORS[run_id] = monitor.start()
        return monitor


def next_step(metrics: Iterable[Metric]) -> int:
    """The step a resumed run's system metrics go on from: one past the last one logged."""
    steps = [m.step for m in metrics if m.key.startswith("system/")]
    return max(steps) + 1 if steps else 0


def _samples_setting() -> int:
    samples = config.get_int("system_metrics_samples_before_logging")
    if samples < 1:
        raise InvalidParameterValue(
            f"system_metrics_samples_before_logging is at least 1, not {samples}."
        )
    return samples


def monitor_for(run_id: str) -> SystemMetricsMonitor | None:
    """The running monitor of ``run_id``, or None when the run is not monitored."""
    with _LOCK:
        return _MONITORS.get(run_id)


def stop_for_run(run_id: str) -> None:
    """Stop monitoring ``run_id``; nothing happens if it is not monitored."""
    with _LOCK:
        monitor = _MONITORS.pop(run_id, None)
    if monitor is not None:
        monitor.stop()
