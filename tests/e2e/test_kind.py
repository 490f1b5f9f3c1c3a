"""runyard on a kind cluster: logging through the Service, and healing from pod deaths.

Every disruption test keeps a client writing and then counts the points the server stored
against the ones it acknowledged."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.e2e.cluster import Kube
from tests.e2e.conftest import IMAGE
from tests.e2e.portforward import ForwardedClient, PortForward
from tests.e2e.writers import API, InClusterLogger, RetryingLogger, new_run, stored_steps

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(2400)]

ARTIFACTS = "/api/2.0/mlflow-artifacts/artifacts"


def test_runyard_client_logs_and_reads_back(forward: PortForward, tmp_path: Path) -> None:
    from runyard import Client

    client = Client(tracking_uri=forward.ensure())
    experiment_id = client.create_experiment(f"e2e-runyard-{time.time_ns()}")
    run_id = client.create_run(experiment_id).info.run_id
    client.log_param(run_id, "alpha", "0.5")
    for step in range(5):
        client.log_metric(run_id, "rmse", 1.0 / (step + 1), step=step)
    client.log_text(run_id, "model card", "docs/card.txt")
    run = client.get_run(run_id)
    assert dict(run.data.params) == {"alpha": "0.5"}
    assert [m.step for m in client.get_metric_history(run_id, "rmse")] == list(range(5))
    local = client.download_artifacts(run_id, "docs/card.txt", tmp_path)
    assert Path(local).read_text() == "model card"


MLFLOW_SCRIPT = textwrap.dedent(
    """
    import json, os, sys, tempfile
    import mlflow
    from mlflow import MlflowClient

    mlflow.set_experiment(sys.argv[1])
    with mlflow.start_run() as run:
        mlflow.log_params({"alpha": 0.5, "l1_ratio": 0.1})
        for step in range(10):
            mlflow.log_metric("rmse", 1.0 / (step + 1), step=step)
        path = os.path.join(tempfile.mkdtemp(), "card.txt")
        with open(path, "w") as f:
            f.write("model card")
        mlflow.log_artifact(path, "docs")
    client = MlflowClient()
    got = client.get_run(run.info.run_id)
    local = client.download_artifacts(run.info.run_id, "docs/card.txt", tempfile.mkdtemp())
    print(json.dumps({
        "run_id": run.info.run_id,
        "params": got.data.params,
        "history": [m.step for m in client.get_metric_history(run.info.run_id, "rmse")],
        "artifact": open(local).read(),
    }))
    """
)


def test_mlflow_client_logs_and_reads_back(forward: PortForward, client: ForwardedClient) -> None:
    env = {**os.environ, "MLFLOW_TRACKING_URI": forward.ensure()}
    done = subprocess.run(
        [sys.executable, "-c", MLFLOW_SCRIPT, f"e2e-mlflow-{time.time_ns()}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["params"] == {"alpha": "0.5", "l1_ratio": "0.1"}
    assert result["history"] == list(range(10))
    assert result["artifact"] == "model card"
    assert stored_steps(client, result["run_id"], "rmse") == set(range(10))


def _heal_check(kube: Kube, client: ForwardedClient, disrupt) -> None:  # type: ignore[no-untyped-def]
    _, run_id = new_run(client)
    logger = RetryingLogger(client, run_id)
    logger.start()
    try:
        logger.wait_for(20)
        disrupt()
        kube.wait_deployment_ready(timeout=300)
        logger.wait_for(len(logger.acked) + 20)
    finally:
        acked = logger.finish()
    stored = stored_steps(client, run_id, "loss")
    assert set(acked) <= stored, f"lost acknowledged steps {sorted(set(acked) - stored)}"


def test_deleted_server_pod_is_replaced_and_no_point_is_lost(
    kube: Kube, client: ForwardedClient
) -> None:
    victim = kube.server_pods()[0]["metadata"]["name"]
    _heal_check(kube, client, lambda: kube("delete", "pod", victim, "--wait=false"))
    names = {p["metadata"]["name"] for p in kube.server_pods()}
    assert victim not in names and len(names) == 2


def test_killed_server_process_is_restarted_and_no_point_is_lost(
    kube: Kube, client: ForwardedClient
) -> None:
    pod = kube.server_pods()[0]
    name, before = pod["metadata"]["name"], kube.restarts(pod)

    def restarts() -> int:
        return next(kube.restarts(p) for p in kube.server_pods() if p["metadata"]["name"] == name)

    def kill_server_process() -> None:
        # The exec session may end with an error: its container stops under it.
        with contextlib.suppress(subprocess.CalledProcessError):
            kube("exec", name, "--", "sh", "-c", "kill 1")
        deadline = time.monotonic() + 120
        while restarts() == before:  # until the kubelet has seen the exit and restarted it
            assert time.monotonic() < deadline, "the killed container was not restarted"
            time.sleep(1)

    _heal_check(kube, client, kill_server_process)
    assert restarts() > before


def test_postgres_pod_returns_on_its_volume_and_servers_recover(
    kube: Kube, client: ForwardedClient
) -> None:
    run_ids = [new_run(client)[1] for _ in range(5)]
    restarts = {p["metadata"]["name"]: kube.restarts(p) for p in kube.server_pods()}
    kube("delete", "pod", "postgres-0", "--wait=true", timeout=300)
    kube.wait_statefulset_ready("postgres")
    kube.wait_deployment_ready(timeout=300)
    for run_id in run_ids:
        got = client.get(f"{API}/runs/get", params={"run_id": run_id})
        assert got.status_code == 200, got.text
    assert client.get("/ready").status_code == 200
    # The servers recovered by themselves: no restart, same pods.
    assert {p["metadata"]["name"]: kube.restarts(p) for p in kube.server_pods()} == restarts


def test_minio_pod_returns_and_every_artifact_is_downloadable(
    kube: Kube, client: ForwardedClient
) -> None:
    experiment_id, run_id = new_run(client)
    files = {f"file-{i}.bin": os.urandom(1024 * (i + 1)) for i in range(5)}
    for name, data in files.items():
        put = client.put(f"{ARTIFACTS}/{experiment_id}/{run_id}/artifacts/{name}", data=data)
        assert put.status_code == 200, put.text
    kube("delete", "pod", "minio-0", "--wait=true", timeout=300)
    kube.wait_statefulset_ready("minio")
    deadline = time.monotonic() + 120
    while client.get("/ready").status_code != 200 and time.monotonic() < deadline:
        time.sleep(2)
    for name, data in files.items():
        got = client.get(f"{ARTIFACTS}/{experiment_id}/{run_id}/artifacts/{name}")
        assert got.status_code == 200 and got.content == data, name


def test_rolling_restart_loses_no_write(kube: Kube, client: ForwardedClient) -> None:
    _, run_id = new_run(client)
    logger = InClusterLogger(kube, IMAGE, run_id)
    logger.start()
    time.sleep(5)
    kube("rollout", "restart", "deployment/runyard")
    kube("rollout", "status", "deployment/runyard", "--timeout=600s", timeout=700)
    kube.wait_deployment_ready(timeout=300)
    time.sleep(5)
    result = logger.finish()
    assert result["failures"] == [], result["failures"][:10]
    assert len(result["acked"]) > 50
    assert set(result["acked"]) <= stored_steps(client, run_id, "rollout")
