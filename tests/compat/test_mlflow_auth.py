"""The unmodified mlflow client, and MLflow's auth client, against ``runyard server --auth``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from runyard.auth.store import AuthStore
from runyard.store import store_for_uri

from tests.compat.conftest import Served
from tests.live_server import start_live_server
from tests.postgres import fresh_postgres_database

ADMIN = {"RUNYARD_ADMIN_USERNAME": "admin", "RUNYARD_ADMIN_PASSWORD": "admin-password-1"}


def _serve(backend_uri: str, tmp: Path) -> Iterator[tuple[Served, AuthStore]]:
    destination = tmp / "mlartifacts"
    with start_live_server(
        backend_uri,
        artifacts_destination=str(destination),
        workers=2,
        extra_args=["--auth"],
        env=ADMIN,
    ) as server:
        store = store_for_uri(backend_uri, "mlflow-artifacts:/")
        auth = AuthStore(backend_uri)
        try:
            yield Served(server, backend_uri, destination, store, tmp), auth
        finally:
            store.close()
            auth.close()


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def served_auth(
    request: pytest.FixtureRequest, tmp_path_factory
) -> Iterator[tuple[Served, AuthStore]]:
    tmp = tmp_path_factory.mktemp(f"compat-auth-{request.param}")
    if request.param == "sqlite":
        yield from _serve(f"sqlite:///{tmp / 'runyard.db'}", tmp)
    else:
        with fresh_postgres_database() as uri:
            yield from _serve(uri, tmp)


def test_mlflow_logs_with_username_and_password(served_auth) -> None:
    served, auth = served_auth
    if auth.find_user("logger") is None:
        auth.create_user("logger", "logger-password-1")
    out = served.run_script(
        "fluent_basics.py",
        env={"MLFLOW_TRACKING_USERNAME": "logger", "MLFLOW_TRACKING_PASSWORD": "logger-password-1"},
    )
    parent = served.store.get_run(out["parent"])
    assert parent.data.metrics["logloss"] == 0.5
    root = served.artifact(out["experiment_id"], out["parent"], "artifacts")
    assert (root / "hello.txt").read_text() == "hello"
    logger = auth.get_user("logger")
    grants = {
        (g.resource_type, g.resource_pattern, g.permission) for g in auth.user_grants(logger.id)
    }
    assert ("experiment", out["experiment_id"], "MANAGE") in grants


def test_mlflow_logs_with_a_token(served_auth) -> None:
    served, auth = served_auth
    if auth.find_user("robot") is None:
        auth.create_user("robot", "robot-password-1")
    _token, secret = auth.create_token("robot", f"ci-{len(auth.list_tokens('robot'))}", None)
    out = served.run_script("client_ops.py", env={"MLFLOW_TRACKING_TOKEN": secret})
    assert served.store.get_experiment(out["experiment_id"]).name == "compat-client-renamed"
    assert auth.list_tokens("robot")[-1].last_used_at is not None


def test_mlflow_without_credentials_is_refused(served_auth) -> None:
    served, _auth = served_auth
    with pytest.raises(pytest.fail.Exception, match=r"UNAUTHENTICATED|401"):
        served.run_script("fluent_basics.py", timeout=120)


def test_mlflow_auth_client_runs_unchanged(served_auth) -> None:
    served, _auth = served_auth
    out = served.run_script(
        "auth_client.py",
        env={"MLFLOW_TRACKING_USERNAME": "admin", "MLFLOW_TRACKING_PASSWORD": "admin-password-1"},
    )
    assert out["created"] == ["dora", False, "REDACTED"]
    assert out["short_password"] == "INVALID_PARAMETER_VALUE"
    assert out["duplicate"] == "RESOURCE_ALREADY_EXISTS"
    assert out["got"] == "dora" and out["admin_after_update"] is True
    assert out["granted"] == ["EDIT", True]
    assert out["deny"] == "DENY" and out["model"] == "READ"
    assert out["role"] == ["editors", "default", "edit everything"]
    assert out["role_get"] == "editors" and "editors" in out["roles_listed"]
    assert out["role_permission"] == ["experiment", "*", "EDIT"]
    assert out["role_permission_updated"] == "MANAGE" and out["role_permissions"] == ["MANAGE"]
    assert out["assigned"] is True and "editors" in out["user_roles"]
    assert out["role_users"] == 1 and out["other_experiment"] == "MANAGE"
    assert out["deleted_role"] == "RESOURCE_DOES_NOT_EXIST"
    assert out["deleted_user"] == "RESOURCE_DOES_NOT_EXIST"


def test_registered_model_permissions_with_mlflows_clients(served_auth) -> None:
    served, _auth = served_auth
    out = served.run_script(
        "auth_registry.py",
        env={"MLFLOW_TRACKING_USERNAME": "admin", "MLFLOW_TRACKING_PASSWORD": "admin-password-1"},
    )
    assert out["maker"] == "MANAGE"
    assert out["legacy_created"] == "READ" and out["legacy_got"] == "guarded"
    assert out["editor"] == "EDIT"
    assert "guarded" not in out["viewer_models"] and "open" in out["viewer_models"]
    assert out["viewer_versions"] == ["open"]
    for key in ("viewer_get", "viewer_alias", "viewer_latest", "viewer_download", "viewer_tag"):
        assert out[key] == "PERMISSION_DENIED", key
    for key in ("editor_delete_version_tag", "editor_delete_version", "editor_delete_model"):
        assert out[key] == "PERMISSION_DENIED", key
    assert out["maker_download"] == "flavors: {}\n"
    assert (out["renamed_editor"], out["renamed_viewer"]) == ("EDIT", "DENY")
    assert "guarded-v2" not in out["viewer_after_rename"]
    assert out["deleted_editor"] == "READ"  # the default: the grant went with the model
    assert out["legacy_deleted"] == "RESOURCE_DOES_NOT_EXIST"
