"""A client's mistake is never a 5xx: clients retry 5xx for minutes (MLflow's backoff)."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from runyard.server.app import create_app

POST_ROUTES = [
    "experiments/create",
    "experiments/search",
    "experiments/update",
    "experiments/delete",
    "experiments/restore",
    "experiments/set-experiment-tag",
    "experiments/delete-experiment-tag",
    "runs/create",
    "runs/update",
    "runs/delete",
    "runs/restore",
    "runs/log-metric",
    "runs/log-parameter",
    "runs/set-tag",
    "runs/delete-tag",
    "runs/log-batch",
    "runs/search",
    "runs/log-inputs",
    "runs/outputs",
    "logged-models",
    "logged-models/search",
]
GET_ROUTES = [
    "experiments/get",
    "experiments/get-by-name",
    "experiments/search",
    "runs/get",
    "metrics/get-history",
    "metrics/get-history-bulk-interval",
    "artifacts/list",
    "logged-models/m-1",
]
FIELDS = [
    "experiment_id",
    "experiment_ids",
    "name",
    "run_id",
    "run_uuid",
    "key",
    "value",
    "timestamp",
    "step",
    "metrics",
    "params",
    "tags",
    "filter",
    "max_results",
    "order_by",
    "page_token",
    "status",
    "datasets",
    "models",
    "view_type",
    "run_view_type",
    "new_name",
    "metric_key",
    "artifact_location",
]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.sampled_from(["0", "NaN", "Infinity", "abc", "../x", "1.5"]),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(["key", "value", "timestamp", "step", "model_id"]), children
        )
    ),
    max_leaves=8,
)
bodies = st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=6)


@pytest.fixture(scope="module")
def fuzz_client(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz")
    app = create_app(
        {
            "backend_store_uri": f"sqlite:///{root / 'f.db'}",
            "artifacts_destination": str(root / "art"),
        }
    )
    client = app.test_client()
    run = client.post("/api/2.0/mlflow/runs/create", json={"experiment_id": "0"}).get_json()
    FIELD_SAMPLES["run_id"] = run["run"]["info"]["run_id"]
    yield client
    app.config["RUNYARD_STORE"].close()


FIELD_SAMPLES: dict[str, str] = {}


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(route=st.sampled_from(POST_ROUTES), body=bodies, real_run=st.booleans())
def test_malformed_json_bodies_are_4xx(fuzz_client, route: str, body: dict, real_run: bool) -> None:
    if real_run and "run_id" in FIELD_SAMPLES:
        body["run_id"] = FIELD_SAMPLES["run_id"]
    response = fuzz_client.post(f"/api/2.0/mlflow/{route}", json=body)
    assert response.status_code < 500, (route, body, response.get_json())
    assert response.is_json


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(route=st.sampled_from(POST_ROUTES), raw=st.binary(max_size=64) | st.text(max_size=64))
def test_garbage_bytes_are_4xx(fuzz_client, route: str, raw) -> None:
    response = fuzz_client.post(
        f"/api/2.0/mlflow/{route}", data=raw, content_type="application/json"
    )
    assert response.status_code < 500, (route, raw)
    assert response.is_json


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    route=st.sampled_from(GET_ROUTES),
    query=st.lists(st.tuples(st.sampled_from(FIELDS), st.text(max_size=12)), max_size=5),
)
def test_odd_query_strings_are_4xx_or_ok(fuzz_client, route: str, query) -> None:
    response = fuzz_client.get(f"/api/2.0/mlflow/{route}", query_string=query)
    assert response.status_code < 500, (route, query, response.get_json())


@pytest.mark.parametrize("raw", ["[1, 2]", '"text"', "42", "null", "{not json", "\xff"])
def test_non_object_json_is_400(fuzz_client, raw: str) -> None:
    response = fuzz_client.post(
        "/api/2.0/mlflow/runs/log-metric", data=raw, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.get_json()["error_code"] in ("BAD_REQUEST", "INVALID_PARAMETER_VALUE")


def test_unknown_route_and_method_are_json(fuzz_client) -> None:
    response = fuzz_client.get("/api/2.0/mlflow/runs/nope")
    assert response.status_code == 404
    assert response.get_json()["error_code"] == "ENDPOINT_NOT_FOUND"
    response = fuzz_client.get("/api/2.0/mlflow/runs/search")
    assert response.status_code == 405 and response.is_json
    assert "POST" in response.headers["Allow"]


def test_unexpected_exception_is_500_without_traceback(tmp_path) -> None:
    app = create_app({"backend_store_uri": str(tmp_path / "mlruns")})

    class Broken:
        def __getattr__(self, name):
            def fail(*args, **kwargs):
                raise RuntimeError("secret internal detail /etc/passwd")

            return fail

    app.config["RUNYARD_STORE"] = Broken()
    response = app.test_client().get(
        "/api/2.0/mlflow/experiments/get", query_string={"experiment_id": "1"}
    )
    assert response.status_code == 500
    body = response.get_json()
    assert body["error_code"] == "INTERNAL_ERROR"
    assert "secret" not in json.dumps(body) and "Traceback" not in json.dumps(body)


def test_temporarily_unavailable_is_503_with_retry_after(tmp_path) -> None:
    from runyard.errors import TemporarilyUnavailable

    app = create_app({"backend_store_uri": str(tmp_path / "mlruns")})

    class Away:
        def __getattr__(self, name):
            def fail(*args, **kwargs):
                raise TemporarilyUnavailable("database is unreachable")

            return fail

    app.config["RUNYARD_STORE"] = Away()
    client = app.test_client()
    response = client.post("/api/2.0/mlflow/runs/create", json={"experiment_id": "0"})
    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    assert response.get_json()["error_code"] == "TEMPORARILY_UNAVAILABLE"
    ready = client.get("/ready")
    assert ready.status_code == 503 and "store" in ready.get_json()["message"]
