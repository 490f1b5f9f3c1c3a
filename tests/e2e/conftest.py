"""Fixtures for the kind e2e suite: the cluster named in deploy/kind/settings.env with runyard
deployed by scripts/deploy.sh, a self-healing port-forward to the Service, and a dump of the
cluster's state into test-output/e2e/<test>/ when a test fails.

The suite reuses the cluster `make kind-up` made (after checking it has the expected nodes) and
never deletes a cluster it did not create; a cluster it created itself is deleted at the end
unless RUNYARD_KEEP_CLUSTER=1. The image is the one in settings.env, rebuilt from this checkout
with the normal `docker build` (RUNYARD_E2E_OFFLINE=1: the offline build), unless RUNYARD_IMAGE
names a prebuilt image, which is then used as it is. Without docker, kind, kubectl or a node
image the suite skips (or fails, when RUNYARD_REQUIRE names `kind`)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator

import pytest

from tests.e2e.cluster import OUTPUT, ROOT, KindCluster, Kube, missing_prerequisite, settings
from tests.e2e.portforward import ForwardedClient, PortForward
from tests.requirements import require

SETTINGS = settings()
CLUSTER_NAME = SETTINGS["KIND_CLUSTER"]
IMAGE = SETTINGS["RUNYARD_IMAGE"]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


def _prepare_image() -> None:
    """Build the image from this checkout, or check that the named prebuilt image exists."""
    if "RUNYARD_IMAGE" in os.environ:
        found = subprocess.run(["docker", "image", "inspect", IMAGE], capture_output=True)
        if found.returncode != 0:
            pytest.fail(f"RUNYARD_IMAGE={IMAGE} names an image that is not in the local engine")
        return
    offline = ["--offline"] if os.environ.get("RUNYARD_E2E_OFFLINE") == "1" else []
    subprocess.run(
        [str(ROOT / "scripts" / "build-image.sh"), "--tag", IMAGE, *offline],
        check=True,
        timeout=1800,
    )


@pytest.fixture(scope="session")
def cluster() -> Iterator[KindCluster]:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    kind = KindCluster(CLUSTER_NAME, OUTPUT)
    reason = missing_prerequisite()
    existed = reason is None and kind.exists()
    reason = reason or missing_prerequisite(cluster_exists=existed)
    if reason:
        require("kind", f"kind e2e suite cannot run: {reason}")
    if existed:
        kind.export_kubeconfig()
        problem = kind.node_problem()
        if problem:
            pytest.fail(f"the existing kind cluster {CLUSTER_NAME} is not usable: {problem}")
    else:
        kind.create()
    try:
        _prepare_image()
        env = {**kind.env, "RUNYARD_IMAGE": IMAGE}
        subprocess.run([str(ROOT / "scripts" / "deploy.sh")], check=True, env=env, timeout=1800)
        yield kind
    except BaseException:
        Kube(kind).dump("deploy")
        raise
    finally:
        if not existed and os.environ.get("RUNYARD_KEEP_CLUSTER") != "1":
            kind.delete()


@pytest.fixture(scope="session")
def kube(cluster: KindCluster) -> Kube:
    return Kube(cluster)


@pytest.fixture(scope="session")
def forward(cluster: KindCluster) -> Iterator[PortForward]:
    with PortForward([cluster.kubectl_path], env=cluster.env) as pf:
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
