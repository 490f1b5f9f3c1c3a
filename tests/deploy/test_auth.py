"""Accounts in the rendered manifests: auth on in every overlay, the first administrator from a
Secret the repository never holds, the account tables migrated by the Job, Secure cookies
behind the TLS Ingress, and a ServiceMonitor that authenticates instead of an open /metrics."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.deploy.manifests import (
    KIND_OVERLAY,
    MANIFESTS,
    PRODUCTION_OVERLAY,
    find,
    render,
    tool,
)

pytestmark = pytest.mark.skipif(tool("kubectl") is None, reason="kubectl is not installed")

OVERLAYS = pytest.mark.parametrize(
    "overlay", [KIND_OVERLAY, PRODUCTION_OVERLAY], ids=lambda p: p.name
)


def _settings(objects: list[dict[str, Any]]) -> dict[str, str]:
    return find(objects, "ConfigMap", "runyard")["data"]


def _server(objects: list[dict[str, Any]]) -> dict[str, Any]:
    (container,) = find(objects, "Deployment", "runyard")["spec"]["template"]["spec"]["containers"]
    return container


@OVERLAYS
def test_auth_is_on_and_metrics_stay_closed(overlay: Path) -> None:
    settings = _settings(render(overlay))
    assert settings["RUNYARD_AUTH"] == "true"
    assert settings.get("RUNYARD_AUTH_METRICS_OPEN", "false") == "false"


@OVERLAYS
def test_first_admin_comes_from_the_runyard_admin_secret(overlay: Path) -> None:
    objects = render(overlay)
    env = {e["name"]: e for e in _server(objects)["env"]}
    for variable, key in (
        ("RUNYARD_ADMIN_USERNAME", "username"),
        ("RUNYARD_ADMIN_PASSWORD", "password"),
    ):
        assert "value" not in env[variable], f"{variable} must not be written into the manifest"
        assert env[variable]["valueFrom"]["secretKeyRef"] == {"name": "runyard-admin", "key": key}
    # Made by scripts/deploy.sh (kind) or by the operator (production), never by kustomize:
    # a generated Secret would put a password in the repository.
    with pytest.raises(LookupError):
        find(objects, "Secret", "runyard-admin")
    assert "RUNYARD_ADMIN_PASSWORD" not in _settings(objects)


@OVERLAYS
def test_migration_job_also_migrates_the_account_tables(overlay: Path) -> None:
    job = find(render(overlay), "Job", "runyard-migrate")
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["args"] == ["db", "upgrade", "--auth"]


def test_production_marks_session_cookies_secure_behind_tls() -> None:
    objects = render(PRODUCTION_OVERLAY)
    assert _settings(objects)["RUNYARD_AUTH_SECURE_COOKIES"] == "true"
    assert find(objects, "Ingress", "runyard")["spec"]["tls"]


def test_kind_overlay_leaves_cookie_security_to_the_connection() -> None:
    # Reached over a plain-HTTP port-forward: a forced Secure cookie would make sign-in fail.
    assert "RUNYARD_AUTH_SECURE_COOKIES" not in _settings(render(KIND_OVERLAY))


def test_service_monitor_authenticates_with_a_token_from_a_secret() -> None:
    (monitor,) = render(MANIFESTS / "components" / "servicemonitor")
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["path"] == "/metrics"
    assert endpoint["authorization"] == {
        "type": "Bearer",
        "credentials": {"name": "runyard-metrics-token", "key": "token"},
    }
