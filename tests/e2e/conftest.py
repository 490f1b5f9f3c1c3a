"""Fixtures for the kind e2e suite: a cluster from deploy/kind/cluster.yaml with runyard
deployed by scripts/deploy.sh, a self-healing port-forward to the Service, and a dump of the
cluster's state into test-output/e2e/<test>/ when a test fails.

The suite skips (or fails, when RUNYARD_REQUIRE names `kind`) without docker, kind, kubectl or
the pinned node image. RUNYARD_KEEP_CLUSTER=1 keeps the cluster for the next run, and
RUNYARD_E2E_CLUSTER=runyard runs against the cluster `make kind-up` made."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.cluster import CLUSTER_CONFIG, OUTPUT, ROOT, Kube, find_tool, missing_prerequisite
from tests.e2e.portforward import ForwardedClient, PortForward
from tests.requirements import require

CLUSTER_NAME = os.environ.get("RUNYARD_E2E_CLUSTER", "runyard-e2e")
IMAGE = os.environ.get("RUNYARD_IMAGE", "runyard:dev")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture(scope="session")
def cluster() -> Iterator[Any]:
    reason = missing_prerequisite()
    if reason:
        require("kind", f"kind e2e suite cannot run: {reason}")
    from pytest_kind import KindCluster

    OUTPUT.mkdir(parents=True, exist_ok=True)
    kind = KindCluster(
        CLUSTER_NAME,
        kubeconfig=OUTPUT / "kubeconfig",
        kind_path=Path(find_tool("kind") or "kind"),
        kubectl_path=Path(find_tool("kubectl") or "kubectl"),
    )
    existing = subprocess.run(
        [str(kind.kind_path), "get", "clusters"], capture_output=True, text=True, timeout=60
    ).stdout.split()
    if CLUSTER_NAME in existing:  # reuse it: its kubeconfig has to be written for this run
        subprocess.run(
            [
                str(kind.kind_path),
                "export",
                "kubeconfig",
                "--name",
                CLUSTER_NAME,
                "--kubeconfig",
                str(kind.kubeconfig_path),
            ],
            check=True,
            timeout=60,
        )
    kind.create(config_file=CLUSTER_CONFIG)
    try:
        subprocess.run(
            [str(ROOT / "scripts" / "build-image.sh"), "--offline", "--tag", IMAGE],
            check=True,
            timeout=1800,
        )
        env = {
            **os.environ,
            "KUBECONFIG": str(kind.kubeconfig_path),
            "KIND_CLUSTER": CLUSTER_NAME,
            "RUNYARD_IMAGE": IMAGE,
        }
        env["PATH"] = f"{Path(kind.kind_path).parent}:{env.get('PATH', '')}"
        subprocess.run([str(ROOT / "scripts" / "deploy.sh")], check=True, env=env, timeout=1800)
        yield kind
    except BaseException:
        Kube(kind).dump("deploy")
        raise
    finally:
        if os.environ.get("RUNYARD_KEEP_CLUSTER") != "1":
            kind.delete()


@pytest.fixture(scope="session")
def kube(cluster: Any) -> Kube:
    return Kube(cluster)


@pytest.fixture(scope="session")
def forward(cluster: Any) -> Iterator[PortForward]:
    env = {**os.environ, "KUBECONFIG": str(cluster.kubeconfig_path)}
    with PortForward([str(cluster.kubectl_path)], env=env) as pf:
        yield pf


@pytest.fixture(scope="session")
def client(forward: PortForward) -> ForwardedClient:
    return ForwardedClient(forward)


@pytest.fixture(autouse=True)
def _dump_cluster_on_failure(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed and "kube" in request.fixturenames:
        path = request.getfixturevalue("kube").dump(request.node.name)
        print(f"cluster state dumped to {path}")
