"""System metrics: CPU, memory, disk, network (and NVIDIA GPUs) logged while a run is active.

``start_run(log_system_metrics=True)`` (or the ``enable_system_metrics_logging`` setting with
``log_system_metrics=None``) calls ``start_for_run``; ending the run (``end_run``, leaving its
``with`` block, interpreter exit, ``Client.set_terminated``) calls ``stop_for_run``, so no
point lands after the run's end. A daemon thread samples every ``system_metrics_interval``
seconds and logs one batch per sample at step 0, 1, 2, ... under MLflow's names
(``system/cpu_utilization_percentage`` ...). Network figures are megabytes since monitoring
started. Needs psutil (``pip install runyard[system-metrics]``); GPU figures need ``pynvml``
(nvidia-ml-py) and a GPU.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from runyard import config
from runyard.clock import now_ms
from runyard.entities import Metric

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
            out[f"system/gpu_{i}_utilization_percentage"] = float(util.gpu)
            out[f"system/gpu_{i}_memory_usage_megabytes"] = memory.used / _MB
            out[f"system/gpu_{i}_memory_usage_percentage"] = 100.0 * memory.used / memory.total
        return out


class SystemMetricsMonitor:
    """Samples the machine every ``interval`` seconds and logs to ``run_id`` via ``client``
    (a ``Client`` or a store: anything with ``log_batch(run_id, metrics, params, tags)``)."""

    def __init__(
        self, client: Any, run_id: str, interval: float = 10.0, disk_path: str = "/"
    ) -> None:
        self.psutil = _psutil()
        self.client = client
        self.run_id = run_id
        self.interval = interval
        self.disk_path = disk_path
        self.step = 0
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
            "system/cpu_utilization_percentage": float(ps.cpu_percent(interval=None)),
            "system/system_memory_usage_megabytes": (memory.total - memory.available) / _MB,
            "system/system_memory_usage_percentage": float(memory.percent),
            "system/disk_usage_percentage": float(disk.percent),
            "system/disk_usage_megabytes": disk.used / _MB,
            "system/network_receive_megabytes": (net.bytes_recv - self._net_start.bytes_recv) / _MB,
            "system/network_transmit_megabytes": (net.bytes_sent - self._net_start.bytes_sent)
            / _MB,
        }
        if self._gpus is None:
            self._gpus = _Gpus()
        values.update(self._gpus.sample())
        return values

    def log_sample(self) -> None:

        ts = now_ms()
        points = [Metric(k, v, ts, self.step) for k, v in self.sample().items()]
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


def start_for_run(client: Any, run_id: str, interval: float | None = None) -> SystemMetricsMonitor:
    """Start monitoring ``run_id`` (once; a second call returns the running monitor)."""
    with _LOCK:
        monitor = _MONITORS.get(run_id)
        if monitor is None:
            seconds = interval or config.get_float("system_metrics_interval")
            monitor = _MONITORS[run_id] = SystemMetricsMonitor(client, run_id, seconds).start()
        return monitor


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
