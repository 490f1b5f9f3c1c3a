"""runyard on a kind cluster: logging through the Service, and healing from pod deaths.

Every disruption test keeps a client writing and then counts the points the server stored
against the ones it acknowledged."""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

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


def eventually(check: Callable[[], object], timeout: float, what: str) -> None:
    """Retry ``check`` (an assertion or a truthy result) until it passes or the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check() is not False:
                return
            problem: object = "returned False"
        except (AssertionError, requests.RequestException) as exc:
            problem = exc
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not true after {timeout:.0f}s: {problem}")
        time.sleep(2)


def _logged_run(client: ForwardedClient, index: int) -> dict[str, object]:
    """A run with params, tags and a 50-point history, logged in one batch; what was sent."""
    _, run_id = new_run(client)
    params = {f"p{i}": f"{index}-{i}" for i in range(3)}
    tags = {"team": f"t{index}", "stage": "e2e"}
    metrics = [
        {"key": "loss", "value": step / 7, "timestamp": 1_700_000_000_000 + step, "step": step}
        for step in range(50)
    ]
    batch = client.post(
        f"{API}/runs/log-batch",
        json={
            "run_id": run_id,
            "params": [{"key": k, "value": v} for k, v in params.items()],
            "tags": [{"key": k, "value": v} for k, v in tags.items()],
            "metrics": metrics,
        },
    )
    assert batch.status_code == 200, batch.text
    return {"run_id": run_id, "params": params, "tags": tags, "steps": set(range(50))}


def _assert_run_stored(client: ForwardedClient, sent: dict[str, object]) -> None:
    got = client.get(f"{API}/runs/get", params={"run_id": sent["run_id"]})
    assert got.status_code == 200, got.text
    data = got.json()["run"]["data"]
    assert {p["key"]: p["value"] for p in data.get("params", [])} == sent["params"]
    tags = {t["key"]: t["value"] for t in data.get("tags", [])}
    assert sent["tags"].items() <= tags.items(), tags  # type: ignore[union-attr]
    assert stored_steps(client, str(sent["run_id"]), "loss") == sent["steps"]


def test_postgres_pod_returns_on_its_volume_and_servers_recover(
    kube: Kube, client: ForwardedClient
) -> None:
    runs = [_logged_run(client, i) for i in range(5)]
    restarts = {p["metadata"]["name"]: kube.restarts(p) for p in kube.server_pods()}
    kube("delete", "pod", "postgres-0", "--wait=true", timeout=300)
    kube.wait_statefulset_ready("postgres")
    kube.wait_deployment_ready(timeout=300)
    eventually(lambda: client.get("/ready").status_code == 200, 120, "/ready")
    for sent in runs:  # every param, tag and metric point of every run is back
        eventually(lambda sent=sent: _assert_run_stored(client, sent), 120, f"run {sent['run_id']}")
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

    def artifacts_back() -> None:
        ready = client.get("/ready")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"]["artifacts"] == "ok", ready.text

    eventually(artifacts_back, 120, "/ready reporting the artifact store back")
    for name, data in files.items():
        got = client.get(f"{ARTIFACTS}/{experiment_id}/{run_id}/artifacts/{name}")
        assert got.status_code == 200 and got.content == data, name


def test_in_cluster_client_keeps_logging_while_minio_is_away(
    kube: Kube, client: ForwardedClient
) -> None:
    """Readiness means "can serve tracking": MinIO gone keeps every server in the Service."""
    experiment_id, run_id = new_run(client)
    logger = InClusterLogger(kube, IMAGE, run_id, key="no-minio")
    logger.start()
    kube("scale", "statefulset/minio", "--replicas=0")
    try:
        eventually(
            lambda: not kube.json("pods", "-l", "app.kubernetes.io/name=minio")["items"],
            120,
            "MinIO to be gone",
        )
        for _ in range(10):  # 20 s: several readiness periods with MinIO away
            assert kube.ready_servers() == 2, "a MinIO outage took a server out of the Service"
            time.sleep(2)
        put = client.put(f"{ARTIFACTS}/{experiment_id}/{run_id}/artifacts/a.txt", data=b"x")
        assert put.status_code == 503 and put.headers["Retry-After"], put.text
        ready = client.get("/ready")
        assert ready.status_code == 200 and ready.json()["checks"]["artifacts"] != "ok"
        assert re.search(
            r"^runyard_artifact_store_up\{[^}]*\} 0", client.get("/metrics").text, re.MULTILINE
        )
    finally:
        kube("scale", "statefulset/minio", "--replicas=1")
        result = logger.finish()
    kube.wait_statefulset_ready("minio")
    assert result["failures"] == [], result["failures"][:10]
    assert len(result["acked"]) > 50
    assert set(result["acked"]) <= stored_steps(client, run_id, "no-minio")


def test_dead_worker_node_moves_servers_and_loses_no_acknowledged_write(
    kube: Kube, client: ForwardedClient
) -> None:
    victim = kube.quiet_worker()
    survivor = next(w for w in kube.workers() if w != victim)
    _, run_id = new_run(client)
    logger = InClusterLogger(kube, IMAGE, run_id, key="node-loss", retry=True, node=survivor)
    logger.start()
    time.sleep(5)
    stopped = time.monotonic()
    subprocess.run(["docker", "stop", victim], check=True, capture_output=True, timeout=120)
    try:
        # not-ready/unreachable tolerations of 10 s: replacements start well within the
        # node controller's grace period plus a minute, not after the default five minutes.
        def servers_on_survivor() -> bool:
            pods = kube.server_pods()
            ready = kube.ready_servers() == 2
            return ready and all(p["spec"].get("nodeName") == survivor for p in pods)

        eventually(servers_on_survivor, 150, "both servers running on the surviving worker")
        moved_after = time.monotonic() - stopped
        time.sleep(5)
    finally:
        subprocess.run(["docker", "start", victim], check=True, capture_output=True, timeout=120)
        result = logger.finish()
    kube.wait_node_ready(victim)
    assert moved_after < 150
    assert len(result["acked"]) > 20
    assert set(result["acked"]) <= stored_steps(client, run_id, "node-loss")


def test_drain_keeps_a_server_ready_and_no_write_fails(kube: Kube, client: ForwardedClient) -> None:
    worker = kube.quiet_worker()
    survivor = next(w for w in kube.workers() if w != worker)
    kube.wait_deployment_ready(timeout=300)
    _, run_id = new_run(client)
    logger = InClusterLogger(kube, IMAGE, run_id, key="drain", node=survivor)
    logger.start()
    lowest = [kube.ready_servers()]
    watching = threading.Event()

    def watch() -> None:
        while not watching.is_set():
            with contextlib.suppress(Exception):
                lowest.append(kube.ready_servers())
            time.sleep(1)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        kube(
            "drain",
            worker,
            "--ignore-daemonsets",
            "--delete-emptydir-data",
            "--timeout=300s",
            namespace=None,
            timeout=400,
        )
        kube.wait_deployment_ready(timeout=300)
        time.sleep(5)
    finally:
        watching.set()
        watcher.join(timeout=10)
        kube("uncordon", worker, namespace=None)
        result = logger.finish()
    assert min(lowest) >= 1, "the PodDisruptionBudget let every server go"
    assert result["failures"] == [], result["failures"][:10]
    assert set(result["acked"]) <= stored_steps(client, run_id, "drain")
    kube.wait_statefulset_ready("minio")  # evicted with the drain, back after uncordon


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


def test_backup_and_gc_cronjobs_run_in_the_cluster(kube: Kube, client: ForwardedClient) -> None:
    """One run of each CronJob, as `kubectl create job --from=cronjob/...` starts it."""
    _, run_id = new_run(client)
    assert client.post(f"{API}/runs/delete", json={"run_id": run_id}).status_code == 200
    suffix = str(time.time_ns())[-6:]
    for cronjob in ("runyard-backup", "runyard-gc"):
        job = f"{cronjob}-e2e-{suffix}"
        kube("create", "job", f"--from=cronjob/{cronjob}", job)
        kube("wait", "--for=condition=complete", f"job/{job}", "--timeout=300s", timeout=360)
    backup_log = kube("logs", f"job/runyard-backup-e2e-{suffix}", "-c", "upload")
    assert "stored runyard-" in backup_log and "s3://runyard-artifacts/backups" in backup_log
    gc_log = kube("logs", f"job/runyard-gc-e2e-{suffix}")
    assert "Removed" in gc_log  # deleted just now: kept for GC_OLDER_THAN (30d)
    assert client.get(f"{API}/runs/get", params={"run_id": run_id}).status_code == 200
