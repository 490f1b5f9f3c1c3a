"""Clients that keep writing during a disruption and remember what the server acknowledged."""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any

from tests.e2e.cluster import Kube
from tests.e2e.portforward import ForwardedClient

API = "/api/2.0/mlflow"


def new_run(client: ForwardedClient) -> tuple[str, str]:
    created = client.post(f"{API}/experiments/create", json={"name": f"e2e-{uuid.uuid4().hex}"})
    created.raise_for_status()
    experiment_id = created.json()["experiment_id"]
    run = client.post(
        f"{API}/runs/create",
        json={"experiment_id": experiment_id, "start_time": int(time.time() * 1000)},
    )
    run.raise_for_status()
    return experiment_id, run.json()["run"]["info"]["run_id"]


def stored_steps(client: ForwardedClient, run_id: str, key: str) -> set[int]:
    response = client.get(
        f"{API}/metrics/get-history",
        params={"run_id": run_id, "run_uuid": run_id, "metric_key": key, "max_results": 25000},
    )
    response.raise_for_status()
    return {int(m["step"]) for m in response.json().get("metrics", [])}


def metric_body(run_id: str, key: str, step: int) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "run_uuid": run_id,
        "key": key,
        "value": step / 10,
        "timestamp": 1_700_000_000_000 + step,
        "step": step,
    }


class RetryingLogger(threading.Thread):
    """Logs steps 0, 1, 2, ... through the port-forward; each is retried until acknowledged."""

    def __init__(self, client: ForwardedClient, run_id: str, key: str = "loss") -> None:
        super().__init__(daemon=True)
        self.client, self.run_id, self.key = client, run_id, key
        self.acked: list[int] = []
        self.retries = 0
        self.error: BaseException | None = None
        self._halt = threading.Event()

    def run(self) -> None:
        step = 0
        try:
            while not self._halt.is_set():
                try:
                    response = self.client.post(
                        f"{API}/runs/log-metric", json=metric_body(self.run_id, self.key, step)
                    )
                    ok = response.status_code == 200
                except Exception:
                    ok = False
                if ok:
                    self.acked.append(step)
                    step += 1
                else:
                    self.retries += 1
                    time.sleep(0.5)
                time.sleep(0.05)
        except BaseException as exc:
            self.error = exc

    def wait_for(self, count: int, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while len(self.acked) < count:
            if self.error or time.monotonic() > deadline:
                raise TimeoutError(f"{len(self.acked)}/{count} acknowledged ({self.error!r})")
            time.sleep(0.2)

    def finish(self) -> list[int]:
        self._halt.set()
        self.join(timeout=60)
        return list(self.acked)


IN_CLUSTER_LOGGER = """
import json, os, time, requests
base, run_id, key = "http://runyard:5000", os.environ["RUN_ID"], os.environ["KEY"]
retry = os.environ.get("RETRY") == "1"
acked, failures, step = [], [], 0
deadline = time.time() + 900
while time.time() < deadline and not os.path.exists("/tmp/stop"):
    body = {"run_id": run_id, "run_uuid": run_id, "key": key, "value": step / 10,
            "timestamp": 1700000000000 + step, "step": step}
    try:
        r = requests.post(base + "/api/2.0/mlflow/runs/log-metric", json=body, timeout=5)
        ok = r.status_code == 200
        if not ok:
            failures.append(f"step {step}: HTTP {r.status_code} {r.text[:200]}")
    except Exception as exc:
        ok = False
        failures.append(f"step {step}: {exc!r}"[:300])
    if ok:
        acked.append(step)
    if ok or not retry:
        step += 1
    time.sleep(0.05 if ok else 0.5)
print("RESULT " + json.dumps({"acked": acked, "failures": failures}), flush=True)
"""


class InClusterLogger:
    """A pod that logs metric ``key`` through the Service (the path real clients take).

    Without ``retry`` every write is tried once: through the Service every write must succeed
    while pods roll, because terminating pods leave the endpoints before they stop serving.
    With ``retry`` each step is retried until acknowledged, for disruptions no client can ride
    out without retrying (a node dying under an endpoint). ``node`` pins the pod to a node."""

    def __init__(
        self,
        kube: Kube,
        image: str,
        run_id: str,
        key: str = "rollout",
        retry: bool = False,
        node: str | None = None,
    ) -> None:
        self.kube, self.image, self.run_id = kube, image, run_id
        self.key, self.retry, self.node = key, retry, node
        self.name = f"e2e-logger-{uuid.uuid4().hex[:6]}"

    def manifest(self) -> dict[str, Any]:
        return {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": self.name, "labels": {"app.kubernetes.io/name": "e2e-logger"}},
            "spec": {
                "restartPolicy": "Never",
                "automountServiceAccountToken": False,
                "securityContext": {
                    "runAsNonRoot": True,
                    "runAsUser": 10001,
                    "seccompProfile": {"type": "RuntimeDefault"},
                },
                "containers": [
                    {
                        "name": "logger",
                        "image": self.image,
                        "imagePullPolicy": "IfNotPresent",
                        "command": ["python3", "-c", IN_CLUSTER_LOGGER],
                        "env": [
                            {"name": "RUN_ID", "value": self.run_id},
                            {"name": "KEY", "value": self.key},
                            {"name": "RETRY", "value": "1" if self.retry else "0"},
                        ],
                        "securityContext": {
                            "allowPrivilegeEscalation": False,
                            "readOnlyRootFilesystem": True,
                            "capabilities": {"drop": ["ALL"]},
                        },
                        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
                    }
                ],
                "volumes": [{"name": "tmp", "emptyDir": {}}],
            },
        }

    def start(self) -> None:
        manifest = self.manifest()
        if self.node:
            manifest["spec"]["nodeName"] = self.node
        path = self.kube.cluster.path / f"{self.name}.json"
        path.write_text(json.dumps(manifest))
        self.kube("apply", "-f", str(path))
        self.kube("wait", "--for=condition=Ready", f"pod/{self.name}", "--timeout=180s")

    def finish(self) -> dict[str, list[Any]]:
        self.kube("exec", self.name, "--", "python3", "-c", "open('/tmp/stop', 'w').close()")
        self.kube(
            "wait",
            "--for=jsonpath={.status.phase}=Succeeded",
            f"pod/{self.name}",
            "--timeout=120s",
        )
        logs = self.kube("logs", self.name)
        line = next(x for x in logs.splitlines() if x.startswith("RESULT "))
        self.kube("delete", "pod", self.name, "--wait=false")
        return json.loads(line.removeprefix("RESULT "))
