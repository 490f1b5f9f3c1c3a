"""Metric history, chart sampling, logged models, ``artifacts/list`` and ``server-info``."""

from __future__ import annotations

from pathlib import Path

from tests.server.conftest import Api


def _log_points(api: Api, run_id: str, n: int, key: str = "h") -> None:
    api.ok_post(
        "runs/log-batch",
        {
            "run_id": run_id,
            "metrics": [
                {"key": key, "value": float(i), "timestamp": 100 + i, "step": i} for i in range(n)
            ],
        },
    )


def test_metric_history_pages(api: Api) -> None:
    run_id = api.new_run()
    _log_points(api, run_id, 5)
    everything = api.ok_get("metrics/get-history", run_id=run_id, metric_key="h")
    assert [m["step"] for m in everything["metrics"]] == [0, 1, 2, 3, 4]
    assert everything["metrics"][0] == {"key": "h", "value": 0.0, "timestamp": 100, "step": 0}
    page = api.ok_get("metrics/get-history", run_uuid=run_id, metric_key="h", max_results=2)
    steps = [m["step"] for m in page["metrics"]]
    while "next_page_token" in page:
        page = api.ok_get(
            "metrics/get-history",
            run_id=run_id,
            metric_key="h",
            max_results=2,
            page_token=page["next_page_token"],
        )
        steps += [m["step"] for m in page["metrics"]]
    assert steps == [0, 1, 2, 3, 4]
    assert api.ok_get("metrics/get-history", run_id=run_id, metric_key="nope") == {}
    status, body = api.get("metrics/get-history", run_id=run_id)
    assert status == 400 and "'metric_key'" in body["message"]
    status, _ = api.get("metrics/get-history", run_id=run_id, metric_key="h", max_results=0)
    assert status == 400


def test_bulk_interval_carries_run_ids(api: Api) -> None:
    first, second = api.new_run(), api.new_run()
    _log_points(api, first, 5)
    _log_points(api, second, 3)
    data = api.client.get(
        "/api/2.0/mlflow/metrics/get-history-bulk-interval",
        query_string=[("run_ids", first), ("run_ids", second), ("metric_key", "h")],
    ).get_json()
    by_run: dict[str, list[int]] = {}
    for metric in data["metrics"]:
        by_run.setdefault(metric["run_id"], []).append(metric["step"])
    assert by_run == {first: [0, 1, 2, 3, 4], second: [0, 1, 2]}
    sampled = api.ok_get(
        "metrics/get-history-bulk-interval", run_ids=first, metric_key="h", max_results=3
    )
    steps = [m["step"] for m in sampled["metrics"]]
    assert 0 < len(steps) <= 5 and steps[0] == 0 and steps[-1] == 4
    for query in (
        {"metric_key": "h"},
        {"run_ids": first, "metric_key": "h", "max_results": 5000},
        {"run_ids": first, "metric_key": "h", "start_step": 1},
        {"run_ids": first, "metric_key": "h", "start_step": 3, "end_step": 1},
    ):
        status, body = api.get("metrics/get-history-bulk-interval", **query)
        assert status == 400, (query, body)


