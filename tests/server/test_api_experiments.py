"""``/experiments/*`` through the Flask app, on the file store and on SQLite."""

from __future__ import annotations

import pytest

from tests.server.conftest import Api

MISSING = "Missing value for required parameter '{}'. See the API docs for more information"


def test_create_get_and_get_by_name(api: Api) -> None:
    body = api.ok_post("experiments/create", {"name": "exp", "tags": [{"key": "t", "value": "v"}]})
    experiment_id = body["experiment_id"]
    by_id = api.ok_get("experiments/get", experiment_id=experiment_id)["experiment"]
    by_name = api.ok_get("experiments/get-by-name", experiment_name="exp")["experiment"]
    assert by_id == by_name
    assert by_id["name"] == "exp"
    assert by_id["lifecycle_stage"] == "active"
    assert by_id["tags"] == [{"key": "t", "value": "v"}]
    assert by_id["artifact_location"] == f"mlflow-artifacts:/{experiment_id}" or (
        by_id["artifact_location"].endswith(experiment_id)
    )
    assert isinstance(by_id["creation_time"], int)


def test_sql_store_experiments_get_proxied_artifact_location(make_client, tmp_path) -> None:
    api = Api(make_client(backend_store_uri=f"sqlite:///{tmp_path / 'a.db'}"))
    experiment_id = api.ok_post("experiments/create", {"name": "e"})["experiment_id"]
    experiment = api.ok_get("experiments/get", experiment_id=experiment_id)["experiment"]
    assert experiment["artifact_location"] == f"mlflow-artifacts:/{experiment_id}"
    run_id = api.new_run(experiment_id)
    run = api.ok_get("runs/get", run_id=run_id)["run"]
    assert run["info"]["artifact_uri"] == f"mlflow-artifacts:/{experiment_id}/{run_id}/artifacts"


def test_no_serve_artifacts_uses_default_root(make_client, tmp_path) -> None:
    root = str(tmp_path / "art-root")
    api = Api(
        make_client(
            backend_store_uri=f"sqlite:///{tmp_path / 'b.db'}",
            serve_artifacts="false",
            default_artifact_root=root,
        )
    )
    experiment_id = api.ok_post("experiments/create", {"name": "e"})["experiment_id"]
    experiment = api.ok_get("experiments/get", experiment_id=experiment_id)["experiment"]
    assert experiment["artifact_location"] == f"{root}/{experiment_id}"
    info = api.client.get("/api/3.0/mlflow/server-info")
    assert info.status_code == 200 and info.get_json()["artifact_serving_enabled"] is False


def test_missing_experiment_by_name_is_404_json(api: Api) -> None:
    status, body = api.get("experiments/get-by-name", experiment_name="nope")
    assert status == 404
    assert body["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert body["message"] == "Could not find experiment with name 'nope'"


def test_missing_and_malformed_ids(api: Api) -> None:
    status, body = api.get("experiments/get", experiment_id="999999")
    assert (status, body["error_code"]) == (404, "RESOURCE_DOES_NOT_EXIST")
    status, body = api.get("experiments/get", experiment_id="abc")
    assert (status, body["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    assert "Invalid experiment ID" in body["message"]
    status, body = api.get("experiments/get")
    assert status == 400 and body["message"].startswith(MISSING.format("experiment_id"))


@pytest.mark.parametrize("name", [None, ""])
def test_create_requires_name(api: Api, name) -> None:
    status, body = api.post("experiments/create", {} if name is None else {"name": name})
    assert status == 400
    assert body["message"].startswith(MISSING.format("name"))


def test_duplicate_name_is_400_already_exists(api: Api) -> None:
    api.ok_post("experiments/create", {"name": "dup"})
    status, body = api.post("experiments/create", {"name": "dup"})
    assert (status, body["error_code"]) == (400, "RESOURCE_ALREADY_EXISTS")


def test_name_too_long(api: Api) -> None:
    status, body = api.post("experiments/create", {"name": "x" * 501})
    assert status == 400 and "500" in body["message"]


def test_rename_tags_delete_restore(api: Api) -> None:
    experiment_id = api.ok_post("experiments/create", {"name": "a"})["experiment_id"]
    assert (
        api.ok_post("experiments/update", {"experiment_id": experiment_id, "new_name": "b"}) == {}
    )
    api.ok_post(
        "experiments/set-experiment-tag", {"experiment_id": experiment_id, "key": "k", "value": "v"}
    )
    experiment = api.ok_get("experiments/get", experiment_id=experiment_id)["experiment"]
    assert experiment["name"] == "b" and experiment["tags"] == [{"key": "k", "value": "v"}]
    api.ok_post("experiments/delete-experiment-tag", {"experiment_id": experiment_id, "key": "k"})
    experiment = api.ok_get("experiments/get", experiment_id=experiment_id)["experiment"]
    assert "tags" not in experiment

    assert api.ok_post("experiments/delete", {"experiment_id": experiment_id}) == {}
    deleted = api.ok_get("experiments/get-by-name", experiment_name="b")["experiment"]
    assert deleted["lifecycle_stage"] == "deleted"
    status, body = api.post("runs/create", {"experiment_id": experiment_id})
    assert status == 400, body
    api.ok_post("experiments/restore", {"experiment_id": experiment_id})
    assert (
        api.ok_get("experiments/get", experiment_id=experiment_id)["experiment"]["lifecycle_stage"]
        == "active"
    )


def test_experiment_tag_value_limit(api: Api) -> None:
    status, body = api.post(
        "experiments/set-experiment-tag", {"experiment_id": "0", "key": "k", "value": "v" * 20001}
    )
    assert status == 400 and "20000" in body["message"]


def test_search_post_and_get_with_paging(api: Api) -> None:
    for name in ("s1", "s2", "s3"):
        api.ok_post("experiments/create", {"name": name})
    first = api.ok_post("experiments/search", {"max_results": 2, "view_type": "ACTIVE_ONLY"})
    assert len(first["experiments"]) == 2 and first["next_page_token"]
    second = api.ok_post(
        "experiments/search", {"max_results": 2, "page_token": first["next_page_token"]}
    )
    names = {e["name"] for e in first["experiments"] + second["experiments"]}
    assert names == {"s1", "s2", "s3", "Default"}
    assert "next_page_token" not in second
    got = api.ok_get("experiments/search", max_results="10", filter="name LIKE 's%'")
    assert sorted(e["name"] for e in got["experiments"]) == ["s1", "s2", "s3"]
    ordered = api.ok_post(
        "experiments/search",
        {"max_results": 10, "order_by": ["name DESC"], "filter": "name LIKE 's%'"},
    )
    assert [e["name"] for e in ordered["experiments"]] == ["s3", "s2", "s1"]


def test_search_view_type_and_errors(api: Api) -> None:
    experiment_id = api.ok_post("experiments/create", {"name": "gone"})["experiment_id"]
    api.ok_post("experiments/delete", {"experiment_id": experiment_id})
    deleted = api.ok_post("experiments/search", {"max_results": 10, "view_type": "DELETED_ONLY"})
    assert [e["name"] for e in deleted["experiments"]] == ["gone"]
    assert api.ok_post("experiments/search", {"max_results": 10, "view_type": 3})["experiments"]
    status, body = api.post("experiments/search", {"max_results": 0})
    assert status == 400 and "max_results" in body["message"]
    status, body = api.post("experiments/search", {"max_results": 10, "view_type": "SOME"})
    assert status == 400
    status, body = api.post("experiments/search", {"max_results": 10, "page_token": "garbage"})
    assert status == 400 and "page token" in body["message"].lower()
