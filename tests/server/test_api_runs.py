"""``/runs/*`` through the Flask app, on the file store and on SQLite."""

from __future__ import annotations

from tests.server.conftest import Api


def test_create_run_shape(api: Api) -> None:
    body = api.ok_post(
        "runs/create",
        {
            "experiment_id": "0",
            "user_id": "alice",
            "start_time": 1795756508405,
            "run_name": "parent",
            "tags": [{"key": "mlflow.source.name", "value": "a.py"}],
        },
    )
    info = body["run"]["info"]
    assert info["run_id"] == info["run_uuid"] and len(info["run_id"]) == 32
    assert info["run_name"] == "parent"
    assert info["status"] == "RUNNING"
    assert info["lifecycle_stage"] == "active"
    assert info["start_time"] == 1795756508405
    assert "end_time" not in info
    tags = {t["key"]: t["value"] for t in body["run"]["data"]["tags"]}
    assert tags == {"mlflow.source.name": "a.py", "mlflow.runName": "parent"}


def test_generated_name_and_conflicting_name(api: Api) -> None:
    info = api.ok_post("runs/create", {"experiment_id": "0"})["run"]["info"]
    assert info["run_name"]
    status, body = api.post(
        "runs/create",
        {"run_name": "a", "tags": [{"key": "mlflow.runName", "value": "b"}]},
    )
    assert status == 400 and "mlflow.runName" in body["message"]


def test_logging_and_get_run(api: Api) -> None:
    run_id = api.new_run()
    both = {"run_id": run_id, "run_uuid": run_id}
    api.ok_post("runs/log-parameter", {**both, "key": "foo", "value": "bar"})
    api.ok_post("runs/set-tag", {"run_uuid": run_id, "key": "hoge", "value": "fuga"})
    for step, value in ((0, 1.0), (1, 0.5)):
        api.ok_post(
            "runs/log-metric",
            {**both, "key": "loss", "value": value, "timestamp": 10 + step, "step": step},
        )
    api.ok_post(
        "runs/log-batch",
        {
            "run_id": run_id,
            "metrics": [
                {"key": "nan", "value": "NaN", "timestamp": 5, "step": 0},
                {"key": "inf", "value": "Infinity", "timestamp": 5},
                {"key": "ninf", "value": "-Infinity", "timestamp": 5},
            ],
            "params": [{"key": "p1", "value": "1"}],
            "tags": [{"key": "t1", "value": "x"}],
            "bogus": 1,
        },
    )
    run = api.ok_get("runs/get", run_uuid=run_id, run_id=run_id)["run"]
    metrics = {m["key"]: m for m in run["data"]["metrics"]}
    assert metrics["loss"] == {"key": "loss", "value": 0.5, "timestamp": 11, "step": 1}
    assert metrics["nan"]["value"] == "NaN"
    assert metrics["inf"]["value"] in ("Infinity", 1.7976931348623157e308)
    assert metrics["ninf"]["value"] in ("-Infinity", -1.7976931348623157e308)
    params = {p["key"]: p["value"] for p in run["data"]["params"]}
    assert params == {"foo": "bar", "p1": "1"}
    tags = {t["key"]: t["value"] for t in run["data"]["tags"]}
    assert tags["hoge"] == "fuga" and tags["t1"] == "x"


def test_latest_metric_is_max_step_timestamp_value(api: Api) -> None:
    run_id = api.new_run()
    points = [(10, 1, 5.0), (3, 999999, 7.0), (10, 2, 1.0)]
    api.ok_post(
        "runs/log-batch",
        {
            "run_id": run_id,
            "metrics": [{"key": "m", "value": v, "timestamp": t, "step": s} for s, t, v in points],
        },
    )
    run = api.ok_get("runs/get", run_id=run_id)["run"]
    assert run["data"]["metrics"] == [{"key": "m", "value": 1.0, "timestamp": 2, "step": 10}]


