"""Walk every route of the app with bad requests: none may answer 5xx.

Clients retry a 5xx for minutes, so a malformed body, a wrong type or an oversized value must be
a 4xx. The routes come from the app's own URL map, so a new endpoint is walked without a new line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from runyard.server.app import create_app
from runyard.wire_schema import MESSAGES

FIELD_NAMES = sorted({field for fields in MESSAGES.values() for field in fields})
HUGE_STRING = "x" * 1_100_000
PATH_VALUES = ("x-1", "..%2F..%2Fetc%2Fpasswd", "%00", "a" * 5000)

#: Raw bodies that are not what any endpoint expects.
RAW_BODIES: list[bytes] = [
    b"{",
    b"[1, 2]",
    b'"text"',
    b"null",
    b"\xff\xfe\x00",
    b"[" * 100_000 + b"]" * 100_000,
    b'{"a": ' * 50_000 + b"1" + b"}" * 50_000,
    json.dumps({"run_id": HUGE_STRING}).encode(),
]


def _json_bodies() -> Iterator[dict[str, Any]]:
    """Every known field name with values of every wrong shape and size."""
    for value in (123, -(2**70), 1.5e308, True, None, "NaN", [], {}, [{}], HUGE_STRING[:300_000]):
        yield dict.fromkeys(FIELD_NAMES, value)
    yield {"metrics": [{"key": "k", "value": 1, "timestamp": 1}] * 5000}
    yield {"experiment_ids": [str(i) for i in range(20_000)]}


JSON_BODIES = list(_json_bodies())


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("walk")
    app = create_app(
        {
            "backend_store_uri": f"sqlite:///{tmp / 'db.sqlite'}",
            "artifacts_destination": str(tmp / "artifacts"),
        }
    )
    yield app
    app.config["RUNYARD_STORE"].close()


def _urls(rule: str) -> Iterator[str]:
    if "<" not in rule:
        yield rule
        return
    for value in PATH_VALUES:
        yield re.sub(r"<(?:\w+:)?\w+>", value, rule)


def _routes(app) -> list[tuple[str, str]]:
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.extend((method, url) for url in _urls(rule.rule))
    return routes


def test_no_route_answers_5xx_to_bad_requests(app) -> None:
    client = app.test_client()
    routes = _routes(app)
    assert len(routes) > 100
    failures = []
    for method, url in routes:
        attempts: list[dict[str, Any]] = [
            {"data": raw, "content_type": "application/json"} for raw in RAW_BODIES
        ]
        attempts += [{"json": body} for body in JSON_BODIES]
        attempts.append({"query_string": dict.fromkeys(FIELD_NAMES, "x" * 2000)})
        attempts.append({"query_string": {"max_results": "9" * 400, "run_id": ["a", "b"]}})
        for attempt in attempts:
            response = client.open(url, method=method, **attempt)
            if response.status_code >= 500:
                shown = {k: str(v)[:80] for k, v in attempt.items()}
                failures.append((method, url, shown, response.status_code, response.data[:200]))
    assert not failures, sorted({(m, u[:80], s) for m, u, _, s, _ in failures})[:20]
