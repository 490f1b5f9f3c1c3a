"""Every tracking route with a request schema, each of its string fields (nested ones too) given
a hostile value in turn, the rest valid: the answer is a 4xx, never a 5xx, on every store.

Postgres refuses a value too long for its column, and any string with a NUL character, where
SQLite and files take them; a JSON ``\\ud800`` escape decodes to a lone surrogate, which no
store can encode. Each came back as 500 INTERNAL_ERROR, which MLflow's client retries for
minutes."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from runyard.wire_schema import MESSAGES, ROUTES

from tests.server.conftest import Api

LONG = "x" * 70_000  # longer than any column
NUL = "a\x00b"
SURROGATE = "a\ud800b"  # what JSON's "\ud800" escape decodes to
INTEGERS = ("int64", "int32", "uint64", "uint32")


def _valid_ids(api: Api) -> dict[str, Any]:
    """Ids of things that exist, so a request gets past its lookups to the write."""
    experiment_id = api.ok_post("experiments/create", {"name": "long-values"})["experiment_id"]
    run_id = api.new_run(experiment_id)
    api.ok_post("registered-models/create", {"name": "long-model"})
    source = f"runs:/{run_id}/model"
    api.ok_post("model-versions/create", {"name": "long-model", "source": source, "run_id": run_id})
    created = api.ok_post("logged-models", {"experiment_id": experiment_id, "name": "lm"})
    return {
        "experiment_id": experiment_id,
        "run_id": run_id,
        "run_uuid": run_id,
        "name": "long-model",
        "version": "1",
        "model_id": created["model"]["info"]["model_id"],
        "source": source,
        "key": "k",
        "value": "v",
        "alias": "al",
        "metric_key": "m",
    }


def _sample(message: str, valid: dict[str, Any], depth: int = 0) -> dict[str, Any]:
    """A body for ``message`` with every field it can fill: ids that exist, small values."""
    body: dict[str, Any] = {}
    for field, (kind, repeated) in MESSAGES[message].items():
        if field in valid:
            value: Any = valid[field]
        elif kind == "string":
            value = "s"
        elif kind.startswith("message:") and depth < 2:
            value = _sample(kind[8:], valid, depth + 1)
        elif kind in INTEGERS:
            value = 1
        elif kind == "double":
            value = 1.0
        elif kind == "bool":
            value = False
        else:
            continue
        body[field] = [value] if repeated else value
    return body


def _with_hostile_strings(
    message: str, valid: dict[str, Any], hostile: str
) -> list[tuple[str, dict[str, Any]]]:
    """(field, body) for each string field of ``message`` and of the messages it holds, that
    field set to ``hostile``."""
    base = _sample(message, valid)
    variants = []
    for field, (kind, repeated) in MESSAGES[message].items():
        if kind == "string":
            variants.append((field, {**base, field: [hostile] if repeated else hostile}))
        elif kind.startswith("message:"):
            inner_message = kind[8:]
            inner = _sample(inner_message, valid, 1)
            for name, (inner_kind, inner_repeated) in MESSAGES[inner_message].items():
                if inner_kind == "string":
                    item = {**inner, name: [hostile] if inner_repeated else hostile}
                    variants.append(
                        (f"{field}.{name}", {**base, field: [item] if repeated else item})
                    )
    return variants


@pytest.mark.parametrize(
    "hostile", [LONG, NUL, SURROGATE], ids=["too-long", "nul", "lone-surrogate"]
)
def test_no_route_answers_a_hostile_string_with_a_server_error(
    make_client: Any, any_store_uri: str, hostile: str
) -> None:
    client: FlaskClient = make_client(backend_store_uri=any_store_uri)
    api = Api(client)
    valid = _valid_ids(api)
    failures = []
    tried = 0
    for (method, path), message in sorted(ROUTES.items()):
        url = "/api/2.0" + path.replace("{model_id}", valid["model_id"]).replace("{tag_key}", "k")
        for field, body in _with_hostile_strings(message, valid, hostile):
            if method == "GET" and hostile == SURROGATE:
                continue  # a URL carries bytes: it cannot hold a lone surrogate
            if method == "GET":
                query = {k: v for k, v in body.items() if not isinstance(v, dict | list)}
                response = client.open(url, method=method, query_string=query)
            else:
                response = client.open(url, method=method, json=body)
            tried += 1
            if response.status_code >= 500:
                text = response.get_data(as_text=True)[:200]
                failures.append(f"{method} {path} {field}: {response.status_code} {text}")
    assert tried > 120  # every route was reached (about 130 to 170 fields)
    assert failures == []
