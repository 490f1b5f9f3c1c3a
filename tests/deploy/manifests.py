"""Render the kustomize manifests and find the objects in them, for the offline checks."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = ROOT / "deploy" / "manifests"
BASE = MANIFESTS / "base"
KIND_OVERLAY = MANIFESTS / "overlays" / "kind"
PRODUCTION_OVERLAY = MANIFESTS / "overlays" / "production"


def tool(name: str) -> str | None:
    """The venv's copy of a command-line tool (pinned by the test extra), else the one on PATH."""
    local = Path(sys.executable).parent / name
    return str(local) if local.exists() else shutil.which(name)


def run(*args: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=180
    )


@cache
def render_text(path: Path) -> str:
    kubectl = tool("kubectl")
    if kubectl is None:
        raise RuntimeError("kubectl is not installed (it comes with the test extra)")
    done = run(kubectl, "kustomize", path)
    if done.returncode != 0:
        raise RuntimeError(f"kubectl kustomize {path} failed:\n{done.stderr}")
    return done.stdout


def render(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(render_text(path)) if doc]


def generated_name(actual: str, name: str) -> bool:
    """Whether ``actual`` is ``name`` or kustomize's generated ``name-<content hash>``."""
    return actual == name or re.fullmatch(re.escape(name) + r"-[a-z0-9]{10}", actual) is not None


def find(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    """The object of ``kind`` named ``name`` (for generated ConfigMaps and Secrets, with hash)."""
    for obj in objects:
        if obj["kind"] == kind and generated_name(obj["metadata"]["name"], name):
            return obj
    raise LookupError(f"no {kind}/{name} in the rendered manifests")


def pod_specs(objects: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every pod template in the manifests (CronJobs' too), as ("Kind/name", pod spec)."""
    for obj in objects:
        spec = obj.get("spec", {})
        template = spec.get("template") or spec.get("jobTemplate", {}).get("spec", {}).get(
            "template"
        )
        if template:
            yield f"{obj['kind']}/{obj['metadata']['name']}", template["spec"]


def containers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [*spec.get("initContainers", []), *spec["containers"]]


def connection_budget(objects: list[dict[str, Any]], max_replicas: int) -> int:
    """PostgreSQL connections the servers can hold at most: every pod a rollout can run at once
    (replicas + surge), times worker processes, times each process's pools: tracking, and the
    accounts' own when accounts are on (a setting the ConfigMap leaves out has its default)."""
    from runyard import config as settings

    deployment = find(objects, "Deployment", "runyard")
    surge = int(deployment["spec"]["strategy"]["rollingUpdate"]["maxSurge"])
    data = find(objects, "ConfigMap", "runyard")["data"]

    def value(name: str) -> int:
        return int(data.get(f"RUNYARD_{name.upper()}", settings.default(name)))

    per_process = value("db_pool_size") + value("db_max_overflow")
    if data.get("RUNYARD_AUTH", "").lower() == "true":
        per_process += value("auth_db_pool_size") + value("auth_db_max_overflow")
    return (max_replicas + surge) * value("workers") * per_process


def matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())
