"""The rest of MLflow's tracking API: the same requests to ``runyard server`` and to a real
``mlflow server``, compared on status, error code, content type and JSON shape."""

from __future__ import annotations

import time
from collections.abc import Iterator

import numpy as np
import pytest
import requests
from packaging.version import Version

from tests.live_server import start_live_server
from tests.mlflow_server import start_mlflow_server

pytestmark = pytest.mark.slow

#: Families MLflow serves and runyard does not (README lists them): MLflow answers these.
NOT_SUPPORTED = [
    ("GET", "/api/2.0/mlflow/traces", None),
    ("POST", "/api/3.0/mlflow/traces/search", {"locations": []}),
    ("GET", "/api/3.0/mlflow/scorers/list?experiment_id=0", None),
    ("GET", "/api/3.0/mlflow/gateway/secrets/get?secret_id=x", None),
    ("POST", "/api/2.0/mlflow/traces/link-prompts", {"trace_id": "x"}),
    ("POST", "/api/2.0/mlflow/webhooks", {"name": "x"}),
    ("POST", "/graphql", {"query": "{ __typename }"}),
    ("GET", "/ajax-api/3.0/jobs/search", None),
]


@pytest.fixture(scope="module")
def servers(tmp_path_factory) -> Iterator[dict[str, str]]:
    tmp = tmp_path_factory.mktemp("parity")
    with (
        start_mlflow_server(tmp) as mlflow_url,
        start_live_server(f"sqlite:///{tmp / 'runyard.db'}") as runyard,
    ):
        yield {"mlflow": mlflow_url, "runyard": runyard.url}


def _api(url: str, path: str) -> str:
    return f"{url}/api/2.0/mlflow/{path}"


def _new_run(url: str, experiment_id: str = "0") -> str:
    body = {"experiment_id": experiment_id, "start_time": int(time.time() * 1000)}
    return requests.post(_api(url, "runs/create"), json=body).json()["run"]["info"]["run_id"]


def _both(servers: dict[str, str], ask) -> tuple:  # type: ignore[no-untyped-def]
    return ask(servers["mlflow"]), ask(servers["runyard"])


def test_upload_then_get_artifact(servers) -> None:
    def ask(url: str) -> list:
        run_id = _new_run(url)
        upload = requests.post(
            f"{url}/ajax-api/2.0/mlflow/upload-artifact",
            params={"run_uuid": run_id, "path": "notes/a.txt"},
            data=b"hello",
            headers={"Content-Type": "application/octet-stream"},
        )
        answers = [upload.status_code]
        for path in ("notes/a.txt", "../../etc/passwd", "notes", "missing.txt"):
            response = requests.get(f"{url}/get-artifact", params={"run_id": run_id, "path": path})
            if response.status_code == 200:
                answers.append((200, response.headers["Content-Type"], response.content))
            else:
                answers.append((response.status_code, response.json()["error_code"]))
        return answers

    expected, got = _both(servers, ask)
    assert expected[1] == (200, "text/plain", b"hello")
    assert got == expected


def test_log_image_files_are_downloadable(servers) -> None:
    from mlflow import MlflowClient

    def ask(url: str) -> list:
        client = MlflowClient(tracking_uri=url)
        run_id = _new_run(url)
        image = np.zeros((8, 8, 3), dtype=np.uint8)
        client.log_image(run_id, image, key="sample", step=3)
        listed = requests.get(
            _api(url, "artifacts/list"), params={"run_id": run_id, "path": "images"}
        )
        answers = []
        for item in listed.json()["files"]:
            response = requests.get(
                f"{url}/get-artifact", params={"run_id": run_id, "path": item["path"]}
            )
            name = item["path"].split("/")[-1]
            shape = name.split("+")[0], name.rsplit(".", 1)[-1]
            answers.append((shape, response.status_code, response.headers["Content-Type"]))
        return sorted(answers)

    expected, got = _both(servers, ask)
    assert expected and got == expected


