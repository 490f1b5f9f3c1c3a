"""System metrics: a real sampling thread logs MLflow's names at increasing steps."""

from __future__ import annotations

import time

import runyard
from runyard import system_metrics

NAMES = {
    "system/cpu_utilization_percentage",
    "system/system_memory_usage_megabytes",
    "system/system_memory_usage_percentage",
    "system/disk_usage_percentage",
    "system/disk_usage_megabytes",
    "system/network_receive_megabytes",
    "system/network_transmit_megabytes",
}


def test_monitor_logs_every_interval_until_stopped() -> None:
    with runyard.start_run() as run:
        client = runyard.Client()
        monitor = system_metrics.start_for_run(client, run.info.run_id, interval=0.1)
        assert system_metrics.start_for_run(client, run.info.run_id) is monitor
        deadline = time.monotonic() + 10
        while monitor.step < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        system_metrics.stop_for_run(run.info.run_id)
        steps_at_stop = monitor.step
        time.sleep(0.3)
        assert monitor.step == steps_at_stop  # stopped means stopped
    got = runyard.get_run(run.info.run_id)
    assert set(got.data.metrics) >= NAMES
    assert 0 <= got.data.metrics["system/system_memory_usage_percentage"] <= 100
    history = client.get_metric_history(run.info.run_id, "system/cpu_utilization_percentage")
    assert sorted(m.step for m in history) == list(range(steps_at_stop))
    assert steps_at_stop >= 3
