"""``--auth`` and the model registry: every registry route decided by the model's name, reads
filtered, on the file store, SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from runyard.server.app import create_app

from tests.server.test_auth import (
    ADMIN,
    ALICE,
    BOB,
    _concrete,
    auth_app,
    call,
    create_experiment,
    create_run,
)

API = "/api/2.0/mlflow"
#: Blueprints that serve registered models and their versions (REST, ajax, files, pages).
REGISTRY_BLUEPRINTS = ("registry", "ajax_registry", "registry_artifacts", "ui_registry")


@pytest.fixture
def app(any_store_uri: str, tmp_path: Path) -> Iterator[Flask]:
    with auth_app(any_store_uri, tmp_path) as app:
        yield app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def ok(client: FlaskClient, user: tuple[str, str], method: str, path: str, **kw: Any) -> Any:
    response = call(client, user, method, f"{API}/{path}", **kw)
    assert response.status_code == 200, (path, response.get_json())
    return response.get_json()


def status(client: FlaskClient, user: tuple[str, str], method: str, path: str, **kw: Any) -> int:
    return call(client, user, method, f"{API}/{path}", **kw).status_code


def grant_model(client: FlaskClient, username: str, name: str, permission: str) -> None:
    body = {
        "username": username,
        "resource_type": "registered_model",
        "resource_id": name,
        "permission": permission,
    }
    r = call(client, ADMIN, "POST", "/api/3.0/mlflow/users/permissions/grant", json=body)
    assert r.status_code == 200, r.get_json()


def permission_of(client: FlaskClient, username: str, name: str) -> str:
    query = {"username": username, "resource_type": "registered_model", "resource_id": name}
    path = "/api/3.0/mlflow/users/permissions/get"
    r = call(client, ADMIN, "GET", path, query_string=query)
    return r.get_json()["permission"]


def register(client: FlaskClient, user: tuple[str, str], name: str, experiment_id: str) -> str:
    """``name`` version 1, from a new run of ``experiment_id`` holding ``model/MLmodel``."""
    run_id = create_run(client, ADMIN, experiment_id)
    artifact = f"/api/2.0/mlflow-artifacts/artifacts/{experiment_id}/{run_id}/artifacts"
    assert (
        call(client, ADMIN, "PUT", f"{artifact}/model/MLmodel", data=b"flavors: {}").status_code
        == 200
    )
    ok(client, user, "POST", "registered-models/create", json={"name": name})
    body = {"name": name, "source": f"runs:/{run_id}/model", "run_id": run_id}
    ok(client, user, "POST", "model-versions/create", json=body)
    ok(
        client,
        user,
        "POST",
        "registered-models/alias",
        json={"name": name, "alias": "champion", "version": "1"},
    )
    return run_id


# ---- every registry route -----------------------------------------------------------------------
def test_every_registry_route_is_decided_by_the_model(app: Flask, client: FlaskClient) -> None:
    """Walks the URL map: a registry route added later is covered, or this fails."""
    run_id = register(client, ADMIN, "zephyr", "0")
    grant_model(client, BOB[0], "zephyr", "DENY")
    fields = {
        "name": "zephyr",
        "new_name": "zephyr-2",
        "version": "1",
        "alias": "champion",
        "key": "k",
        "value": "v",
        "description": "d",
        "stage": "Staging",
        "path": "MLmodel",
        "source": f"runs:/{run_id}/model",
        "run_id": run_id,
        "filter": "name = 'zephyr'",
    }
    decided = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] not in REGISTRY_BLUEPRINTS:
            continue
        path = _concrete(rule.rule).replace("/x/versions/x", "/zephyr/versions/1")
        path = path.replace("/models/x", "/models/zephyr")
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            kwargs: dict[str, Any] = {"query_string": fields}
            if method != "GET":
                kwargs["json"] = fields
            response = call(client, BOB, method, path, **kwargs)
            decided += 1
            body = response.get_data(as_text=True)
            if response.status_code == 200:  # a search or the Models page: filtered
                assert "zephyr" not in body.replace("name = 'zephyr'", "").replace(
                    "name = &#39;zephyr&#39;", ""
                ), (method, path)
            else:
                assert response.status_code == 403, (method, path, response.status_code, body)
    assert decided >= 45
    # Nothing was changed by the denied calls.
    model = ok(client, ADMIN, "GET", "registered-models/get", query_string={"name": "zephyr"})
    assert not model["registered_model"].get("tags")
    assert not model["registered_model"].get("description")
    assert model["registered_model"]["aliases"] == [{"alias": "champion", "version": "1"}]


def test_deny_hides_a_model_from_searches_versions_files_and_pages(client: FlaskClient) -> None:
    run_id = register(client, ADMIN, "zephyr", "0")
    register(client, ADMIN, "fraud", "0")
    grant_model(client, BOB[0], "zephyr", "DENY")

    found = ok(client, BOB, "GET", "registered-models/search", query_string={"max_results": 10})
    assert [m["name"] for m in found["registered_models"]] == ["fraud"]
    versions = ok(
        client, BOB, "GET", "model-versions/search", query_string={"filter": f"run_id = '{run_id}'"}
    )
    assert versions.get("model_versions", []) == []
    versions = ok(client, BOB, "GET", "model-versions/search")
    assert {v["name"] for v in versions["model_versions"]} == {"fraud"}
    query = {"name": "zephyr", "version": "1", "path": "MLmodel"}
    assert (
        call(client, BOB, "GET", "/model-versions/get-artifact", query_string=query).status_code
        == 403
    )
    for path in ("model-versions/get", "model-versions/get-download-uri"):
        assert status(client, BOB, "GET", path, query_string=query) == 403
    assert status(client, BOB, "POST", "registered-models/get-latest-versions", json=query) == 403

    page = call(client, BOB, "GET", "/models").get_data(as_text=True)
    assert "fraud" in page and "zephyr" not in page
    assert call(client, BOB, "GET", "/models/zephyr").status_code == 403
    assert call(client, BOB, "GET", "/models/zephyr/versions/1").status_code == 403
    run_page = call(client, BOB, "GET", f"/runs/{run_id}")
    assert run_page.status_code == 200 and "zephyr" not in run_page.get_data(as_text=True)

    # Alice, with the default READ, reads it all, files included.
    found = ok(client, ALICE, "GET", "registered-models/search")
    assert [m["name"] for m in found["registered_models"]] == ["fraud", "zephyr"]
    got = call(client, ALICE, "GET", "/model-versions/get-artifact", query_string=query)
    assert got.status_code == 200 and got.data == b"flavors: {}"
    assert "zephyr" in call(client, ALICE, "GET", f"/runs/{run_id}").get_data(as_text=True)


def test_edit_changes_a_model_but_cannot_delete(client: FlaskClient) -> None:
    register(client, ADMIN, "zephyr", "0")
    grant_model(client, ALICE[0], "zephyr", "EDIT")
    version = {"name": "zephyr", "version": "1"}
    ok(
        client,
        ALICE,
        "POST",
        "registered-models/set-tag",
        json={"name": "zephyr", "key": "k", "value": "v"},
    )
    ok(client, ALICE, "POST", "model-versions/set-tag", json={**version, "key": "k", "value": "v"})
    ok(client, ALICE, "PATCH", "model-versions/update", json={**version, "description": "better"})
    ok(client, ALICE, "POST", "registered-models/alias", json={**version, "alias": "next"})
    ok(
        client,
        ALICE,
        "POST",
        "model-versions/transition-stage",
        json={**version, "stage": "Staging"},
    )
    refused = [
        ("DELETE", "model-versions/delete-tag", {**version, "key": "k"}),
        ("DELETE", "registered-models/alias", {"name": "zephyr", "alias": "next"}),
        ("DELETE", "model-versions/delete", version),
        ("DELETE", "registered-models/delete", {"name": "zephyr"}),
    ]
    for method, path, body in refused:
        assert status(client, ALICE, method, path, json=body) == 403, path
    got = ok(client, ADMIN, "GET", "model-versions/get", query_string=version)["model_version"]
    assert got["tags"] == [{"key": "k", "value": "v"}] and got["aliases"] == ["champion", "next"]

    # Renaming is a change (EDIT, as in MLflow); the grants go with the model.
    ok(
        client,
        ALICE,
        "POST",
        "registered-models/rename",
        json={"name": "zephyr", "new_name": "zephyr-v2"},
    )
    assert permission_of(client, ALICE[0], "zephyr-v2") == "EDIT"
    assert permission_of(client, ALICE[0], "zephyr") == "READ"  # the default again


def test_the_creator_manages_and_others_get_the_default(client: FlaskClient) -> None:
    experiment_id = create_experiment(client, ALICE, "alice-models")
    run_id = register(client, ALICE, "alices", experiment_id)
    assert permission_of(client, ALICE[0], "alices") == "MANAGE"
    # Bob has no grant: the default READ lets him read, not change or add versions.
    assert ok(client, BOB, "GET", "registered-models/get", query_string={"name": "alices"})
    assert (
        status(
            client,
            BOB,
            "POST",
            "registered-models/set-tag",
            json={"name": "alices", "key": "k", "value": "v"},
        )
        == 403
    )
    body = {"name": "alices", "source": f"runs:/{run_id}/model", "run_id": run_id}
    assert status(client, BOB, "POST", "model-versions/create", json=body) == 403
    # Alice manages: she deletes it, and its grants go with it.
    ok(client, ALICE, "DELETE", "model-versions/delete", json={"name": "alices", "version": "1"})
    ok(client, ALICE, "DELETE", "registered-models/delete", json={"name": "alices"})
    assert permission_of(client, ALICE[0], "alices") == "READ"


def test_a_version_cannot_copy_a_run_its_author_may_not_read(client: FlaskClient) -> None:
    secret = create_experiment(client, ADMIN, "secret")
    secret_run = create_run(client, ADMIN, secret)
    call(
        client,
        ADMIN,
        "POST",
        "/api/3.0/mlflow/users/permissions/grant",
        json={
            "username": ALICE[0],
            "resource_type": "experiment",
            "resource_id": secret,
            "permission": "DENY",
        },
    )
    ok(client, ALICE, "POST", "registered-models/create", json={"name": "mine"})
    body = {"name": "mine", "source": f"runs:/{secret_run}/model", "run_id": secret_run}
    assert status(client, ALICE, "POST", "model-versions/create", json=body) == 403
    assert status(client, ALICE, "POST", "registered-models/create", json={"name": "*"}) == 400


def test_with_a_deny_default_only_granted_models_are_seen(tmp_path: Path) -> None:
    app = create_app(
        {
            "backend_store_uri": str(tmp_path / "mlruns"),
            "auth": "true",
            "admin_username": ADMIN[0],
            "admin_password": ADMIN[1],
            "auth_default_permission": "DENY",
        }
    )
    app.config["RUNYARD_AUTH_STORE"].create_user(*BOB)
    client = app.test_client()
    for name in ("a", "b", "c"):
        ok(client, ADMIN, "POST", "registered-models/create", json={"name": name})
    ok(client, BOB, "POST", "registered-models/create", json={"name": "bobs"})
    grant_model(client, BOB[0], "b", "READ")
    found = ok(client, BOB, "GET", "registered-models/search", query_string={"max_results": 2})
    assert [m["name"] for m in found["registered_models"]] == ["b", "bobs"]
    assert status(client, BOB, "GET", "registered-models/get", query_string={"name": "a"}) == 403
    app.config["RUNYARD_STORE"].close()
    app.config["RUNYARD_AUTH_STORE"].close()


# ---- the version tier and sibling tiers (MLflow 3.17's sub-resource grants) ----------------------
def grant_tier(client: FlaskClient, username: str, resource_type: str, permission: str) -> None:
    body = {
        "username": username,
        "resource_type": resource_type,
        "resource_id": "*",
        "permission": permission,
    }
    r = call(client, ADMIN, "POST", "/api/3.0/mlflow/users/permissions/grant", json=body)
    assert r.status_code == 200, r.get_json()


def test_a_version_tier_grant_governs_versions_over_the_models_permission(
    client: FlaskClient,
) -> None:
    register(client, ADMIN, "tiered", "0")
    grant_model(client, ALICE[0], "tiered", "MANAGE")
    grant_tier(client, ALICE[0], "registered_model_version", "READ")
    version = {"name": "tiered", "version": "1"}
    ok(client, ALICE, "GET", "model-versions/get", query_string=version)
    ok(
        client,
        ALICE,
        "PATCH",
        "registered-models/update",
        json={"name": "tiered", "description": "d"},
    )
    ok(client, ALICE, "POST", "registered-models/alias", json={**version, "alias": "next"})
    refused = [
        ("PATCH", "model-versions/update", {**version, "description": "x"}),
        ("POST", "model-versions/transition-stage", {**version, "stage": "Staging"}),
        ("POST", "model-versions/set-tag", {**version, "key": "k", "value": "v"}),
        ("DELETE", "model-versions/delete", version),
        ("DELETE", "registered-models/delete", {"name": "tiered"}),  # its versions go with it
    ]
    for method, path, body in refused:
        assert status(client, ALICE, method, path, json=body) == 403, path
    # an EDIT tier lets a model reader change versions, but not delete them
    grant_tier(client, BOB[0], "registered_model_version", "EDIT")
    ok(client, BOB, "PATCH", "model-versions/update", json={**version, "description": "bob"})
    assert status(client, BOB, "DELETE", "model-versions/delete", json=version) == 403
    assert status(client, BOB, "PATCH", "registered-models/update", json={"name": "tiered"}) == 403


def test_a_denied_version_tier_hides_every_version_but_not_the_model(client: FlaskClient) -> None:
    register(client, ADMIN, "veiled", "0")
    grant_model(client, ALICE[0], "veiled", "MANAGE")
    grant_tier(client, ALICE[0], "registered_model_version", "DENY")
    model = ok(client, ALICE, "GET", "registered-models/get", query_string={"name": "veiled"})
    assert "latest_versions" not in model["registered_model"]
    assert ok(client, ADMIN, "GET", "registered-models/get", query_string={"name": "veiled"})[
        "registered_model"
    ]["latest_versions"]
    found = ok(client, ALICE, "GET", "registered-models/search")["registered_models"]
    assert [m["name"] for m in found] == ["veiled"] and "latest_versions" not in found[0]
    assert ok(client, ALICE, "GET", "model-versions/search").get("model_versions", []) == []
    version = {"name": "veiled", "version": "1"}
    for method, path, body in [
        ("GET", "model-versions/get", None),
        ("GET", "model-versions/get-download-uri", None),
        ("GET", "registered-models/alias", None),
        ("POST", "registered-models/alias", {**version, "alias": "x"}),
        ("POST", "model-versions/create", {"name": "veiled", "source": "models:/veiled/1"}),
    ]:
        query = {**version, "alias": "champion"} if method == "GET" else None
        code = status(client, ALICE, method, path, json=body, query_string=query)
        assert code == 403, path
    ok(
        client,
        ALICE,
        "POST",
        "registered-models/set-tag",
        json={"name": "veiled", "key": "k", "value": "v"},
    )


def test_denied_run_and_logged_model_tiers_withhold_a_versions_links(client: FlaskClient) -> None:
    run_id = register(client, ADMIN, "linked", "0")
    version = {"name": "linked", "version": "1"}
    seen = ok(client, BOB, "GET", "model-versions/get", query_string=version)["model_version"]
    assert seen["run_id"] == run_id
    grant_tier(client, BOB[0], "run", "DENY")
    hidden = ok(client, BOB, "GET", "model-versions/get", query_string=version)["model_version"]
    assert "run_id" not in hidden and "run_link" not in hidden
    listed = ok(client, BOB, "GET", "model-versions/search")["model_versions"]
    assert [v.get("run_id") for v in listed] == [None]
    latest = ok(client, BOB, "GET", "registered-models/get", query_string={"name": "linked"})
    assert "run_id" not in latest["registered_model"]["latest_versions"][0]
    admin_view = ok(client, ADMIN, "GET", "model-versions/get", query_string=version)
    assert admin_view["model_version"]["run_id"] == run_id
