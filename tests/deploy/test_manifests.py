"""What the rendered manifests must say for the deployment to heal and stay safe.

These read the objects `kubectl kustomize` produces, so they check what a cluster would get,
not the source files.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.deploy.manifests import (
    BASE,
    KIND_OVERLAY,
    MANIFESTS,
    containers,
    find,
    generated_name,
    matches,
    pod_specs,
    render,
    tool,
)

pytestmark = pytest.mark.skipif(tool("kubectl") is None, reason="kubectl is not installed")


@pytest.fixture(scope="module")
def objects() -> list[dict[str, Any]]:
    return render(KIND_OVERLAY)


@pytest.fixture(scope="module")
def deployment(objects: list[dict[str, Any]]) -> dict[str, Any]:
    return find(objects, "Deployment", "runyard")


@pytest.fixture(scope="module")
def server(deployment: dict[str, Any]) -> dict[str, Any]:
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return container


def test_everything_lives_in_the_runyard_namespace(objects: list[dict[str, Any]]) -> None:
    find(objects, "Namespace", "runyard")
    for obj in objects:
        if obj["kind"] != "Namespace":
            assert obj["metadata"].get("namespace") == "runyard", obj["metadata"]["name"]


def test_server_runs_at_least_two_replicas_spread_over_nodes(deployment: dict[str, Any]) -> None:
    spec = deployment["spec"]
    assert spec["replicas"] >= 2
    assert spec["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    pod = spec["template"]["spec"]
    labels = spec["template"]["metadata"]["labels"]
    (spread,) = pod["topologySpreadConstraints"]
    assert spread["topologyKey"] == "kubernetes.io/hostname"
    assert matches(spread["labelSelector"]["matchLabels"], labels)
    (term,) = pod["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
    assert term["podAffinityTerm"]["topologyKey"] == "kubernetes.io/hostname"
    assert matches(term["podAffinityTerm"]["labelSelector"]["matchLabels"], labels)


def test_server_pods_leave_a_lost_node_within_seconds(deployment: dict[str, Any]) -> None:
    tolerations = {t["key"]: t for t in deployment["spec"]["template"]["spec"]["tolerations"]}
    for key in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"):
        assert tolerations[key]["effect"] == "NoExecute"
        assert tolerations[key]["tolerationSeconds"] <= 30, key


def test_probes_point_at_the_right_endpoints(server: dict[str, Any]) -> None:
    assert server["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert server["livenessProbe"]["httpGet"]["path"] == "/health"
    assert server["startupProbe"]["httpGet"]["path"] == "/health"
    ports = {p["name"]: p["containerPort"] for p in server["ports"]}
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        assert server[probe]["httpGet"]["port"] in ports
    # Readiness must react faster than liveness restarts the pod.
    ready, live = server["readinessProbe"], server["livenessProbe"]
    assert ready["periodSeconds"] * ready["failureThreshold"] < (
        live["periodSeconds"] * live["failureThreshold"]
    )


def test_grace_period_covers_prestop_and_the_servers_graceful_timeout(
    objects: list[dict[str, Any]], deployment: dict[str, Any], server: dict[str, Any]
) -> None:
    from runyard.settings_catalog import SERVER

    config = find(objects, "ConfigMap", "runyard")["data"]
    default = next(s.default for s in SERVER if s.name == "graceful_timeout")
    graceful = int(config.get("RUNYARD_GRACEFUL_TIMEOUT", default))
    pre_stop = server["lifecycle"]["preStop"]["sleep"]["seconds"]
    grace = deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert pre_stop >= 3, "endpoints need a moment to drop the pod before it stops listening"
    assert grace > pre_stop + graceful


@pytest.mark.parametrize("resources", ["requests", "limits"])
def test_every_container_has_resources(objects: list[dict[str, Any]], resources: str) -> None:
    for owner, spec in pod_specs(objects):
        for container in containers(spec):
            assert {"cpu", "memory"} <= set(container["resources"][resources]), owner


def test_every_pod_is_locked_down(objects: list[dict[str, Any]]) -> None:
    for owner, spec in pod_specs(objects):
        assert spec["automountServiceAccountToken"] is False, owner
        pod_security = spec["securityContext"]
        assert pod_security["runAsNonRoot"] is True, owner
        assert pod_security["seccompProfile"]["type"] == "RuntimeDefault", owner
        for container in containers(spec):
            security = container["securityContext"]
            assert security["allowPrivilegeEscalation"] is False, owner
            assert security["readOnlyRootFilesystem"] is True, owner
            assert security["capabilities"]["drop"] == ["ALL"], owner
            mounts = {m["mountPath"] for m in container.get("volumeMounts", [])}
            assert "/tmp" in mounts, f"{owner}: a read-only root needs a writable /tmp"


def test_server_runs_as_the_images_user(deployment: dict[str, Any]) -> None:
    security = deployment["spec"]["template"]["spec"]["securityContext"]
    assert security["runAsUser"] == 10001
    dockerfile = (MANIFESTS.parents[1] / "Dockerfile").read_text()
    assert "USER 10001:10001" in dockerfile


def test_server_settings_come_from_configmap_and_secrets(
    objects: list[dict[str, Any]], server: dict[str, Any]
) -> None:
    sources = [next(iter(source.values()))["name"] for source in server["envFrom"]]
    assert [s.rsplit("-", 1)[0] for s in sources] == ["runyard", "runyard-database", "runyard-s3"]
    for kind, name in zip(("ConfigMap", "Secret", "Secret"), sources, strict=True):
        assert any(o["kind"] == kind and o["metadata"]["name"] == name for o in objects), name
    database = find(objects, "Secret", "runyard-database")
    assert set(database.get("data", {})) == {"RUNYARD_BACKEND_STORE_URI"}
    s3_keys = find(objects, "Secret", "runyard-s3")
    assert set(s3_keys["data"]) == {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
    minio_root = find(objects, "Secret", "minio")["data"]["MINIO_ROOT_USER"]
    assert s3_keys["data"]["AWS_ACCESS_KEY_ID"] != minio_root, "the server never gets root keys"


def test_config_map_is_generated_so_a_change_rolls_the_pods(objects: list[dict[str, Any]]) -> None:
    config = find(objects, "ConfigMap", "runyard")
    assert config["metadata"]["name"] != "runyard", "a content hash in the name rolls the pods"


def test_pdb_and_service_select_exactly_the_server_pods(objects: list[dict[str, Any]]) -> None:
    deployment = find(objects, "Deployment", "runyard")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    pdb = find(objects, "PodDisruptionBudget", "runyard")
    assert pdb["spec"]["minAvailable"] == 1
    assert matches(pdb["spec"]["selector"]["matchLabels"], labels)
    service = find(objects, "Service", "runyard")
    assert matches(service["spec"]["selector"], labels)
    (port,) = service["spec"]["ports"]
    assert port["port"] == 5000
    assert port["targetPort"] in {
        p["name"] for p in deployment["spec"]["template"]["spec"]["containers"][0]["ports"]
    }
    # Neither may also catch the migration or bucket Job pods.
    for name in ("runyard-migrate", "minio-bucket"):
        job_labels = find(objects, "Job", name)["spec"]["template"]["metadata"]["labels"]
        assert not matches(service["spec"]["selector"], job_labels), name
        assert not matches(pdb["spec"]["selector"]["matchLabels"], job_labels), name


@pytest.mark.parametrize(
    ("name", "component"), [("postgres", "database"), ("minio", "object-store")]
)
def test_stateful_parts_keep_their_data_on_claims(
    objects: list[dict[str, Any]], name: str, component: str
) -> None:
    statefulset = find(objects, "StatefulSet", name)
    claims = {c["metadata"]["name"] for c in statefulset["spec"]["volumeClaimTemplates"]}
    (container,) = statefulset["spec"]["template"]["spec"]["containers"]
    mounted = {m["name"] for m in container["volumeMounts"]}
    assert claims & mounted
    assert container["readinessProbe"] and container["livenessProbe"]
    service = find(objects, "Service", name)
    assert matches(
        service["spec"]["selector"], statefulset["spec"]["template"]["metadata"]["labels"]
    )
    assert statefulset["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"] == (
        component
    )


def test_postgres_keeps_pgdata_in_a_subdirectory_of_its_volume(
    objects: list[dict[str, Any]],
) -> None:
    (container,) = find(objects, "StatefulSet", "postgres")["spec"]["template"]["spec"][
        "containers"
    ]
    pgdata = next(e["value"] for e in container["env"] if e["name"] == "PGDATA")
    data = next(m["mountPath"] for m in container["volumeMounts"] if m["name"] == "data")
    assert pgdata.startswith(data + "/") and pgdata != data
    assert container["image"].startswith("postgres:16.")
    assert "pg_isready" in " ".join(container["readinessProbe"]["exec"]["command"])


def test_minio_uses_its_health_endpoints(objects: list[dict[str, Any]]) -> None:
    (container,) = find(objects, "StatefulSet", "minio")["spec"]["template"]["spec"]["containers"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/minio/health/live"
    assert container["readinessProbe"]["httpGet"]["path"] == "/minio/health/ready"
    assert container["image"] == "minio/minio:RELEASE.2025-09-07T16-13-09Z"


def test_jobs_retry_and_clean_up(objects: list[dict[str, Any]]) -> None:
    migrate = find(objects, "Job", "runyard-migrate")
    for job in (migrate, find(objects, "Job", "minio-bucket")):
        assert 0 < job["spec"]["backoffLimit"] <= 20
        assert job["spec"]["ttlSecondsAfterFinished"] > 0
    (container,) = migrate["spec"]["template"]["spec"]["containers"]
    assert container["args"] == ["db", "upgrade", "--auth"], "the URI stays out of the command line"
    assert generated_name(container["envFrom"][0]["secretRef"]["name"], "runyard-database")


def test_every_image_is_pinned(objects: list[dict[str, Any]]) -> None:
    for owner, spec in pod_specs(objects):
        for container in containers(spec):
            image = container["image"]
            assert ":" in image and not image.endswith(":latest"), f"{owner}: {image}"


def test_runyard_image_is_set_in_one_place() -> None:
    """Sources name the image only as `runyard`; kustomize `images:` gives it name and tag."""
    for path in MANIFESTS.rglob("*.yaml"):
        if path.name == "kustomization.yaml":
            continue
        for image in re.findall(r"^\s*image:\s*(\S+)", path.read_text(), re.MULTILINE):
            assert image in {"runyard", "postgres", "minio"}, f"{path}: image {image}"
    for overlay, tag in ((BASE, "0.1.0"), (KIND_OVERLAY, "dev")):
        images = {
            c["image"]
            for _, spec in pod_specs(render(overlay))
            for c in containers(spec)
            if c["image"].startswith("runyard")
        }
        assert images == {f"runyard:{tag}"}, overlay


def test_network_policies_open_only_the_needed_paths(objects: list[dict[str, Any]]) -> None:
    policies = {o["metadata"]["name"]: o for o in objects if o["kind"] == "NetworkPolicy"}
    assert policies["default-deny-ingress"]["spec"]["podSelector"] == {}
    labels = {
        owner: find(objects, *owner.split("/"))["spec"]["template"]["metadata"]["labels"]
        for owner in (
            "Deployment/runyard",
            "Job/runyard-migrate",
            "Job/minio-bucket",
            "StatefulSet/minio",
        )
    }

    def allowed(policy: str, owner: str) -> bool:
        (rule,) = policies[policy]["spec"]["ingress"]
        return any(matches(f["podSelector"]["matchLabels"], labels[owner]) for f in rule["from"])

    assert allowed("postgres-ingress", "Deployment/runyard")
    assert allowed("postgres-ingress", "Job/runyard-migrate")
    assert not allowed("postgres-ingress", "StatefulSet/minio")
    assert allowed("minio-ingress", "Deployment/runyard")
    assert allowed("minio-ingress", "Job/minio-bucket")
    assert not allowed("minio-ingress", "Job/runyard-migrate")