def test_logged_model_lifecycle(api: Api) -> None:
    run_id = api.new_run()
    created = api.ok_post(
        "logged-models",
        {
            "experiment_id": "0",
            "name": "model",
            "source_run_id": run_id,
            "params": [{"key": "alpha", "value": "0.1"}],
            "tags": [{"key": "mlflow.user", "value": "root"}],
        },
    )["model"]
    info = created["info"]
    model_id = info["model_id"]
    assert model_id.startswith("m-") and info["status"] == "LOGGED_MODEL_PENDING"
    assert info["source_run_id"] == run_id and info["name"] == "model"
    assert created["data"]["params"] == [{"key": "alpha", "value": "0.1"}]
    assert isinstance(info["creation_timestamp_ms"], int)

    got = api.ok_get(f"logged-models/{model_id}")["model"]
    assert got["info"]["model_id"] == model_id
    response = api.client.patch(
        f"/api/2.0/mlflow/logged-models/{model_id}",
        json={"model_id": model_id, "status": "LOGGED_MODEL_READY"},
    )
    assert response.status_code == 200
    assert response.get_json()["model"]["info"]["status"] == "LOGGED_MODEL_READY"

    response = api.client.patch(
        f"/api/2.0/mlflow/logged-models/{model_id}/tags",
        json={"tags": [{"key": "k", "value": "v"}]},
    )
    assert response.status_code == 200
    tags = {
        t["key"]: t["value"]
        for t in api.ok_get(f"logged-models/{model_id}")["model"]["info"]["tags"]
    }
    assert tags["k"] == "v"
    assert api.client.delete(f"/api/2.0/mlflow/logged-models/{model_id}/tags/k").status_code == 200

    found = api.ok_post(
        "logged-models/search", {"experiment_ids": ["0"], "filter": "name = 'model'"}
    )
    assert [m["info"]["model_id"] for m in found["models"]] == [model_id]
    assert (
        api.ok_post("logged-models/search", {"experiment_ids": ["0"], "filter": "name = 'x'"}) == {}
    )

    assert api.client.delete(f"/api/2.0/mlflow/logged-models/{model_id}").status_code == 200
    status, body = api.get(f"logged-models/{model_id}")
    assert status == 404 and body["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def test_logged_model_errors(api: Api) -> None:
    status, body = api.post("logged-models", {"name": "m"})
    assert status == 400 and "'experiment_id'" in body["message"]
    status, body = api.get("logged-models/m-0000")
    assert status == 404
    run_id = api.new_run()
    model_id = api.ok_post("logged-models", {"experiment_id": "0", "source_run_id": run_id})[
        "model"
    ]["info"]["model_id"]
    response = api.client.patch(
        f"/api/2.0/mlflow/logged-models/{model_id}", json={"status": "SHINY"}
    )
    assert response.status_code == 400


def test_artifacts_list_for_proxied_run(make_client, tmp_path: Path) -> None:
    destination = tmp_path / "dest"
    api = Api(
        make_client(
            backend_store_uri=f"sqlite:///{tmp_path / 'l.db'}",
            artifacts_destination=str(destination),
        )
    )
    run_id = api.new_run()
    root = destination / "0" / run_id / "artifacts"
    (root / "stuff" / "inner").mkdir(parents=True)
    (root / "a.txt").write_text("hi")
    (root / "stuff" / "b.txt").write_text("abc")
    data = api.ok_get("artifacts/list", run_id=run_id)
    assert data["root_uri"] == f"mlflow-artifacts:/0/{run_id}/artifacts"
    files = sorted(data["files"], key=lambda f: f["path"])
    assert files == [
        {"path": "a.txt", "is_dir": False, "file_size": 2},
        {"path": "stuff", "is_dir": True},
    ]
    sub = api.ok_get("artifacts/list", run_id=run_id, path="stuff")["files"]
    assert sorted(sub, key=lambda f: f["path"]) == [
        {"path": "stuff/b.txt", "is_dir": False, "file_size": 3},
        {"path": "stuff/inner", "is_dir": True},
    ]
    assert "files" not in api.ok_get("artifacts/list", run_id=run_id, path="a.txt")
    status, body = api.get("artifacts/list", run_id=run_id, path="../../etc")
    assert status == 400 and body["error_code"] == "INVALID_PARAMETER_VALUE"


def test_server_info(api: Api) -> None:
    response = api.client.get("/api/3.0/mlflow/server-info")
    assert response.status_code == 200
    info = response.get_json()
    assert info["artifact_serving_enabled"] is True
    assert info["multipart_uploads_enabled"] is False
    assert api.client.get("/ajax-api/3.0/mlflow/server-info").status_code == 200


def test_every_route_also_under_ajax_api(api: Api) -> None:
    ajax = Api(api.client, "/ajax-api/2.0/mlflow")
    experiment_id = ajax.ok_post("experiments/create", {"name": "via-ajax"})["experiment_id"]
    assert api.ok_get("experiments/get", experiment_id=experiment_id)["experiment"]["name"] == (
        "via-ajax"
    )
    rules = {r.rule for r in api.client.application.url_map.iter_rules()}
    for rule in rules:
        if rule.startswith("/api/2.0/mlflow/"):
            assert rule.replace("/api/", "/ajax-api/", 1) in rules, rule
