"""The same bad requests sent to ``runyard server`` and to a real ``mlflow server``: same status,
same error code, same message (MLflow's clients and web UI show the message as is)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.live_server import start_live_server
from tests.mlflow_server import start_mlflow_server

pytestmark = pytest.mark.slow

RUN = "<run>"  # replaced by a run of the server being asked

#: (path, JSON body) pairs MLflow answers with 400 because of a field's type or range.
TYPE_ERRORS: list[tuple[str, dict[str, Any]]] = [
    ("experiments/create", {"name": 123}),
    ("experiments/create", {"name": "x", "tags": "x"}),
    ("runs/log-metric", {"run_id": RUN, "key": 5, "value": 1.0, "timestamp": 1}),
    ("runs/log-metric", {"run_id": RUN, "key": "m", "value": "abc", "timestamp": 1}),
    ("runs/log-metric", {"run_id": RUN, "key": "m", "value": 1.0, "timestamp": "x"}),
    ("runs/log-metric", {"run_id": RUN, "key": "m", "value": 1.0, "timestamp": -5}),
    ("runs/log-parameter", {"run_id": RUN, "key": 5, "value": "1"}),
    ("runs/log-parameter", {"run_id": RUN, "key": "p", "value": 1}),
    ("runs/set-tag", {"run_id": RUN, "key": "t", "value": 1}),
    ("runs/set-tag", {"run_id": 31, "key": "t", "value": "1"}),
    ("runs/update", {"run_id": RUN, "end_time": "abc"}),
    ("runs/search", {"experiment_ids": "1"}),
    ("runs/search", {"max_results": "abc"}),
    ("runs/log-batch", {"run_id": RUN, "metrics": {"a": 1}}),
    ("logged-models", {"experiment_id": 5}),
    ("logged-models/search", {"experiment_ids": ["0"], "max_results": "x"}),
]


@pytest.fixture(scope="module")
def servers(tmp_path_factory) -> Iterator[dict[str, tuple[str, str]]]:
    """name -> (base URL, a run id on that server)."""
    tmp = tmp_path_factory.mktemp("same-answers")
    with (
        start_mlflow_server(tmp) as mlflow_url,
        start_live_server(f"sqlite:///{tmp / 'runyard.db'}") as runyard,
    ):
        yield {
            name: (url, _new_run(url))
            for name, url in (("mlflow", mlflow_url), ("runyard", runyard.url))
        }


def _new_run(url: str) -> str:
    response = requests.post(
        f"{url}/api/2.0/mlflow/runs/create", json={"experiment_id": "0", "start_time": 1}
    )
    return response.json()["run"]["info"]["run_id"]


def _ask(server: tuple[str, str], path: str, body: dict[str, Any]) -> tuple[int, str, str]:
    url, run_id = server
    body = {k: run_id if v == RUN else v for k, v in body.items()}
    response = requests.post(f"{url}/api/2.0/mlflow/{path}", json=body, timeout=30)
    data = response.json()
    return response.status_code, data.get("error_code"), data.get("message")


@pytest.mark.parametrize(("path", "body"), TYPE_ERRORS, ids=[f"{p} {b}" for p, b in TYPE_ERRORS])
def test_type_errors_answer_like_mlflow(servers, path: str, body: dict[str, Any]) -> None:
    expected = _ask(servers["mlflow"], path, body)
    assert expected[:2] == (400, "INVALID_PARAMETER_VALUE"), expected
    assert _ask(servers["runyard"], path, body) == expected
