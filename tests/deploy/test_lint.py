"""Offline checks of the deployment files with the ecosystem's own tools.

Rendered manifests are validated against the schemas of the cluster's Kubernetes version
(strict: unknown fields fail), the YAML sources are linted, the Dockerfile goes through
hadolint, and checkov's policies run on the rendered objects and the Dockerfile with the skips
listed in ``.checkov.yaml``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.deploy.manifests import (
    BASE,
    KIND_OVERLAY,
    MANIFESTS,
    PRODUCTION_OVERLAY,
    ROOT,
    render_text,
    run,
    tool,
)
from tests.e2e.cluster import settings

KUBERNETES_VERSION = settings()["KUBERNETES_VERSION"]


def _tool_or_skip(name: str) -> str:
    path = tool(name)
    if path is None:
        pytest.skip(f"{name} is not installed (it comes with the test extra)")
    return path


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    _tool_or_skip("kubectl")
    out = tmp_path_factory.mktemp("rendered")
    files = {}
    for name, path in (("base", BASE), ("kind", KIND_OVERLAY), ("production", PRODUCTION_OVERLAY)):
        files[name] = out / f"{name}.yaml"
        files[name].write_text(render_text(path))
    return files


@pytest.mark.parametrize("which", ["base", "kind", "production"])
def test_every_rendered_object_is_valid_for_the_clusters_kubernetes(
    rendered: dict[str, Path], which: str
) -> None:
    validate = _tool_or_skip("kubernetes-validate")
    done = run(validate, "--strict", "-k", KUBERNETES_VERSION, "--quiet", rendered[which])
    assert done.returncode == 0, done.stdout + done.stderr


def test_servicemonitor_component_renders_onto_the_overlay(tmp_path: Path) -> None:
    kubectl = _tool_or_skip("kubectl")
    overlay = ROOT / "test-output" / "deploy-tests" / tmp_path.name
    overlay.mkdir(parents=True, exist_ok=True)
    (overlay / "kustomization.yaml").write_text(
        "resources: [../../../deploy/manifests/overlays/kind]\n"
        "components: [../../../deploy/manifests/components/servicemonitor]\n"
    )
    done = run(kubectl, "kustomize", overlay)
    assert done.returncode == 0, done.stderr
    assert "kind: ServiceMonitor" in done.stdout
    assert "path: /metrics" in done.stdout


def test_yaml_sources_pass_yamllint() -> None:
    yamllint = _tool_or_skip("yamllint")
    done = run(yamllint, "-s", MANIFESTS, ROOT / "deploy" / "kind", ".yamllint", ".checkov.yaml")
    assert done.returncode == 0, done.stdout + done.stderr


def test_dockerfile_passes_hadolint() -> None:
    hadolint = _tool_or_skip("hadolint")
    done = run(hadolint, "Dockerfile")
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("target", ["kind", "production", "Dockerfile"])
def test_checkov_policies_pass(rendered: dict[str, Path], target: str) -> None:
    checkov = _tool_or_skip("checkov")
    framework = "dockerfile" if target == "Dockerfile" else "kubernetes"
    path = ROOT / "Dockerfile" if target == "Dockerfile" else rendered[target]
    done = run(checkov, "--config-file", ".checkov.yaml", "--framework", framework, "-f", path)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "Failed checks: 0" in done.stdout


def test_every_checkov_skip_is_justified() -> None:
    lines = (ROOT / ".checkov.yaml").read_text().splitlines()
    start = lines.index("skip-check:")
    previous = ""
    for line in lines[start + 1 :]:
        if line.strip().startswith("- CKV"):
            assert previous.strip().startswith("#"), f"no reason given above {line.strip()}"
        previous = line