def test_metric_history_bulk(servers) -> None:
    def ask(url: str) -> tuple:
        runs = sorted(_new_run(url) for _ in range(2))
        for n, run_id in enumerate(runs):
            metrics = [
                {"key": "m", "value": float(i * n), "timestamp": 1000 + i, "step": i}
                for i in range(4)
            ]
            requests.post(_api(url, "runs/log-batch"), json={"run_id": run_id, "metrics": metrics})
        response = requests.get(
            f"{url}/ajax-api/2.0/mlflow/metrics/get-history-bulk",
            params={"run_id": runs, "metric_key": "m", "max_results": 6},
        )
        points = [
            (runs.index(m["run_id"]), m["step"], m["value"], m["timestamp"])
            for m in response.json()["metrics"]
        ]
        missing = requests.get(f"{url}/ajax-api/2.0/mlflow/metrics/get-history-bulk")
        return response.status_code, points, missing.status_code, missing.json()["error_code"]

    expected, got = _both(servers, ask)
    assert len(expected[1]) == 6
    assert got == expected


def test_search_datasets(servers) -> None:
    def ask(url: str) -> tuple:
        name = f"ds-{time.time_ns()}"
        experiment_id = requests.post(_api(url, "experiments/create"), json={"name": name}).json()[
            "experiment_id"
        ]
        run_id = _new_run(url, experiment_id)
        dataset = {"name": "train", "digest": "abc123", "source_type": "code", "source": "{}"}
        inputs = {
            "run_id": run_id,
            "datasets": [
                {"dataset": dataset, "tags": [{"key": "mlflow.data.context", "value": "training"}]}
            ],
        }
        requests.post(_api(url, "runs/log-inputs"), json=inputs)
        response = requests.post(
            f"{url}/ajax-api/2.0/mlflow/experiments/search-datasets",
            json={"experiment_ids": [experiment_id]},
        )
        summaries = response.json()["dataset_summaries"]
        for summary in summaries:
            summary["experiment_id"] = "<exp>"
        empty = requests.post(f"{url}/ajax-api/2.0/mlflow/experiments/search-datasets", json={})
        return response.status_code, summaries, empty.status_code, empty.json()["error_code"]

    expected, got = _both(servers, ask)
    assert expected[1] == [
        {"experiment_id": "<exp>", "name": "train", "digest": "abc123", "context": "training"}
    ]
    assert got == expected


def test_logged_model_artifacts(servers) -> None:
    def ask(url: str) -> list:
        model = requests.post(
            _api(url, "logged-models"), json={"experiment_id": "0", "name": "net"}
        ).json()["model"]["info"]
        location = model["artifact_uri"].removeprefix("mlflow-artifacts:/")
        requests.put(
            f"{url}/api/2.0/mlflow-artifacts/artifacts/{location}/MLmodel", data=b"flavors: {}"
        )
        requests.put(f"{url}/api/2.0/mlflow-artifacts/artifacts/{location}/data/w.bin", data=b"\0")
        model_url = f"{url}/ajax-api/2.0/mlflow/logged-models/{model['model_id']}/artifacts"
        answers = []
        for path in ("MLmodel", "data/w.bin", "../x", "nope"):
            response = requests.get(f"{model_url}/files", params={"artifact_file_path": path})
            if response.status_code == 200:
                answers.append((200, response.headers["Content-Type"], response.content))
            else:
                answers.append((response.status_code, response.json()["error_code"]))
        listed = requests.get(
            f"{url}/api/2.0/mlflow/logged-models/{model['model_id']}/artifacts/directories"
        )
        answers.append(sorted((f["path"], f["is_dir"]) for f in listed.json().get("files", [])))
        return answers

    expected, got = _both(servers, ask)
    assert expected[0] == (200, "text/plain", b"flavors: {}")
    assert got == expected


