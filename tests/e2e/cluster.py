"""The kind cluster for the e2e suite: its settings, tool discovery, the deployed stack, dumps."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CLUSTER_CONFIG = ROOT / "deploy" / "kind" / "cluster.yaml"
SETTINGS_FILE = ROOT / "deploy" / "kind" / "settings.env"
OUTPUT = ROOT / "test-output" / "e2e"
NAMESPACE = "runyard"
#: Worker nodes in deploy/kind/cluster.yaml (kind names them <cluster>-worker, -worker2, ...).
WORKERS = CLUSTER_CONFIG.read_text().count("role: worker")


def settings() -> dict[str, str]:
    """deploy/kind/settings.env, each value overridden by the environment (as the scripts do)."""
    values = {}
    for line in SETTINGS_FILE.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = os.environ.get(key.strip()) or value.strip()
    return values


def find_tool(name: str) -> str | None:
    local = Path(sys.executable).parent / name
    return str(local) if local.exists() else shutil.which(name)


def expected_nodes(name: str) -> list[str]:
    """The node names kind gives the cluster of deploy/kind/cluster.yaml."""
    workers = [f"{name}-worker{i if i > 1 else ''}" for i in range(1, WORKERS + 1)]
    return [f"{name}-control-plane", *workers]


class KindCluster:
    """A kind cluster by name, with its own kubeconfig file; made by scripts/kind-up.sh."""

    def __init__(self, name: str, workdir: Path) -> None:
        self.name = name
        self.path = workdir
        self.kubeconfig_path = workdir / "kubeconfig"
        self.kind_path = find_tool("kind") or "kind"
        self.kubectl_path = find_tool("kubectl") or "kubectl"

    @property
    def env(self) -> dict[str, str]:
        """The environment for scripts and tools acting on this cluster."""
        path = f"{Path(self.kind_path).parent}:{os.environ.get('PATH', '')}"
        return {
            **os.environ,
            "KUBECONFIG": str(self.kubeconfig_path),
            "KIND_CLUSTER": self.name,
            "PATH": path,
        }

    def exists(self) -> bool:
        done = subprocess.run(
            [self.kind_path, "get", "clusters"], capture_output=True, text=True, timeout=60
        )
        return self.name in done.stdout.split()

    def create(self) -> None:
        script = str(ROOT / "scripts" / "kind-up.sh")
        subprocess.run([script], env=self.env, check=True, timeout=900)

    def export_kubeconfig(self) -> None:
        target = ["--name", self.name, "--kubeconfig", str(self.kubeconfig_path)]
        subprocess.run(
            [self.kind_path, "export", "kubeconfig", *target],
            check=True,
            capture_output=True,
            timeout=60,
        )

    def delete(self) -> None:
        subprocess.run([self.kind_path, "delete", "cluster", "--name", self.name], timeout=300)

    def kubectl(self, *args: str, timeout: float = 300) -> str:
        done = subprocess.run(
            [self.kubectl_path, "--kubeconfig", str(self.kubeconfig_path), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if done.returncode != 0:
            raise subprocess.CalledProcessError(
                done.returncode, done.args, output=done.stdout, stderr=done.stderr
            )
        return done.stdout

    def node_problem(self) -> str | None:
        """Why this cluster is not the one deploy/kind/cluster.yaml describes, or None."""
        nodes = json.loads(self.kubectl("get", "nodes", "-o", "json"))["items"]
        names = sorted(n["metadata"]["name"] for n in nodes)
        if names != sorted(expected_nodes(self.name)):
            return f"nodes {names}, expected {sorted(expected_nodes(self.name))}"
        for node in nodes:
            ready = [c for c in node["status"]["conditions"] if c["type"] == "Ready"]
            if not ready or ready[0]["status"] != "True":
                return f"node {node['metadata']['name']} is not Ready"
        return None


def missing_prerequisite(cluster_exists: bool | None = None) -> str | None:
    """Why the e2e suite cannot run here, or None when it can."""
    for tool in ("docker", "kind", "kubectl"):
        if find_tool(tool) is None:
            return f"{tool} is not on PATH"
    info = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=60)
    if info.returncode != 0:
        return f"the Docker engine is not usable: {info.stderr.strip()[:200]}"
    if cluster_exists:
        return None
    image = settings()["KIND_NODE_IMAGE"]
    have = subprocess.run(["docker", "image", "inspect", image], capture_output=True, timeout=60)
    if have.returncode != 0:
        pull = subprocess.run(
            ["docker", "pull", image], capture_output=True, text=True, timeout=600
        )
        if pull.returncode != 0:
            return f"the kind node image {image} cannot be pulled: {pull.stderr.strip()[:200]}"
    return None


class Kube:
    """kubectl against the test cluster, in the runyard namespace unless told otherwise."""

    def __init__(self, cluster: KindCluster) -> None:
        self.cluster = cluster

    def __call__(self, *args: str, namespace: str | None = NAMESPACE, timeout: float = 300) -> str:
        ns = ["-n", namespace] if namespace else []
        return self.cluster.kubectl(*ns, *args, timeout=timeout)

    def json(self, *args: str) -> dict[str, Any]:
        namespace = None if args and args[0] in ("node", "nodes") else NAMESPACE
        return json.loads(self("get", *args, "-o", "json", namespace=namespace))

    def server_pods(self) -> list[dict[str, Any]]:
        selector = "app.kubernetes.io/name=runyard,app.kubernetes.io/component=server"
        pods = self.json("pods", "-l", selector)["items"]
        return [p for p in pods if not p["metadata"].get("deletionTimestamp")]

    def restarts(self, pod: dict[str, Any]) -> int:
        return sum(s.get("restartCount", 0) for s in pod["status"].get("containerStatuses", []))

    def node_of(self, pod: str) -> str:
        return self.json("pod", pod)["spec"].get("nodeName", "")

    def workers(self) -> list[str]:
        return expected_nodes(self.cluster.name)[1:]

    def quiet_worker(self) -> str:
        """A worker without PostgreSQL: its volume is bound to its node, so losing that node
        would stop the database, which no server replica can make up for."""
        postgres = self.node_of("postgres-0")
        return next(w for w in self.workers() if w != postgres)

    def ready_servers(self) -> int:
        """Server pods that are Ready (and so in the Service's endpoints) right now."""
        return sum(
            any(
                c["type"] == "Ready" and c["status"] == "True"
                for c in p["status"].get("conditions", [])
            )
            for p in self.server_pods()
        )

    def wait_node_ready(self, node: str, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            conditions = self.json("node", node)["status"]["conditions"]
            if any(c["type"] == "Ready" and c["status"] == "True" for c in conditions):
                return
            time.sleep(2)
        raise TimeoutError(f"node {node} not Ready after {timeout:.0f}s")

    def wait_deployment_ready(self, name: str = "runyard", timeout: float = 300) -> None:
        """All replicas updated, ready and available, and no old pod left terminating."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self.json("deployment", name)
            want = status["spec"]["replicas"]
            st = status["status"]
            if (
                st.get("readyReplicas") == want
                and st.get("updatedReplicas") == want
                and st.get("availableReplicas") == want
                and st.get("replicas") == want
                and len(self.server_pods()) == want
            ):
                return
            time.sleep(2)
        raise TimeoutError(f"deployment {name} not fully ready after {timeout:.0f}s")

    def wait_statefulset_ready(self, name: str, timeout: float = 300) -> None:
        """The StatefulSet's single pod exists again, is not terminating, and is Ready."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                pod = self.json("pod", f"{name}-0")
            except subprocess.CalledProcessError:
                pod = None  # not recreated yet
            if pod and not pod["metadata"].get("deletionTimestamp"):
                conditions = pod["status"].get("conditions", [])
                if any(c["type"] == "Ready" and c["status"] == "True" for c in conditions):
                    return
            time.sleep(2)
        raise TimeoutError(f"{name}-0 not ready after {timeout:.0f}s")

    def dump(self, test_name: str) -> Path:
        """Pods, events, every container's logs (and the previous instance's) and kind's logs."""
        out = OUTPUT / test_name
        out.mkdir(parents=True, exist_ok=True)

        def save(filename: str, *args: str) -> None:
            try:
                text = self(*args, timeout=60)
            except Exception as exc:  # a dump must never hide the failure it documents
                text = f"{args}: {exc}"
            (out / filename).write_text(text)

        save("pods.txt", "get", "pods", "-o", "wide")
        save("describe-pods.txt", "describe", "pods")
        save("events.txt", "get", "events", "--sort-by=.lastTimestamp")
        try:
            pods = self.json("pods")["items"]
        except Exception:
            pods = []
        for pod in pods:
            name = pod["metadata"]["name"]
            for container in pod["spec"]["containers"]:
                cname = container["name"]
                save(f"{name}.{cname}.log", "logs", name, "-c", cname)
                save(f"{name}.{cname}.previous.log", "logs", name, "-c", cname, "--previous")
        subprocess.run(
            [
                str(self.cluster.kind_path),
                "export",
                "logs",
                str(out / "kind"),
                "--name",
                self.cluster.name,
            ],
            capture_output=True,
            timeout=300,
        )
        return out