def test_param_immutability_and_batch_duplicates(api: Api) -> None:
    run_id = api.new_run()
    api.ok_post("runs/log-parameter", {"run_id": run_id, "key": "dup", "value": "v1"})
    api.ok_post("runs/log-parameter", {"run_id": run_id, "key": "dup", "value": "v1"})
    status, body = api.post("runs/log-parameter", {"run_id": run_id, "key": "dup", "value": "v2"})
    assert (status, body["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    status, body = api.post(
        "runs/log-batch",
        {"run_id": run_id, "params": [{"key": "d", "value": "1"}, {"key": "d", "value": "2"}]},
    )
    assert status == 400 and "Duplicate parameter keys" in body["message"]


def test_validation_errors_name_the_field(api: Api) -> None:
    run_id = api.new_run()
    status, body = api.post("runs/log-metric", {"run_id": run_id, "key": "m", "timestamp": 1})
    assert status == 400 and "'value'" in body["message"]
    status, body = api.post(
        "runs/log-metric", {"run_id": run_id, "key": "m", "value": "abc", "timestamp": 1}
    )
    assert status == 400 and body["message"].startswith(
        "Invalid value \"abc\" for parameter 'value'"
    )
    status, body = api.post(
        "runs/log-batch",
        {"run_id": run_id, "metrics": [{"key": "m", "timestamp": 1}]},
    )
    assert status == 400 and "'metrics[0].value'" in body["message"]
    status, body = api.post(
        "runs/log-parameter", {"run_id": run_id, "key": "../evil", "value": "x"}
    )
    assert status == 400 and "../evil" in body["message"]
    status, body = api.post(
        "runs/log-parameter", {"run_id": run_id, "key": "k" * 251, "value": "x"}
    )
    assert status == 400 and "250" in body["message"]
    status, body = api.post("runs/log-parameter", {"key": "k", "value": "x"})
    assert status == 400 and "'run_id'" in body["message"]
    status, body = api.post(
        "runs/log-batch",
        {"run_id": run_id, "params": [{"key": f"p{i}", "value": "1"} for i in range(101)]},
    )
    assert status == 400 and "at most 100 params" in body["message"]
    status, body = api.post("runs/log-batch", {"run_id": run_id, "metrics": "nope"})
    assert status == 400


def test_missing_run_is_404(api: Api) -> None:
    for path, body in (
        ("runs/update", {"run_id": "doesnotexist", "status": "FINISHED"}),
        ("runs/delete", {"run_id": "doesnotexist"}),
        ("runs/log-parameter", {"run_id": "doesnotexist", "key": "a", "value": "b"}),
    ):
        status, data = api.post(path, body)
        assert (status, data["error_code"]) == (404, "RESOURCE_DOES_NOT_EXIST"), path
    status, data = api.get("runs/get", run_id="doesnotexist", run_uuid="doesnotexist")
    assert status == 404 and data["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def test_update_rename_delete_restore(api: Api) -> None:
    run_id = api.new_run()
    info = api.ok_post("runs/update", {"run_uuid": run_id, "status": "FINISHED", "end_time": 2000})[
        "run_info"
    ]
    assert info["status"] == "FINISHED" and info["end_time"] == 2000
    # MLflow ignores an unknown status; runyard refuses it rather than drop it without a word
    status, body = api.post("runs/update", {"run_id": run_id, "status": "BOGUS"})
    assert (status, body["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    assert "'status'" in body["message"] and "FINISHED" in body["message"]
    assert api.ok_get("runs/get", run_id=run_id)["run"]["info"]["status"] == "FINISHED"
    api.ok_post("runs/update", {"run_id": run_id, "run_name": "renamed"})
    run = api.ok_get("runs/get", run_id=run_id)["run"]
    tags = {t["key"]: t["value"] for t in run["data"]["tags"]}
    assert run["info"]["run_name"] == "renamed" and tags["mlflow.runName"] == "renamed"

    api.ok_post("runs/delete", {"run_id": run_id})
    assert api.ok_get("runs/get", run_id=run_id)["run"]["info"]["lifecycle_stage"] == "deleted"
    status, body = api.post("runs/log-parameter", {"run_id": run_id, "key": "a", "value": "b"})
    assert status == 400 and "active" in body["message"]
    api.ok_post("runs/restore", {"run_id": run_id})
    assert api.ok_get("runs/get", run_id=run_id)["run"]["info"]["lifecycle_stage"] == "active"


def test_delete_tag(api: Api) -> None:
    run_id = api.new_run()
    api.ok_post("runs/set-tag", {"run_id": run_id, "key": "ct", "value": "1"})
    api.ok_post("runs/delete-tag", {"run_id": run_id, "key": "ct"})
    status, body = api.post("runs/delete-tag", {"run_id": run_id, "key": "ct"})
    assert (status, body["error_code"]) == (404, "RESOURCE_DOES_NOT_EXIST")


def test_search_filter_order_and_pages(api: Api) -> None:
    ids = []
    for i in range(3):
        run_id = api.new_run(start_time=1000 + i)
        api.ok_post(
            "runs/log-batch",
            {
                "run_id": run_id,
                "metrics": [{"key": "loss", "value": float(i), "timestamp": 1, "step": 0}],
                "params": [{"key": "foo", "value": "bar" if i else "baz"}],
            },
        )
        ids.append(run_id)
    found = api.ok_post(
        "runs/search",
        {
            "experiment_ids": ["0"],
            "filter": "metrics.loss < 2 and params.foo = 'bar'",
            "order_by": ["metrics.loss asc"],
            "run_view_type": "ACTIVE_ONLY",
            "max_results": 10,
        },
    )
    assert [r["info"]["run_id"] for r in found["runs"]] == [ids[1]]
    page1 = api.ok_post("runs/search", {"experiment_ids": ["0"], "max_results": 2, "filter": ""})
    page2 = api.ok_post(
        "runs/search",
        {"experiment_ids": ["0"], "max_results": 2, "page_token": page1["next_page_token"]},
    )
    assert "next_page_token" not in page2
    assert [r["info"]["run_id"] for r in page1["runs"] + page2["runs"]] == ids[::-1]
    assert api.ok_post("runs/search", {"experiment_ids": ["0"], "filter": "metrics.loss > 9"}) == {}


def test_search_errors_are_400(api: Api) -> None:
    for body in (
        {"experiment_ids": ["0"], "filter": "metrics.logloss <<< 2"},
        {"experiment_ids": ["0"], "filter": "foo.bar = 1"},
        {"experiment_ids": ["0"], "order_by": ["metrics.logloss sideways"]},
        {"experiment_ids": ["0"], "max_results": 100000},
        {"experiment_ids": ["0"], "max_results": 0},
        {"experiment_ids": ["0"], "page_token": "garbage"},
        {"experiment_ids": ["0"], "run_view_type": "NOPE"},
    ):
        status, data = api.post("runs/search", body)
        assert status == 400, (body, data)
        assert data["error_code"] == "INVALID_PARAMETER_VALUE", data
    assert api.ok_post("runs/search", {"experiment_ids": ["999999"]}) == {}
    assert api.client.get("/api/2.0/mlflow/runs/search").status_code == 405


def test_inputs_and_outputs(api: Api) -> None:
    run_id = api.new_run()
    dataset = {
        "name": "dataset",
        "digest": "7f03c7ae",
        "source_type": "code",
        "source": "{}",
        "schema": "{}",
        "profile": "{}",
    }
    api.ok_post(
        "runs/log-inputs",
        {
            "run_id": run_id,
            "datasets": [
                {"tags": [{"key": "mlflow.data.context", "value": "train"}], "dataset": dataset}
            ],
        },
    )
    model = api.ok_post(
        "logged-models", {"experiment_id": "0", "name": "model", "source_run_id": run_id}
    )["model"]
    model_id = model["info"]["model_id"]
    api.ok_post("runs/outputs", {"run_id": run_id, "models": [{"model_id": model_id, "step": 0}]})
    run = api.ok_get("runs/get", run_id=run_id)["run"]
    assert run["inputs"]["dataset_inputs"] == [
        {"tags": [{"key": "mlflow.data.context", "value": "train"}], "dataset": dataset}
    ]
    assert run["outputs"] == {"model_outputs": [{"model_id": model_id, "step": 0}]}
    status, body = api.post("runs/outputs", {"run_id": run_id})
    assert status == 400 and "'models'" in body["message"]
