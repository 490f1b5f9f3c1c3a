"""Two runyard containers on one network with PostgreSQL and S3: crash and outage healing."""

from __future__ import annotations

import re
import time

import pytest
import requests

from tests.container.docker_stack import Stack, wait_for
from tests.container.rest import API, MetricLogger, call, metric_steps, new_run

pytestmark = [pytest.mark.container, pytest.mark.timeout(1800)]


def test_both_servers_share_runs_and_artifacts(stack: Stack) -> None:
    a, b = stack.url("a"), stack.url("b")
    experiment_id, run_id = new_run(a)
    call(b, "POST", "runs/log-parameter", json={"run_id": run_id, "key": "lr", "value": "0.1"})
    put = requests.put(
        f"{b}/api/2.0/mlflow-artifacts/artifacts/{experiment_id}/{run_id}/artifacts/notes.txt",
        data=b"hello from b",
        timeout=10,
    )
    assert put.status_code == 200, put.text
    got = call(a, "GET", "runs/get", params={"run_id": run_id})["run"]
    assert got["data"]["params"] == [{"key": "lr", "value": "0.1"}]
    download = requests.get(
        f"{a}/api/2.0/mlflow-artifacts/artifacts/{experiment_id}/{run_id}/artifacts/notes.txt",
        timeout=10,
    )
    assert download.content == b"hello from b"


def test_crashed_server_restarts_and_no_acknowledged_point_is_lost(stack: Stack) -> None:
    _, run_id = new_run(stack.url("a"))
    container = stack.containers["a"]
    container.reload()
    restarts_before = container.attrs["RestartCount"]
    logger = MetricLogger(lambda step: stack.url("ab"[step % 2]), run_id)
    logger.start()
    try:
        logger.wait_for_acks(20, timeout=60)
        stack.crash("a")
        wait_for(
            lambda: container.reload() or container.attrs["RestartCount"] > restarts_before,
            60,
            "Docker to restart server a",
        )
        stack.wait_ready("a")
        acked_at_restart = len(logger.acked)
        logger.wait_for_acks(acked_at_restart + 20, timeout=120)
    finally:
        acked = logger.stop()
    assert logger.failures > 0, "the crash should have interrupted some writes"
    stored = metric_steps(stack.url("b"), run_id, "loss")
    assert set(acked) <= set(stored), f"lost steps: {sorted(set(acked) - set(stored))}"
    assert len(set(stored)) >= len(acked)


def test_database_outage_is_reported_and_heals_without_restarting_servers(stack: Stack) -> None:
    a, b = stack.url("a"), stack.url("b")
    _, run_id = new_run(a)
    started = {}
    for role in ("a", "b"):
        stack.containers[role].reload()
        started[role] = stack.containers[role].attrs["State"]["StartedAt"]
    stack.containers["postgres"].stop(timeout=20)
    try:
        for base in (a, b):
            wait_for(
                lambda base=base: requests.get(base + "/ready", timeout=5).status_code == 503,
                60,
                f"{base}/ready to report the outage",
            )
        write = requests.post(
            f"{a}{API}/runs/log-metric",
            json={"run_id": run_id, "key": "m", "value": 1.0, "timestamp": 1, "step": 0},
            timeout=30,
        )
        assert write.status_code == 503
        assert write.json()["error_code"] == "TEMPORARILY_UNAVAILABLE"
        assert requests.get(a + "/health", timeout=5).status_code == 200
    finally:
        stack.containers["postgres"].start()
    for role in ("a", "b"):
        stack.wait_ready(role, timeout=120)
    time.sleep(1)
    call(
        b,
        "POST",
        "runs/log-metric",
        json={
            "run_id": run_id,
            "key": "m",
            "value": 2.0,
            "timestamp": 2,
            "step": 1,
        },
    )
    assert metric_steps(a, run_id, "m") == [1]
    for role in ("a", "b"):
        stack.containers[role].reload()
        assert stack.containers[role].attrs["State"]["StartedAt"] == started[role], (
            f"server {role} was restarted; it should have recovered by itself"
        )


def test_artifact_store_outage_leaves_servers_ready_and_tracking(stack: Stack) -> None:
    a, b = stack.url("a"), stack.url("b")
    experiment_id, run_id = new_run(a)
    artifact = f"{a}/api/2.0/mlflow-artifacts/artifacts/{experiment_id}/{run_id}/artifacts/x.txt"
    stack.containers["s3"].stop(timeout=10)
    try:
        for base in (a, b):
            ready = requests.get(base + "/ready", timeout=10)
            assert ready.status_code == 200, ready.text
            assert ready.json()["checks"]["store"] == "ok"
            assert ready.json()["checks"]["artifacts"] != "ok"
        for step in range(5):
            body = {"run_id": run_id, "key": "m", "value": 1.0, "timestamp": 1, "step": step}
            call((a, b)[step % 2], "POST", "runs/log-metric", json=body)
        upload = requests.put(artifact, data=b"while away", timeout=60)
        assert upload.status_code == 503, upload.text
        assert upload.headers["Retry-After"].isdigit()
        metrics = requests.get(a + "/metrics", timeout=10).text
        assert re.search(r"^runyard_artifact_store_up\{[^}]*\} 0\.0$", metrics, re.MULTILINE)
    finally:
        stack.containers["s3"].start()
    stack.create_bucket()
    wait_for(
        lambda: requests.get(a + "/ready", timeout=10).json()["checks"]["artifacts"] == "ok",
        60,
        "the artifact store to be reported back",
    )
    assert requests.put(artifact, data=b"back", timeout=30).status_code == 200
    assert metric_steps(b, run_id, "m") == list(range(5))
