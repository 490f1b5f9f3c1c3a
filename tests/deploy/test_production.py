"""What the production overlay must say: managed PostgreSQL and S3 from Secrets it does not
generate, HTTPS through an Ingress, an autoscaler that cannot exhaust the database's
connections, and a server reachable only from the ingress controller and monitoring."""

from __future__ import annotations

from typing import Any

import pytest

from tests.deploy.manifests import (
    KIND_OVERLAY,
    PRODUCTION_OVERLAY,
    connection_budget,
    find,
    pod_specs,
    render,
    tool,
)

pytestmark = pytest.mark.skipif(tool("kubectl") is None, reason="kubectl is not installed")

#: PostgreSQL's default max_connections: what the kind overlay's in-cluster server has.
POSTGRES_DEFAULT_MAX_CONNECTIONS = 100
#: Connections the kind overlay keeps free for the Jobs and administrators.
KIND_RESERVED_CONNECTIONS = 15


@pytest.fixture(scope="module")
def objects() -> list[dict[str, Any]]:
    return render(PRODUCTION_OVERLAY)


def test_no_database_or_object_store_runs_in_the_cluster(objects: list[dict[str, Any]]) -> None:
    assert not [o for o in objects if o["kind"] in ("StatefulSet", "PersistentVolumeClaim")]
    assert not [o for o in objects if o["kind"] == "Secret"], "secrets are made outside"
    (server,) = find(objects, "Deployment", "runyard")["spec"]["template"]["spec"]["containers"]
    secrets = [s["secretRef"]["name"] for s in server["envFrom"] if "secretRef" in s]
    assert secrets == ["runyard-database", "runyard-s3"]
    config = find(objects, "ConfigMap", "runyard")["data"]
    assert config["RUNYARD_ARTIFACTS_DESTINATION"].startswith("s3://")
    assert "RUNYARD_S3_ENDPOINT_URL" not in config, "AWS S3 needs no endpoint; MinIO is not here"


def test_image_comes_from_a_registry(objects: list[dict[str, Any]]) -> None:
    for owner, spec in pod_specs(objects):
        for container in spec["containers"]:
            name = container["image"].rsplit(":", 1)[0]
            assert "/" in name and "." in name.split("/")[0], f"{owner}: {container['image']}"


def test_ingress_serves_the_service_over_tls(objects: list[dict[str, Any]]) -> None:
    ingress = find(objects, "Ingress", "runyard")
    (tls,) = ingress["spec"]["tls"]
    (rule,) = ingress["spec"]["rules"]
    assert rule["host"] in tls["hosts"] and tls["secretName"]
    (path,) = rule["http"]["paths"]
    backend = path["backend"]["service"]
    assert backend["name"] == find(objects, "Service", "runyard")["metadata"]["name"]
    assert backend["port"]["name"] == "http"
    annotations = ingress["metadata"]["annotations"]
    assert annotations["cert-manager.io/cluster-issuer"]
    assert annotations["nginx.ingress.kubernetes.io/proxy-body-size"] == "0"


def test_autoscaler_stays_within_the_database_connection_budget(
    objects: list[dict[str, Any]],
) -> None:
    hpa = find(objects, "HorizontalPodAutoscaler", "runyard")
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "runyard",
    }
    assert hpa["spec"]["minReplicas"] >= 2, "the PodDisruptionBudget needs two to drain a node"
    deployment = find(objects, "Deployment", "runyard")
    assert "replicas" not in deployment["spec"], "an applied replica count fights the autoscaler"
    annotations = hpa["metadata"]["annotations"]
    limit = int(annotations["runyard/postgres-max-connections"])
    reserved = int(annotations["runyard/postgres-reserved-connections"])
    budget = connection_budget(objects, hpa["spec"]["maxReplicas"])
    assert budget + reserved <= limit, f"{budget} server + {reserved} reserved > {limit}"


def test_kind_overlay_stays_within_postgres_default_connections() -> None:
    objects = render(KIND_OVERLAY)
    replicas = find(objects, "Deployment", "runyard")["spec"]["replicas"]
    budget = connection_budget(objects, replicas)
    assert budget + KIND_RESERVED_CONNECTIONS <= POSTGRES_DEFAULT_MAX_CONNECTIONS, budget


def test_only_the_ingress_controller_and_monitoring_reach_the_server(
    objects: list[dict[str, Any]],
) -> None:
    policies = {o["metadata"]["name"]: o for o in objects if o["kind"] == "NetworkPolicy"}
    assert policies["default-deny-ingress"]["spec"]["podSelector"] == {}
    (rule,) = policies["runyard-server-ingress"]["spec"]["ingress"]
    sources = {
        peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
        for peer in rule["from"]
    }
    assert sources == {"ingress-nginx", "monitoring"}
    assert all(set(peer) == {"namespaceSelector"} for peer in rule["from"])
    assert rule["ports"] == [{"port": 5000, "protocol": "TCP"}]
