"""Server fixtures: a Flask test client over a file store and over SQLite."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from runyard.server.app import create_app


@pytest.fixture(params=["file", "sqlite"])
def store_uri(request: pytest.FixtureRequest, tmp_path) -> str:
    if request.param == "file":
        return str(tmp_path / "mlruns")
    return f"sqlite:///{tmp_path / 'runyard.db'}"


@pytest.fixture(params=["file", "sqlite", "postgres"])
def any_store_uri(request: pytest.FixtureRequest, tmp_path) -> str:
    """Every store kind, PostgreSQL included (skipped where none is running)."""
    if request.param == "file":
        return str(tmp_path / "mlruns")
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'runyard.db'}"
    return request.getfixturevalue("postgres_uri")


@pytest.fixture
def make_client(tmp_path) -> Iterator[Callable[..., FlaskClient]]:
    """Build a test client with server settings overridden by keyword."""
    apps = []

    def make(**settings: Any) -> FlaskClient:
        settings.setdefault("backend_store_uri", str(tmp_path / "mlruns"))
        settings.setdefault("artifacts_destination", str(tmp_path / "mlartifacts"))
        app = create_app(settings)
        apps.append(app)
        return app.test_client()

    yield make
    for app in apps:
        app.config["RUNYARD_STORE"].close()


@pytest.fixture
def client(make_client, store_uri) -> FlaskClient:
    return make_client(backend_store_uri=store_uri)


class Api:
    """Thin helper: POST/GET a tracking endpoint and return (status, json)."""

    def __init__(self, client: FlaskClient, prefix: str = "/api/2.0/mlflow") -> None:
        self.client = client
        self.prefix = prefix

    def post(self, path: str, body: dict | None = None, **kwargs: Any) -> tuple[int, dict]:
        response = self.client.post(f"{self.prefix}/{path}", json=body or {}, **kwargs)
        return response.status_code, response.get_json()

    def get(self, path: str, /, **query: Any) -> tuple[int, dict]:
        response = self.client.get(f"{self.prefix}/{path}", query_string=query)
        return response.status_code, response.get_json()

    def ok_post(self, path: str, body: dict | None = None) -> dict:
        status, data = self.post(path, body)
        assert status == 200, data
        return data

    def ok_get(self, path: str, /, **query: Any) -> dict:
        status, data = self.get(path, **query)
        assert status == 200, data
        return data

    def new_run(self, experiment_id: str = "0", **fields: Any) -> str:
        body = {"experiment_id": experiment_id, "start_time": 1000, **fields}
        return self.ok_post("runs/create", body)["run"]["info"]["run_id"]


@pytest.fixture
def api(client) -> Api:
    return Api(client)
