"""``--auth``: deny by default over the whole URL map, filtered reads, the security cases."""

from __future__ import annotations

import base64
import contextlib
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from runyard.server.app import create_app

ADMIN = ("admin", "admin-password-1")
ALICE = ("alice", "alice-password-1")
BOB = ("bob", "bob-password-12")
OPEN_PATHS = {"/health", "/ready", "/version", "/login"}


def basic(user: tuple[str, str]) -> dict[str, str]:
    token = base64.b64encode(f"{user[0]}:{user[1]}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@contextlib.contextmanager
def auth_app(backend: str, tmp_path: Path) -> Iterator[Flask]:
    """A server app on ``backend`` with accounts on: an admin, alice and bob; READ by default."""
    app = create_app(
        {
            "backend_store_uri": backend,
            "artifacts_destination": str(tmp_path / "mlartifacts"),
            "auth": "true",
            "admin_username": ADMIN[0],
            "admin_password": ADMIN[1],
            "auth_default_permission": "READ",
        }
    )
    auth = app.config["RUNYARD_AUTH_STORE"]
    auth.create_user(*ALICE)
    auth.create_user(*BOB)
    yield app
    app.config["RUNYARD_STORE"].close()
    auth.close()


@pytest.fixture(params=["file", "sqlite"])
def app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Flask]:
    backend = (
        str(tmp_path / "mlruns")
        if request.param == "file"
        else f"sqlite:///{tmp_path / 'runyard.db'}"
    )
    with auth_app(backend, tmp_path) as app:
        yield app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def call(client: FlaskClient, user: Any, method: str, path: str, **kwargs: Any):  # type: ignore[no-untyped-def]
    headers = basic(user) if isinstance(user, tuple) else (user or {})
    return client.open(path, method=method, headers=headers, **kwargs)


def create_experiment(client: FlaskClient, user: tuple[str, str], name: str) -> str:
    r = call(client, user, "POST", "/api/2.0/mlflow/experiments/create", json={"name": name})
    assert r.status_code == 200, r.get_json()
    return r.get_json()["experiment_id"]


def create_run(client: FlaskClient, user: tuple[str, str], experiment_id: str) -> str:
    r = call(
        client,
        user,
        "POST",
        "/api/2.0/mlflow/runs/create",
        json={"experiment_id": experiment_id, "start_time": 1},
    )
    assert r.status_code == 200, r.get_json()
    return r.get_json()["run"]["info"]["run_id"]


def grant(client: FlaskClient, username: str, experiment_id: str, permission: str) -> None:
    r = call(
        client,
        ADMIN,
        "POST",
        "/api/3.0/mlflow/users/permissions/grant",
        json={
            "username": username,
            "resource_type": "experiment",
            "resource_id": experiment_id,
            "permission": permission,
        },
    )
    assert r.status_code == 200, r.get_json()


# ---- deny by default ----------------------------------------------------------------------------
def _concrete(rule: str) -> str:
    """A URL for a rule, with a placeholder in each variable part."""
    return re.sub(
        r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: "create" if "any(" in m.group(0) else "x", rule
    )


#: Blueprints whose every route must be among those checked (a regression guard: the model
#: registry's REST, ajax, file and page routes, and its 2.x permission routes).
MUST_BE_CHECKED = (
    "registry",
    "ajax_registry",
    "registry_artifacts",
    "ui_registry",
    "auth_api_legacy",
    "ajax_auth_api_legacy",
)