def test_logged_model_params(servers) -> None:
    def ask(url: str) -> tuple:
        model = requests.post(
            _api(url, "logged-models"),
            json={"experiment_id": "0", "params": [{"key": "a", "value": "1"}]},
        ).json()["model"]["info"]
        model_url = _api(url, f"logged-models/{model['model_id']}")
        body = {"model_id": model["model_id"], "params": [{"key": "b", "value": "2"}]}
        logged = requests.post(f"{model_url}/params", json=body)
        params = requests.get(model_url).json()["model"]["data"]["params"]
        missing_id = "m-00000000000000000000000000000000"
        missing = requests.post(
            _api(url, f"logged-models/{missing_id}/params"),
            json={"model_id": missing_id, "params": [{"key": "b", "value": "2"}]},
        )
        answer = (missing.status_code, missing.json()["error_code"])
        return logged.status_code, sorted((p["key"], p["value"]) for p in params), answer

    expected, got = _both(servers, ask)
    assert expected[1] == [("a", "1"), ("b", "2")]
    assert got == expected


def test_logged_model_search_order_by_and_datasets(servers) -> None:
    def ask(url: str) -> list:
        name = f"lm-{time.time_ns()}"
        body = {"name": name}
        experiment_id = requests.post(_api(url, "experiments/create"), json=body).json()[
            "experiment_id"
        ]
        ids = {}
        for model_name in ("b", "c", "a"):
            created = requests.post(
                _api(url, "logged-models"),
                json={"experiment_id": experiment_id, "name": model_name},
            )
            ids[model_name] = created.json()["model"]["info"]["model_id"]
        run_id = _new_run(url, experiment_id)
        metric = {"key": "acc", "value": 0.9, "timestamp": 1000, "step": 0, "model_id": ids["a"]}
        metric |= {"dataset_name": "train", "dataset_digest": "d1"}
        requests.post(_api(url, "runs/log-batch"), json={"run_id": run_id, "metrics": [metric]})
        answers = []
        for extra in (
            {"order_by": [{"field_name": "name", "ascending": True}]},
            {"order_by": [{"field_name": "name", "ascending": False}]},
            {"datasets": [{"dataset_name": "train", "dataset_digest": "d1"}]},
            {"datasets": [{"dataset_name": "train"}]},
            {"datasets": [{"dataset_name": "train", "dataset_digest": "other"}]},
            {"datasets": [{"dataset_name": "eval"}]},
        ):
            search = {"experiment_ids": [experiment_id], **extra}
            response = requests.post(_api(url, "logged-models/search"), json=search)
            answers.append([m["info"]["name"] for m in response.json().get("models", [])])
        return answers

    expected, got = _both(servers, ask)
    assert expected == [["a", "b", "c"], ["c", "b", "a"], ["a"], [], [], []]
    assert got == expected


def test_version_gates_the_client_to_what_runyard_serves(servers) -> None:
    from mlflow.store.tracking.rest_store import RestStore
    from mlflow.utils.rest_utils import MlflowHostCreds

    version = RestStore._get_server_version(MlflowHostCreds(servers["runyard"]))
    assert version is not None and version < Version("3.4")  # span logging stays off
    assert "runyard" in str(version)
    info = requests.get(f"{servers['runyard']}/api/3.0/mlflow/server-info").json()
    assert info["mlflow_api_level"] == version.public
    mlflow_info = requests.get(f"{servers['mlflow']}/api/3.0/mlflow/server-info").json()
    assert set(mlflow_info) - {"features_enabled"} <= set(info)


@pytest.mark.parametrize(("method", "path", "body"), NOT_SUPPORTED)
def test_unsupported_families_answer_endpoint_not_found(servers, method, path, body) -> None:
    there = requests.request(method, servers["mlflow"] + path, json=body)
    assert there.status_code != 404 or there.headers["Content-Type"].startswith("application/json")
    response = requests.request(method, servers["runyard"] + path, json=body)
    assert response.status_code == 404
    assert response.json()["error_code"] == "ENDPOINT_NOT_FOUND"


def test_long_query_strings_through_gunicorn(servers) -> None:
    url = servers["runyard"]
    run_id = _new_run(url)
    padding = "p" * 60_000
    response = requests.get(_api(url, "runs/get"), params={"run_id": run_id, "pad": padding})
    assert response.status_code == 200
    response = requests.get(_api(url, "runs/get"), params={"run_id": run_id, "pad": padding * 2})
    assert response.status_code == 414
    assert response.json()["error_code"] == "BAD_REQUEST"
