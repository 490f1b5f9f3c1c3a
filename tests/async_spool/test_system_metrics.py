"""System metrics: a real sampling thread logs MLflow's names at increasing steps."""

from __future__ import annotations

import time

import pytest
import runyard
from runyard import system_metrics
from runyard.errors import InvalidParameterValue
from runyard.tracking import fluent

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


def _steps(client: runyard.Client, run_id: str, key: str) -> list[int]:
    return [m.step for m in client.get_metric_history(run_id, key)]


def _wait_for_steps(client: runyard.Client, run_id: str, count: int) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if len(_steps(client, run_id, "system/cpu_utilization_percentage")) >= count:
            return
        time.sleep(0.05)
    raise AssertionError(f"fewer than {count} system metric samples in 15 s")


def test_start_run_logs_system_metrics_until_the_run_ends(monkeypatch) -> None:
    monkeypatch.setenv("RUNYARD_SYSTEM_METRICS_INTERVAL", "0.2")
    client = runyard.Client()
    with runyard.start_run(log_system_metrics=True) as run:
        _wait_for_steps(client, run.info.run_id, 3)
    got = runyard.get_run(run.info.run_id)
    assert got.info.status == "FINISHED"
    assert set(got.data.metrics) >= NAMES
    steps = _steps(client, run.info.run_id, "system/cpu_utilization_percentage")
    assert steps == list(range(len(steps))) and len(steps) >= 3
    for name in NAMES:
        assert _steps(client, run.info.run_id, name) == steps
    time.sleep(0.6)  # three intervals: a monitor still running would add points
    assert _steps(client, run.info.run_id, "system/cpu_utilization_percentage") == steps


def _monitored(run_id: str) -> bool:
    return system_metrics.monitor_for(run_id) is not None


def test_the_setting_turns_it_on_and_an_explicit_false_wins(monkeypatch) -> None:
    monkeypatch.setenv("MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING", "true")
    with runyard.start_run() as run:
        assert _monitored(run.info.run_id)
    assert not _monitored(run.info.run_id)
    with runyard.start_run(log_system_metrics=False) as run:
        assert not _monitored(run.info.run_id)
    monkeypatch.setenv("RUNYARD_ENABLE_SYSTEM_METRICS_LOGGING", "false")
    with runyard.start_run() as run:
        assert not _monitored(run.info.run_id)


def test_every_way_of_ending_the_run_stops_the_monitor() -> None:
    run = runyard.start_run(log_system_metrics=True)
    runyard.end_run()
    assert not _monitored(run.info.run_id)
    with pytest.raises(RuntimeError), runyard.start_run(log_system_metrics=True) as run:
        raise RuntimeError("training failed")
    assert not _monitored(run.info.run_id)
    assert runyard.get_run(run.info.run_id).info.status == "FAILED"
    run = runyard.start_run(log_system_metrics=True)
    runyard.Client().set_terminated(run.info.run_id)
    assert not _monitored(run.info.run_id)
    runyard.end_run()
    run = runyard.start_run(log_system_metrics=True)
    fluent._end_all_runs_at_exit()
    assert not _monitored(run.info.run_id)
    assert runyard.active_run() is None
    assert runyard.get_run(run.info.run_id).info.status == "FINISHED"


def test_node_id_and_samples_before_logging_shape_what_is_logged(monkeypatch) -> None:
    """As MLflow: ``system/<node id>/...`` names, and each point the mean of its samples."""
    monkeypatch.setenv("RUNYARD_SYSTEM_METRICS_INTERVAL", "0.1")
    runyard.set_system_metrics_node_id("worker-1")
    runyard.set_system_metrics_samples_before_logging(2)
    try:
        client = runyard.Client()
        with runyard.start_run(log_system_metrics=True) as run:
            monitor = system_metrics.monitor_for(run.info.run_id)
            assert monitor is not None and monitor.samples_before_logging == 2
            deadline = time.monotonic() + 15
            while monitor.step < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
    finally:
        runyard.set_system_metrics_node_id(None)
        runyard.set_system_metrics_samples_before_logging(None)
    names = set(runyard.get_run(run.info.run_id).data.metrics)
    assert names >= {name.replace("system/", "system/worker-1/") for name in NAMES}
    assert not names & NAMES  # nothing under the plain prefix
    key = "system/worker-1/cpu_utilization_percentage"
    assert _steps(client, run.info.run_id, key)[:2] == [0, 1]


def test_each_point_is_the_mean_of_its_samples(monkeypatch) -> None:
    with runyard.start_run() as run:
        monitor = system_metrics.SystemMetricsMonitor(
            runyard.Client(), run.info.run_id, samples_before_logging=3
        )
        readings = iter([{"cpu_utilization_percentage": v} for v in (1.0, 2.0, 6.0, 10.0)])
        monkeypatch.setattr(monitor, "sample", lambda: next(readings))
        for _ in range(4):
            monitor.log_sample()
    history = runyard.Client().get_metric_history(
        run.info.run_id, "system/cpu_utilization_percentage"
    )
    assert [(m.value, m.step) for m in history] == [(3.0, 0)]  # the fourth waits for two more


def test_a_resumed_run_goes_on_after_its_last_step(monkeypatch) -> None:
    monkeypatch.setenv("RUNYARD_SYSTEM_METRICS_INTERVAL", "0.1")
    client = runyard.Client()
    key = "system/cpu_utilization_percentage"
    with runyard.start_run(log_system_metrics=True) as run:
        _wait_for_steps(client, run.info.run_id, 2)
    first = _steps(client, run.info.run_id, key)
    with runyard.start_run(run_id=run.info.run_id, log_system_metrics=True):
        _wait_for_steps(client, run.info.run_id, len(first) + 2)
    steps = _steps(client, run.info.run_id, key)
    assert sorted(steps) == list(range(len(steps)))  # no step logged twice


@pytest.mark.parametrize(
    ("call", "value"),
    [
        (runyard.set_system_metrics_samples_before_logging, 0),
        (runyard.set_system_metrics_samples_before_logging, 1.5),
        (runyard.set_system_metrics_samples_before_logging, True),
        (runyard.set_system_metrics_node_id, ""),
        (runyard.set_system_metrics_node_id, "a/b"),
        (runyard.set_system_metrics_node_id, 3),
    ],
)
def test_the_setters_refuse_what_cannot_be_used(call, value) -> None:
    with pytest.raises(InvalidParameterValue):
        call(value)


def test_mlflows_variables_set_the_node_id_and_the_samples(monkeypatch) -> None:
    monkeypatch.setenv("MLFLOW_SYSTEM_METRICS_NODE_ID", "node-b")
    monkeypatch.setenv("MLFLOW_SYSTEM_METRICS_SAMPLES_BEFORE_LOGGING", "4")
    with runyard.start_run(log_system_metrics=True) as run:
        monitor = system_metrics.monitor_for(run.info.run_id)
        assert monitor is not None
        assert (monitor.prefix, monitor.samples_before_logging) == ("system/node-b/", 4)
    monkeypatch.setenv("MLFLOW_SYSTEM_METRICS_SAMPLES_BEFORE_LOGGING", "0")
    with pytest.raises(InvalidParameterValue, match="at least 1"):
        system_metrics.start_for_run(runyard.Client(), "any-run")
