"""Every accounts route (users, roles, grants, tokens, MLflow's permission routes), each field
it reads given a hostile value in turn, the rest valid, as an administrator: the answer is a
4xx, never a 5xx, on every database the accounts can live in.

These routes have no MLflow request schema, so nothing checked their fields' types on the way
in: a JSON ``\\ud800`` escape (a lone surrogate) reached the database driver and came back as
500 on PostgreSQL, an id past 64 bits did on SQLite, and so did a token lifetime too long for a
date."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.server.test_auth import ADMIN, auth_app, basic

#: Every field an accounts route reads (``param(fields, ...)``, ``fields.get(...)``).
FIELDS = (
    "current_password",
    "description",
    "expires_in",
    "is_admin",
    "name",
    "password",
    "permission",
    "resource_id",
    "resource_pattern",
    "resource_type",
    "role_id",
    "role_permission_id",
    "username",
    "workspace",
)
HOSTILE = {
    "too-long": "x" * 70_000,
    "nul": "a\x00b",
    "lone-surrogate": "a\ud800b",
    "negative": "-1",
    "past-64-bits": "99999999999999999999999",
}
ACCOUNT_PATHS = ("/users", "/roles", "/tokens", "/permissions")


@pytest.fixture(params=["sqlite", "postgres"])
def accounts_backend(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'runyard.db'}"
    return str(request.getfixturevalue("postgres_uri"))


def test_no_accounts_route_answers_a_hostile_value_with_a_server_error(
    accounts_backend: str, tmp_path: Path
) -> None:
    with auth_app(accounts_backend, tmp_path) as app:
        client = app.test_client()
        admin = basic(ADMIN)
        created = client.post(
            "/api/3.0/mlflow/roles/create",
            json={"name": "r1", "workspace": "default", "description": "d"},
            headers=admin,
        )
        assert created.status_code == 200, created.get_json()
        role_id = created.get_json()["role"]["id"]
        valid: dict[str, Any] = {
            "username": "alice",
            "password": "new-password-123",
            "current_password": "alice-password-1",
            "description": "d",
            "expires_in": "30d",
            "is_admin": False,
            "name": "tok",
            "permission": "READ",
            "resource_id": "0",
            "resource_pattern": "*",
            "resource_type": "experiment",
            "role_id": role_id,
            "role_permission_id": 1,
            "workspace": "default",
        }
        rules = [
            rule
            for rule in app.url_map.iter_rules()
            if rule.rule.startswith("/api/") and any(p in rule.rule for p in ACCOUNT_PATHS)
        ]
        failures, tried = [], 0
        for rule in rules:
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                for field in FIELDS:
                    for kind, value in HOSTILE.items():
                        body = {**valid, field: value}
                        if method in ("GET", "DELETE"):
                            if kind == "lone-surrogate":
                                continue  # a URL carries bytes: it cannot hold one
                            query = {k: str(v) for k, v in body.items()}
                            answer = client.open(
                                rule.rule, method=method, query_string=query, headers=admin
                            )
                        else:
                            answer = client.open(rule.rule, method=method, json=body, headers=admin)
                        tried += 1
                        if answer.status_code >= 500:
                            failures.append(f"{method} {rule.rule} {field}={kind}")
    assert len(rules) > 20 and tried > 1000  # every accounts route was reached
    assert failures == []


def test_a_lone_surrogate_is_refused_by_the_field_that_holds_it(tmp_path: Path) -> None:
    with auth_app(f"sqlite:///{tmp_path / 'runyard.db'}", tmp_path) as app:
        client = app.test_client()
        answer = client.post(
            "/api/2.0/mlflow/users/create",
            data='{"username": "carol", "password": "pw-long-enough-1", '
            '"x": {"y": ["ok", "\\ud800"]}}',
            content_type="application/json",
            headers=basic(ADMIN),
        )
        assert answer.status_code == 400
        assert "x.y[1]" in answer.get_json()["message"]
        assert "lone surrogate" in answer.get_json()["message"]
        paired = client.post(  # an escaped pair is a character like any other
            "/api/3.0/mlflow/roles/create",
            data='{"name": "r2", "workspace": "default", "description": "ok \\ud83d\\ude00"}',
            content_type="application/json",
            headers=basic(ADMIN),
        )
        assert paired.status_code == 200, paired.get_json()
        assert paired.get_json()["role"]["description"] == "ok \U0001f600"
