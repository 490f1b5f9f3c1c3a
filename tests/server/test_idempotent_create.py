"""A replayed ``runs/create`` (same ``Idempotency-Key``) returns the first run, never a second one:
on every store, across two gunicorn workers, and for runyard's own client after a lost reply."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from runyard.http import HttpClient
from runyard.idempotency import IDEMPOTENCY_HEADER
from runyard.store.rest import RestStore

from tests.live_server import start_live_server
from tests.server.conftest import Api

CREATE = "/api/2.0/mlflow/runs/create"


def _run_ids(api: Api, experiment_id: str) -> list[str]:
    body = {"experiment_ids": [experiment_id], "max_results": 100}
    return sorted(r["info"]["run_id"] for r in api.ok_post("runs/search", body).get("runs", []))


def test_same_key_same_run_on_every_store(make_client, any_store_uri: str) -> None:
    client = make_client(backend_store_uri=any_store_uri)
    api = Api(client)
    experiment_id = api.ok_post("experiments/create", {"name": "idem"})["experiment_id"]
    body = {"experiment_id": experiment_id, "run_name": "first", "start_time": 1}
    headers = {IDEMPOTENCY_HEADER: "key-0123456789"}
    first = client.post(CREATE, json=body, headers=headers).get_json()["run"]
    replay = client.post(CREATE, json={**body, "run_name": "x"}, headers=headers)
    assert replay.status_code == 200
    assert replay.get_json()["run"] == first
    other = client.post(CREATE, json=body, headers={IDEMPOTENCY_HEADER: "key-other-123"})
    plain = [client.post(CREATE, json=body).get_json()["run"] for _ in range(2)]
    ids = {first["info"]["run_id"], other.get_json()["run"]["info"]["run_id"]}
    ids |= {run["info"]["run_id"] for run in plain}
    assert len(ids) == 4  # a new key, or no key (the plain mlflow client), makes a new run
    assert _run_ids(api, experiment_id) == sorted(ids)


def test_a_malformed_key_is_400(make_client) -> None:
    response = make_client().post(
        CREATE, json={"experiment_id": "0"}, headers={IDEMPOTENCY_HEADER: "bad key!"}
    )
    assert response.status_code == 400 and IDEMPOTENCY_HEADER in response.get_json()["message"]


@pytest.mark.parametrize("backend", ["file", "sqlite", "postgres"])
def test_concurrent_replays_across_two_workers_make_one_run(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    uri = {
        "file": lambda: str(tmp_path / "mlruns"),
        "sqlite": lambda: f"sqlite:///{tmp_path / 'db.sqlite'}",
        "postgres": lambda: request.getfixturevalue("postgres_uri"),
    }[backend]()
    with start_live_server(uri, workers=2) as server:
        session = requests.Session()
        experiment_id = session.post(
            f"{server.url}/api/2.0/mlflow/experiments/create", json={"name": "race"}, timeout=30
        ).json()["experiment_id"]

        def create(_: int) -> dict[str, Any]:
            response = requests.post(
                server.url + CREATE,
                json={"experiment_id": experiment_id, "start_time": 5},
                headers={IDEMPOTENCY_HEADER: "replayed-key-42"},
                timeout=60,
            )
            assert response.status_code == 200, response.text
            return response.json()["run"]["info"]

        with ThreadPoolExecutor(max_workers=8) as pool:
            infos = list(pool.map(create, range(16)))
        assert len({info["run_id"] for info in infos}) == 1
        found = session.post(
            f"{server.url}/api/2.0/mlflow/runs/search",
            json={"experiment_ids": [experiment_id]},
            timeout=30,
        ).json()
        assert len(found["runs"]) == 1


class _LosesFirstCreateReply(requests.Session):
    """Delivers every request; the reply to the first ``runs/create`` is lost on the way back,
    as when a proxy or a network drops a connection after the server did the work."""

    def __init__(self) -> None:
        super().__init__()
        self.keys: list[str] = []

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        response = super().request(method, url, *args, **kwargs)
        if url.endswith("/runs/create"):
            self.keys.append(kwargs["headers"][IDEMPOTENCY_HEADER])
            if len(self.keys) == 1:
                raise requests.ConnectionError("connection reset before the reply arrived")
        return response


def test_runyard_client_replays_a_lost_create_without_a_second_run(tmp_path: Path) -> None:
    with start_live_server(f"sqlite:///{tmp_path / 'db.sqlite'}") as server:
        session = _LosesFirstCreateReply()
        store = RestStore(server.url, HttpClient(server.url, session=session, sleep=lambda _: None))
        run = store.create_run("0", "me", 1)
        assert len(session.keys) == 2 and session.keys[0] == session.keys[1]
        runs = store.search_runs(["0"])
        assert [r.info.run_id for r in runs] == [run.info.run_id]
        second = store.create_run("0", "me", 2)  # a new call is a new key: a new run
        assert second.info.run_id != run.info.run_id and session.keys[2] != session.keys[0]