def test_every_route_but_the_open_ones_needs_credentials(app: Flask, client: FlaskClient) -> None:
    checked = 0
    checked_endpoints: set[str] = set()
    for rule in app.url_map.iter_rules():
        path = _concrete(rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            response = client.open(path, method=method, json={})
            if rule.endpoint in ("static", "ui.static") or path in OPEN_PATHS:
                assert response.status_code != 401, (method, path)
                continue
            checked += 1
            checked_endpoints.add(rule.endpoint)
            assert response.status_code in (401, 302), (method, path, response.status_code)
            if response.status_code == 302:
                assert response.headers["Location"].startswith("/login"), (method, path)
            assert b"Default" not in response.data, (method, path)
    assert checked > 60
    registry = {e for e in app.view_functions if e.split(".")[0] in MUST_BE_CHECKED}
    assert len(registry) >= 55 and registry <= checked_endpoints


def test_metrics_needs_credentials_unless_opened(tmp_path: Path) -> None:
    settings = {
        "backend_store_uri": str(tmp_path / "mlruns"),
        "auth": "true",
        "admin_username": ADMIN[0],
        "admin_password": ADMIN[1],
    }
    closed = create_app(settings).test_client()
    assert closed.get("/metrics").status_code == 401
    assert closed.get("/metrics", headers=basic(ADMIN)).status_code == 200
    opened = create_app({**settings, "auth_metrics_open": "true"}).test_client()
    assert opened.get("/metrics").status_code == 200


def test_401_does_not_say_whether_the_user_exists(client: FlaskClient) -> None:
    path = "/api/2.0/mlflow/experiments/search"
    unknown = call(client, ("nobody", "whatever-password"), "GET", path)
    wrong = call(client, (ALICE[0], "wrong-password-1"), "GET", path)
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.get_json() == wrong.get_json()
    assert unknown.headers["WWW-Authenticate"].startswith("Basic")


def test_failed_logins_are_throttled_per_user_and_per_address(tmp_path: Path) -> None:
    app = create_app(
        {
            "backend_store_uri": str(tmp_path / "mlruns"),
            "auth": "true",
            "admin_username": ADMIN[0],
            "admin_password": ADMIN[1],
            "auth_max_failed_logins": "3",
        }
    )
    app.config["RUNYARD_AUTH_STORE"].create_user(*BOB)
    client = app.test_client()
    path = "/api/2.0/mlflow/experiments/search"
    for _ in range(3):
        assert call(client, (BOB[0], "not-the-password"), "GET", path).status_code == 401
    blocked = call(client, BOB, "GET", path)  # even with the right password
    assert blocked.status_code == 429
    assert blocked.get_json()["error_code"] == "REQUEST_LIMIT_EXCEEDED"
    assert call(client, ADMIN, "GET", path).status_code == 200  # others from the same address
    for i in range(12):  # 3 x 5 failures in all from this address
        call(client, (f"guess{i}", "not-the-password"), "GET", path)
    assert call(client, ADMIN, "GET", path).status_code == 429


# ---- accounts -----------------------------------------------------------------------------------
def test_non_admin_cannot_create_users_and_passwords_need_12_characters(
    client: FlaskClient,
) -> None:
    body = {"username": "carol", "password": "carol-password-1"}
    r = call(client, ALICE, "POST", "/api/2.0/mlflow/users/create", json=body)
    assert r.status_code == 403 and r.get_json()["error_code"] == "PERMISSION_DENIED"
    short = {"username": "carol", "password": "short"}
    r = call(client, ADMIN, "POST", "/api/2.0/mlflow/users/create", json=short)
    assert r.status_code == 400 and "at least 12" in r.get_json()["message"]


def test_revoked_and_expired_tokens_are_refused(client: FlaskClient) -> None:
    r = call(client, ALICE, "POST", "/api/2.0/runyard/tokens/create", json={"name": "ci"})
    secret = r.get_json()["secret"]
    path = "/api/2.0/mlflow/experiments/search"
    assert call(client, bearer(secret), "GET", path).status_code == 200
    r = call(client, ALICE, "POST", "/api/2.0/runyard/tokens/revoke", json={"name": "ci"})
    assert r.status_code == 200
    assert call(client, bearer(secret), "GET", path).status_code == 401

    body = {"name": "brief", "expires_in": "1s"}
    short = call(client, ALICE, "POST", "/api/2.0/runyard/tokens/create", json=body)
    secret = short.get_json()["secret"]
    time.sleep(1.2)
    assert call(client, bearer(secret), "GET", path).status_code == 401
    assert call(client, bearer("ryt_forged"), "GET", path).status_code == 401


def test_a_token_works_as_the_basic_password(client: FlaskClient) -> None:
    r = call(client, ALICE, "POST", "/api/2.0/runyard/tokens/create", json={"name": "basic"})
    secret = r.get_json()["secret"]
    path = "/api/2.0/mlflow/experiments/search"
    assert call(client, (ALICE[0], secret), "GET", path).status_code == 200
    assert call(client, (BOB[0], secret), "GET", path).status_code == 401


# ---- filtered reads and per-experiment decisions ------------------------------------------------
def test_deny_hides_runs_metrics_artifacts_and_search_results(client: FlaskClient) -> None:
    secret_exp = create_experiment(client, ADMIN, "secret")
    run_id = create_run(client, ADMIN, secret_exp)
    batch = {
        "run_id": run_id,
        "metrics": [{"key": "loss", "value": 1.0, "timestamp": 1, "step": 0}],
    }
    assert (
        call(client, ADMIN, "POST", "/api/2.0/mlflow/runs/log-batch", json=batch).status_code == 200
    )
    r = call(
        client,
        ADMIN,
        "PUT",
        f"/api/2.0/mlflow-artifacts/artifacts/{secret_exp}/{run_id}/artifacts/a.txt",
        data=b"secret",
    )
    assert r.status_code == 200
    grant(client, ALICE[0], secret_exp, "DENY")

    def alice(method: str, path: str, **kwargs: Any):  # type: ignore[no-untyped-def]
        return call(client, ALICE, method, path, **kwargs)

    assert alice("GET", f"/api/2.0/mlflow/runs/get?run_id={run_id}").status_code == 403
    r = alice("GET", f"/api/2.0/mlflow/metrics/get-history?run_id={run_id}&metric_key=loss")
    assert r.status_code == 403
    assert alice("GET", f"/api/2.0/mlflow/artifacts/list?run_id={run_id}").status_code == 403
    r = alice("GET", f"/api/2.0/mlflow-artifacts/artifacts/{secret_exp}/{run_id}/artifacts/a.txt")
    assert r.status_code == 403
    r = alice("GET", f"/api/2.0/mlflow-artifacts/artifacts?path={secret_exp}")
    assert r.status_code == 403
    r = alice("POST", "/api/2.0/mlflow/runs/search", json={"experiment_ids": [secret_exp, "0"]})
    assert r.status_code == 200 and run_id not in str(r.get_json())
    r = alice("POST", "/api/2.0/mlflow/experiments/search", json={"max_results": 100})
    ids = [e["experiment_id"] for e in r.get_json()["experiments"]]
    assert secret_exp not in ids and "0" in ids
    r = alice("GET", "/api/2.0/runyard/experiments")
    assert r.status_code == 200 and "secret" not in r.get_data(as_text=True)
    r = alice("GET", f"/api/2.0/runyard/runs/get?run_id={run_id}")
    assert r.status_code == 403
    # Bob, with the default READ, sees it.
    assert call(client, BOB, "GET", f"/api/2.0/mlflow/runs/get?run_id={run_id}").status_code == 200


def test_edit_on_one_experiment_cannot_touch_anothers_artifacts(client: FlaskClient) -> None:
    own = create_experiment(client, ADMIN, "alice-edits")
    other = create_experiment(client, ADMIN, "other")
    other_run = create_run(client, ADMIN, other)
    target = f"/api/2.0/mlflow-artifacts/artifacts/{other}/{other_run}/artifacts/model.pkl"
    assert call(client, ADMIN, "PUT", target, data=b"original").status_code == 200
    grant(client, ALICE[0], own, "EDIT")
    grant(client, ALICE[0], other, "READ")

    assert call(client, ALICE, "PUT", target, data=b"overwritten").status_code == 403
    assert call(client, ALICE, "DELETE", target).status_code == 403
    assert call(client, ADMIN, "GET", target).data == b"original"
    traversal = (
        f"/api/2.0/mlflow-artifacts/artifacts/{own}/..%2F{other}/{other_run}/artifacts/model.pkl"
    )
    assert call(client, ALICE, "PUT", traversal, data=b"x").status_code in (400, 403)
    own_run = create_run(client, ALICE, own)
    mine = f"/api/2.0/mlflow-artifacts/artifacts/{own}/{own_run}/artifacts/a.txt"
    assert call(client, ALICE, "PUT", mine, data=b"mine").status_code == 200
    assert call(client, ALICE, "DELETE", mine).status_code == 403  # deleting needs MANAGE


def test_creator_manages_and_edit_cannot_delete(client: FlaskClient) -> None:
    exp = create_experiment(client, ALICE, "alice-exp")
    r = call(
        client,
        ADMIN,
        "GET",
        f"/api/3.0/mlflow/users/permissions/get?username=alice&resource_type=experiment&resource_id={exp}",
    )
    assert r.get_json() == {"allowed": True, "permission": "MANAGE"}
    grant(client, BOB[0], exp, "EDIT")
    run_id = create_run(client, BOB, exp)
    r = call(client, BOB, "POST", "/api/2.0/mlflow/runs/delete", json={"run_id": run_id})
    assert r.status_code == 403
    r = call(client, BOB, "POST", "/api/2.0/mlflow/experiments/delete", json={"experiment_id": exp})
    assert r.status_code == 403
    r = call(client, ALICE, "POST", "/api/2.0/mlflow/runs/delete", json={"run_id": run_id})
    assert r.status_code == 200
    # READ (the default) cannot log.
    other = create_experiment(client, ADMIN, "read-only")
    r = call(client, BOB, "POST", "/api/2.0/mlflow/runs/create", json={"experiment_id": other})
    assert r.status_code == 403


def test_non_admin_cannot_choose_an_artifact_location(client: FlaskClient) -> None:
    body = {"name": "alias", "artifact_location": "mlflow-artifacts:/0"}
    r = call(client, ALICE, "POST", "/api/2.0/mlflow/experiments/create", json=body)
    assert r.status_code == 403


def test_session_writes_need_the_csrf_token(app: Flask, client: FlaskClient) -> None:
    auth = app.config["RUNYARD_AUTH_STORE"]
    session_id, csrf = auth.create_session(
        auth.get_user(ALICE[0]).id, __import__("datetime").timedelta(hours=1)
    )
    client.set_cookie("runyard_session", session_id)
    body = {"name": "via-session"}
    assert client.get("/api/2.0/mlflow/experiments/search").status_code == 200
    r = client.post("/ajax-api/2.0/mlflow/experiments/create", json=body)
    assert r.status_code == 403 and "CSRF" in r.get_json()["message"]
    r = client.post(
        "/ajax-api/2.0/mlflow/experiments/create", json=body, headers={"X-CSRF-Token": csrf}
    )
    assert r.status_code == 200


def test_deny_covers_the_stores_fast_history_path(client: FlaskClient) -> None:
    exp = create_experiment(client, ADMIN, "fast-path")
    run_id = create_run(client, ADMIN, exp)
    point = {"run_id": run_id, "key": "m", "value": 1.0, "timestamp": 1, "step": 0}
    assert (
        call(client, ADMIN, "POST", "/api/2.0/mlflow/runs/log-metric", json=point).status_code
        == 200
    )
    path = f"/api/2.0/mlflow/metrics/get-history?run_id={run_id}&metric_key=m"
    assert call(client, BOB, "GET", path).get_json()["metrics"][0]["value"] == 1.0
    grant(client, BOB[0], exp, "DENY")
    assert call(client, BOB, "GET", path).status_code == 403


def test_an_ended_browser_session_is_not_invited_to_basic_auth(client: FlaskClient) -> None:
    client.set_cookie("runyard_session", "expired-or-unknown")
    response = client.get("/api/2.0/runyard/experiments")
    assert response.status_code == 401 and "WWW-Authenticate" not in response.headers


def test_own_password_change_needs_the_current_password(client: FlaskClient) -> None:
    path = "/api/2.0/mlflow/users/update-password"
    body = {"username": ALICE[0], "password": "alice-password-2"}
    r = call(client, ALICE, "PATCH", path, json=body)
    assert r.status_code == 400 and "Current password" in r.get_json()["message"]
    r = call(client, ALICE, "PATCH", path, json={**body, "current_password": "wrong-password"})
    assert r.status_code == 400
    r = call(client, ALICE, "PATCH", path, json={**body, "current_password": ALICE[1]})
    assert r.status_code == 200
    other = {"username": BOB[0], "password": "bob-password-99"}
    assert (
        call(client, (ALICE[0], "alice-password-2"), "PATCH", path, json=other).status_code == 403
    )


def _sign_in(client: FlaskClient, base_url: str, headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    form = client.get("/login", base_url=base_url, headers=headers).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    data = {"csrf_token": token, "username": ALICE[0], "password": ALICE[1], "next": "/"}
    return client.post("/login", data=data, base_url=base_url, headers=headers)


def test_session_cookie_is_secure_behind_tls_only(client: FlaskClient) -> None:
    over_tls = _sign_in(client, "https://localhost")
    assert over_tls.status_code == 303
    cookie = next(c for c in over_tls.headers.getlist("Set-Cookie") if "runyard_session=" in c)
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    plain = _sign_in(client, "http://localhost")
    cookie = next(c for c in plain.headers.getlist("Set-Cookie") if "runyard_session=" in c)
    assert "Secure" not in cookie
    # X-Forwarded-Proto is believed only from a trusted proxy (none is configured here).
    forwarded = _sign_in(client, "http://localhost", {"X-Forwarded-Proto": "https"})
    cookie = next(c for c in forwarded.headers.getlist("Set-Cookie") if "runyard_session=" in c)
    assert "Secure" not in cookie


def test_sign_in_redirects_only_to_this_server(client: FlaskClient) -> None:
    form = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    data = {"csrf_token": token, "username": ALICE[0], "password": ALICE[1]}
    response = client.post("/login", data={**data, "next": "//evil.example/x"})
    assert response.headers["Location"] == "/"


def test_mlflow_2_permission_routes_still_work(client: FlaskClient) -> None:
    exp = create_experiment(client, ADMIN, "legacy")
    base = "/api/2.0/mlflow/experiments/permissions"
    body = {"experiment_id": exp, "username": BOB[0], "permission": "EDIT"}
    r = call(client, ADMIN, "POST", f"{base}/create", json=body)
    assert r.status_code == 200, r.get_json()
    bob_id = r.get_json()["experiment_permission"]["user_id"]
    assert r.get_json() == {
        "experiment_permission": {"experiment_id": exp, "user_id": bob_id, "permission": "EDIT"}
    }
    query = {"experiment_id": exp, "username": BOB[0]}
    r = call(client, ADMIN, "GET", f"{base}/get", query_string=query)
    assert r.get_json()["experiment_permission"]["permission"] == "EDIT"
    assert create_run(client, BOB, exp)
    update = {**body, "permission": "READ"}
    assert call(client, ADMIN, "PATCH", f"{base}/update", json=update).status_code == 200
    r = call(client, BOB, "POST", "/api/2.0/mlflow/runs/create", json={"experiment_id": exp})
    assert r.status_code == 403
    assert call(client, BOB, "POST", f"{base}/create", json=body).status_code == 403
    assert call(client, ADMIN, "DELETE", f"{base}/delete", json=query).status_code == 200
    r = call(client, ADMIN, "GET", f"{base}/get", query_string=query)
    assert r.status_code == 404 and r.get_json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"

    models = "/api/2.0/mlflow/registered-models/permissions"
    model = {"name": "churn", "username": ALICE[0], "permission": "MANAGE"}
    r = call(client, ADMIN, "POST", f"{models}/create", json=model)
    assert r.get_json()["registered_model_permission"]["name"] == "churn"
    r = call(
        client, ALICE, "GET", f"{models}/get", query_string={"name": "churn", "username": "alice"}
    )
    assert r.get_json()["registered_model_permission"]["permission"] == "MANAGE"


def test_deny_covers_mlflow_web_ui_routes(client: FlaskClient) -> None:
    """MLflow's web-UI routes (served for drop-in use) are decided like every other read and
    write: the owner is served, a user with DENY gets 403 and cannot upload."""
    exp = create_experiment(client, ALICE, "ui-routes")
    run_id = create_run(client, ALICE, exp)
    logged = call(
        client,
        ALICE,
        "POST",
        "/api/2.0/mlflow/runs/log-metric",
        json={"run_id": run_id, "key": "m", "value": 1.0, "timestamp": 1, "step": 0},
    )
    assert logged.status_code == 200, logged.get_json()
    upload = "/ajax-api/2.0/mlflow/upload-artifact"
    put = call(client, ALICE, "POST", f"{upload}?run_uuid={run_id}&path=a.txt", data=b"hi")
    assert put.status_code == 200, put.get_data()
    grant(client, BOB[0], exp, "DENY")
    reads = [
        f"/get-artifact?run_uuid={run_id}&path=a.txt",
        f"/ajax-api/2.0/mlflow/metrics/get-history-bulk?run_id={run_id}&metric_key=m",
        f"/api/2.0/mlflow/metrics/get-history-bulk-interval?run_ids={run_id}&metric_key=m",
    ]
    for path in reads:
        assert call(client, ALICE, "GET", path).status_code == 200, path
        assert call(client, BOB, "GET", path).status_code == 403, path
    denied_put = call(client, BOB, "POST", f"{upload}?run_uuid={run_id}&path=b.txt", data=b"x")
    assert denied_put.status_code == 403
    listed = call(client, ALICE, "GET", f"/api/2.0/mlflow/artifacts/list?run_id={run_id}")
    assert [f["path"] for f in listed.get_json()["files"]] == ["a.txt"]


def test_failed_logins_count_across_server_processes(tmp_path: Path) -> None:
    """Each gunicorn worker is its own process: a limit kept per process would let an attacker
    multiply it by the number of workers. Two apps on one auth database stand for two."""
    settings = {
        "backend_store_uri": str(tmp_path / "mlruns"),
        "auth": "true",
        "admin_username": ADMIN[0],
        "admin_password": ADMIN[1],
        "auth_max_failed_logins": "3",
    }
    worker_a, worker_b = create_app(settings), create_app(settings)
    worker_a.config["RUNYARD_AUTH_STORE"].create_user(*BOB)
    path = "/api/2.0/mlflow/experiments/search"
    a, b = worker_a.test_client(), worker_b.test_client()
    assert call(a, (BOB[0], "not-the-password"), "GET", path).status_code == 401
    assert call(b, (BOB[0], "not-the-password"), "GET", path).status_code == 401
    assert call(a, (BOB[0], "not-the-password"), "GET", path).status_code == 401
    blocked = call(b, BOB, "GET", path)  # the third failure happened in the other process
    assert blocked.status_code == 429
    assert blocked.get_json()["error_code"] == "REQUEST_LIMIT_EXCEEDED"


def test_deny_covers_datasets_and_logged_model_artifact_routes(client: FlaskClient) -> None:
    """search-datasets and the logged-model artifact routes reach data through the permission
    view; a user with DENY on the experiment sees neither its datasets nor its model's files."""
    exp = create_experiment(client, ALICE, "datasets-and-models")
    run_id = create_run(client, ALICE, exp)
    dataset = {"name": "train", "digest": "d1", "source_type": "local", "source": "/data"}
    inputs = {"run_id": run_id, "datasets": [{"dataset": dataset, "tags": []}]}
    assert (
        call(client, ALICE, "POST", "/api/2.0/mlflow/runs/log-inputs", json=inputs).status_code
        == 200
    )
    created = call(
        client, ALICE, "POST", "/api/2.0/mlflow/logged-models", json={"experiment_id": exp}
    )
    assert created.status_code == 200, created.get_json()
    model_id = created.get_json()["model"]["info"]["model_id"]
    search = "/ajax-api/2.0/mlflow/experiments/search-datasets"
    found = call(client, ALICE, "POST", search, json={"experiment_ids": [exp]})
    assert [d["name"] for d in found.get_json()["dataset_summaries"]] == ["train"]
    listing = f"/ajax-api/2.0/mlflow/logged-models/{model_id}/artifacts/directories"
    assert call(client, ALICE, "GET", listing).status_code == 200
    grant(client, BOB[0], exp, "DENY")
    hidden = call(client, BOB, "POST", search, json={"experiment_ids": [exp]})
    assert hidden.status_code == 200 and hidden.get_json() == {}  # filtered, as search-runs is
    file_path = (
        f"/ajax-api/2.0/mlflow/logged-models/{model_id}/artifacts/files?artifact_file_path=MLmodel"
    )
    for path in (listing, file_path):
        refused = call(client, BOB, "GET", path)
        assert refused.status_code == 403, (path, refused.get_json())


def grant_tier(client: FlaskClient, username: str, tier: str, permission: str) -> None:
    """A grant on one of MLflow's wildcard-only sub-resource tiers (``run``, ...)."""
    body = {
        "username": username,
        "resource_type": tier,
        "resource_id": "*",
        "permission": permission,
    }
    r = call(client, ADMIN, "POST", "/api/3.0/mlflow/users/permissions/grant", json=body)
    assert r.status_code == 200, r.get_json()


def test_a_run_tier_grant_governs_runs_over_the_experiments_permission(
    client: FlaskClient,
) -> None:
    """MLflow 3.17: a grant on ``(run, *)`` decides run actions when held, else the experiment."""
    exp = create_experiment(client, ALICE, "tiered-runs")  # ALICE manages it
    run_id = create_run(client, ALICE, exp)
    grant_tier(client, ALICE[0], "run", "READ")
    metric = {"run_id": run_id, "key": "m", "value": 1.0, "timestamp": 1, "step": 0}
    assert (
        call(client, ALICE, "GET", f"/api/2.0/mlflow/runs/get?run_id={run_id}").status_code == 200
    )
    assert (
        call(client, ALICE, "POST", "/api/2.0/mlflow/runs/log-metric", json=metric).status_code
        == 403
    )
    assert (
        call(
            client, ALICE, "POST", "/api/2.0/mlflow/runs/delete", json={"run_id": run_id}
        ).status_code
        == 403
    )
    # creating a run needs EDIT on the experiment and only no DENY on the tier
    assert create_run(client, ALICE, exp)
    # the experiment itself is still hers to change
    rename = {"experiment_id": exp, "new_name": "tiered-runs-2"}
    assert (
        call(client, ALICE, "POST", "/api/2.0/mlflow/experiments/update", json=rename).status_code
        == 200
    )


def test_a_denied_run_tier_hides_every_run(client: FlaskClient) -> None:
    exp = create_experiment(client, ALICE, "no-runs-for-bob")
    run_id = create_run(client, ALICE, exp)
    grant(client, BOB[0], exp, "EDIT")
    grant_tier(client, BOB[0], "run", "DENY")
    search = {"experiment_ids": [exp]}
    found = call(client, BOB, "POST", "/api/2.0/mlflow/runs/search", json=search)
    assert found.status_code == 200 and found.get_json().get("runs", []) == []
    assert call(client, BOB, "GET", f"/api/2.0/mlflow/runs/get?run_id={run_id}").status_code == 403
    made = call(client, BOB, "POST", "/api/2.0/mlflow/runs/create", json={"experiment_id": exp})
    assert made.status_code == 403
    assert (
        call(client, BOB, "GET", f"/api/2.0/mlflow/experiments/get?experiment_id={exp}").status_code
        == 200
    )
    listed = call(client, BOB, "GET", "/api/2.0/runyard/experiments").get_json()["experiments"]
    counts = {e["experiment_id"]: e["runs_count"] for e in listed}
    assert counts[exp] == 0  # the experiments list does not count runs bob may not see
    listed = call(client, ALICE, "GET", "/api/2.0/runyard/experiments").get_json()["experiments"]
    assert {e["experiment_id"]: e["runs_count"] for e in listed}[exp] == 1


def test_a_denied_logged_model_tier_hides_logged_models(client: FlaskClient) -> None:
    exp = create_experiment(client, ALICE, "no-models-for-bob")
    made = call(client, ALICE, "POST", "/api/2.0/mlflow/logged-models", json={"experiment_id": exp})
    model_id = made.get_json()["model"]["info"]["model_id"]
    grant(client, BOB[0], exp, "EDIT")
    assert call(client, BOB, "GET", f"/api/2.0/mlflow/logged-models/{model_id}").status_code == 200
    grant_tier(client, BOB[0], "logged_model", "DENY")
    assert call(client, BOB, "GET", f"/api/2.0/mlflow/logged-models/{model_id}").status_code == 403
    search = call(
        client, BOB, "POST", "/api/2.0/mlflow/logged-models/search", json={"experiment_ids": [exp]}
    )
    assert search.status_code == 200 and search.get_json().get("models", []) == []
    new = call(client, BOB, "POST", "/api/2.0/mlflow/logged-models", json={"experiment_id": exp})
    assert new.status_code == 403
