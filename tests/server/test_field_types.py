"""Every field of every endpoint, sent with a value of the wrong type, gets MLflow's 400.

The cases are generated from the request schema (``runyard.wire_schema``, itself generated from
MLflow's protobuf descriptors), so a field added to the schema is covered without a new line here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from runyard.server.api.common import schema_path
from runyard.server.app import create_app
from runyard.wire_schema import MESSAGES, ROUTES

#: A value of the wrong type for each field type, as JSON (body) and as a query-string value.
WRONG_JSON = {
    "string": 123,
    "int64": "twelve",
    "int32": "twelve",
    "uint64": -1,
    "uint32": -1,
    "double": True,
    "bool": "yes",
    "enum": "NOT_A_VALUE",
    "message": "not-an-object",
}
WRONG_QUERY = {  # a query string is all strings: only what cannot be parsed is wrong
    "int64": "twelve",
    "int32": "1.5",
    "uint64": "-1",
    "uint32": "-1",
    "double": "abc",
    "bool": "maybe",
    "enum": "NOT_A_VALUE",
}
MAX_DEPTH = 3


def _kind(type_name: str) -> str:
    return type_name.split(":", 1)[0]


def wrong_bodies(message: str, depth: int = 0) -> Iterator[tuple[dict[str, Any], str]]:
    """(body, field path) pairs: each field of ``message`` wrong in turn, nested ones too."""
    for field, (type_name, repeated) in MESSAGES[message].items():
        kind = _kind(type_name)
        yield (
            {field: [WRONG_JSON[kind]] if repeated else WRONG_JSON[kind]},
            (f"{field}[0]" if repeated else field),
        )
        if repeated:
            yield {field: "not-a-list"}, field
        if kind == "message" and depth < MAX_DEPTH:
            for inner, path in wrong_bodies(type_name.split(":", 1)[1], depth + 1):
                yield (
                    {field: [inner] if repeated else inner},
                    f"{field}[0].{path}" if repeated else f"{field}.{path}",
                )


def _served_routes() -> dict[tuple[str, str], str]:
    """(method, schema path) -> one concrete URL of the app, for the routes it serves."""
    app = create_app({"backend_store_uri": "sqlite:///:memory:"})
    served = {}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        url = re.sub(r"<(?:\w+:)?(\w+)>", "x-1", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            served[(method, schema_path(rule.rule))] = url
    app.config["RUNYARD_STORE"].close()
    return served


SERVED = _served_routes()
PATH_VARIABLES = {"model_id", "tag_key"}


def _cases() -> Iterator[Any]:
    for (method, path), message in sorted(ROUTES.items()):
        url = SERVED.get((method, path))
        if url is None:
            continue
        for body, field in wrong_bodies(message):
            if next(iter(body)) in PATH_VARIABLES:
                continue
            if method == "GET":
                value = next(iter(body.values()))
                type_name, _ = MESSAGES[message][next(iter(body))]
                wrong = WRONG_QUERY.get(_kind(type_name))
                if wrong is None or isinstance(value, dict) or field.endswith("]"):
                    continue
                body = {next(iter(body)): wrong}
            yield pytest.param(method, url, body, field, id=f"{method} {path} {field}")


CASES = list(_cases())


def test_every_schema_route_is_served_or_known_missing() -> None:
    missing = {key for key in ROUTES if key not in SERVED}
    assert not missing, missing
    assert len(CASES) > 140


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("types")
    app = create_app(
        {
            "backend_store_uri": f"sqlite:///{tmp / 'db.sqlite'}",
            "artifacts_destination": str(tmp / "artifacts"),
        }
    )
    yield app.test_client()
    app.config["RUNYARD_STORE"].close()


@pytest.mark.parametrize(("method", "url", "body", "field"), CASES)
def test_wrong_type_is_400_naming_the_field(client, method, url, body, field) -> None:
    if method == "GET":
        response = client.get(url, query_string=body)
    else:
        response = client.open(url, method=method, json=body)
    data = response.get_json()
    assert response.status_code == 400, data
    assert data["error_code"] == "INVALID_PARAMETER_VALUE"
    assert data["message"].startswith("Invalid value "), data["message"]
    assert f"for parameter '{field}' supplied: " in data["message"], data["message"]
    assert data["message"].endswith(
        "See the API docs for more information about request parameters."
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"timestamp": 2**63}, "timestamp"),
        ({"timestamp": -(2**63) - 1}, "timestamp"),
        ({"step": 2**64}, "step"),
        ({"step": -(2**63) - 1}, "step"),
    ],
)
def test_int64_out_of_range_is_400(client, body, field) -> None:
    run_id = _new_run(client)
    metric = {"run_id": run_id, "key": "m", "value": 1.0, "timestamp": 1, "step": 0, **body}
    for url, payload in (
        ("/api/2.0/mlflow/runs/log-metric", metric),
        ("/api/2.0/mlflow/runs/log-batch", {"run_id": run_id, "metrics": [metric]}),
    ):
        response = client.post(url, json=payload)
        assert response.status_code == 400, response.get_json()
        assert "64-bit integer" in response.get_json()["message"]
    history = client.get(
        "/api/2.0/mlflow/metrics/get-history", query_string={"run_id": run_id, "metric_key": "m"}
    )
    assert history.get_json() == {}  # nothing was written


def test_negative_timestamp_and_boolean_value_are_400(client) -> None:
    run_id = _new_run(client)
    base = {"run_id": run_id, "key": "m", "value": 1.0, "timestamp": 5, "step": 0}
    response = client.post("/api/2.0/mlflow/runs/log-metric", json={**base, "timestamp": -5})
    assert response.status_code == 400
    assert "Timestamp must be a nonnegative long" in response.get_json()["message"]
    for value in (True, False):
        response = client.post("/api/2.0/mlflow/runs/log-metric", json={**base, "value": value})
        assert response.status_code == 400
        assert "parameter 'value'" in response.get_json()["message"]
        batch = {"run_id": run_id, "metrics": [{**base, "value": value}]}
        response = client.post("/api/2.0/mlflow/runs/log-batch", json=batch)
        assert "parameter 'metrics[0].value'" in response.get_json()["message"]
    assert client.post("/api/2.0/mlflow/runs/log-metric", json=base).status_code == 200


def test_query_string_values_parse_as_their_types(client) -> None:
    """What a GET may legitimately send: numbers and enums as text, a repeated field once."""
    run_id = _new_run(client)
    ok = client.get(
        "/api/2.0/mlflow/experiments/search",
        query_string={"max_results": "5", "view_type": "ALL", "order_by": "name"},
    )
    assert ok.status_code == 200, ok.get_json()
    ok = client.get(
        "/api/2.0/mlflow/metrics/get-history",
        query_string={"run_id": run_id, "metric_key": "m", "max_results": "10"},
    )
    assert ok.status_code == 200, ok.get_json()


def _new_run(client) -> str:
    response = client.post(
        "/api/2.0/mlflow/runs/create", json={"experiment_id": "0", "start_time": 1}
    )
    return response.get_json()["run"]["info"]["run_id"]
