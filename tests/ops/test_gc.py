"""``runyard gc`` on SQLite and PostgreSQL, with local and S3 artifacts served by the server:
what was deleted long enough ago goes for good (rows, metric points, artifacts), everything
else stays, a dry run changes nothing, and an interrupted collection resumes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from runyard.cli import main
from runyard.errors import InvalidParameterValue, ResourceDoesNotExist
from runyard.gc import artifact_location, collect, parse_age
from runyard.server.app import create_app
from runyard.store.sql import models as m

from tests.s3_server import start_s3_server

API = "/api/2.0/mlflow"
ARTIFACTS = "/api/2.0/mlflow-artifacts/artifacts"
DAY_MS = 86_400_000


@pytest.fixture(params=["sqlite", "postgres"])
def store_uri(request: pytest.FixtureRequest, tmp_path) -> str:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'gc.db'}"
    return request.getfixturevalue("postgres_uri")


@pytest.fixture(params=["local", "s3"])
def destination(request: pytest.FixtureRequest, tmp_path, monkeypatch) -> Iterator[str]:  # type: ignore[no-untyped-def]
    if request.param == "local":
        yield str(tmp_path / "artifacts")
        return
    with start_s3_server(buckets=["gc-bucket"]) as server:
        for key, value in server.env().items():
            monkeypatch.setenv(key, value)
        yield "s3://gc-bucket/served"


class Tracking:
    """The server app over the store and destination under test, driven through its API."""

    def __init__(self, store_uri: str, destination: str) -> None:
        self.app = create_app(
            {"backend_store_uri": store_uri, "artifacts_destination": destination}
        )
        self.http = self.app.test_client()
        self.store = self.app.config["RUNYARD_STORE"]
        self.series_of: dict[str, list[int]] = {}

    def post(self, endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.http.post(f"{API}/{endpoint}", json=body)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def experiment(self, name: str) -> str:
        return self.post("experiments/create", {"name": name})["experiment_id"]

    def run(self, experiment_id: str) -> str:
        run_id = self.post("runs/create", {"experiment_id": experiment_id})["run"]["info"]["run_id"]
        metrics = [{"key": "loss", "value": s / 3, "timestamp": s, "step": s} for s in range(20)]
        self.post(
            "runs/log-batch",
            {"run_id": run_id, "metrics": metrics, "params": [{"key": "lr", "value": "0.1"}]},
        )
        put = self.http.put(
            f"{ARTIFACTS}/{experiment_id}/{run_id}/artifacts/model/w.bin", data=b"weights"
        )
        assert put.status_code == 200, put.get_json()
        self.series_of[run_id] = self.series(run_id)
        return run_id

    def artifact(self, experiment_id: str, run_id: str) -> int:
        return self.http.get(
            f"{ARTIFACTS}/{experiment_id}/{run_id}/artifacts/model/w.bin"
        ).status_code

    def series(self, run_id: str) -> list[int]:
        """The ids keying a run's metric points, read while the run exists."""
        with self.store.engine.connect() as conn:
            return list(
                conn.execute(
                    sa.select(m.metric_summaries.c.series_id).where(
                        m.metric_summaries.c.run_uuid == run_id
                    )
                ).scalars()
            )

    def metric_rows(self, run_id: str) -> int:
        """Stored metric points of a run, counted by the series ids it had (so orphaned
        points left behind by a purge would show)."""
        with self.store.engine.connect() as conn:
            return conn.execute(
                sa.select(sa.func.count()).where(m.metrics.c.series_id.in_(self.series_of[run_id]))
            ).scalar()

    def exists(self, run_id: str) -> bool:
        try:
            self.store.get_run(run_id)
        except ResourceDoesNotExist:
            return False
        return True


@pytest.fixture
def tracked(store_uri: str, destination: str) -> Iterator[tuple[Tracking, dict[str, str]]]:
    tracking = Tracking(store_uri, destination)
    kept_exp = tracking.experiment("kept")
    ids = {"kept_exp": kept_exp, "gone_exp": tracking.experiment("gone")}
    ids["kept_run"] = tracking.run(kept_exp)
    ids["old_run"] = tracking.run(kept_exp)
    ids["gone_run_1"] = tracking.run(ids["gone_exp"])
    ids["gone_run_2"] = tracking.run(ids["gone_exp"])
    tracking.post("runs/delete", {"run_id": ids["old_run"]})
    tracking.post("experiments/delete", {"experiment_id": ids["gone_exp"]})
    yield tracking, ids
    tracking.store.close()


def _assert_collected(tracking: Tracking, ids: dict[str, str]) -> None:
    for run in ("old_run", "gone_run_1", "gone_run_2"):
        assert not tracking.exists(ids[run]), run
        assert tracking.metric_rows(ids[run]) == 0, run
    assert tracking.artifact(ids["kept_exp"], ids["old_run"]) == 404
    assert tracking.artifact(ids["gone_exp"], ids["gone_run_1"]) == 404
    with pytest.raises(ResourceDoesNotExist):
        tracking.store.get_experiment(ids["gone_exp"])
    # What was not deleted is untouched.
    assert tracking.exists(ids["kept_run"])
    assert tracking.metric_rows(ids["kept_run"]) == 20
    assert tracking.artifact(ids["kept_exp"], ids["kept_run"]) == 200
    assert tracking.store.get_experiment(ids["kept_exp"]).lifecycle_stage == "active"


def test_gc_removes_what_was_deleted_long_enough_ago(tracked, destination: str) -> None:  # type: ignore[no-untyped-def]
    tracking, ids = tracked
    store = tracking.store
    assert collect(store, parse_age("1d"), destination, echo=lambda _: None).runs == 0
    assert tracking.exists(ids["old_run"])

    lines: list[str] = []
    dry = collect(
        store,
        parse_age("1d"),
        destination,
        dry_run=True,
        echo=lines.append,
        now_ms=int(time.time() * 1000) + 2 * DAY_MS,
    )
    assert dry.runs == 3 and any(ids["old_run"] in line for line in lines)
    assert tracking.exists(ids["old_run"]) and tracking.metric_rows(ids["old_run"]) == 20
    assert tracking.artifact(ids["kept_exp"], ids["old_run"]) == 200

    done = collect(
        store,
        parse_age("1d"),
        destination,
        batch_size=1,
        echo=lambda _: None,
        now_ms=int(time.time() * 1000) + 2 * DAY_MS,
    )
    assert (done.runs, done.experiments) == (3, 1)
    _assert_collected(tracking, ids)


def test_an_interrupted_gc_resumes(tracked, destination: str) -> None:  # type: ignore[no-untyped-def]
    tracking, ids = tracked
    later = int(time.time() * 1000) + 2 * DAY_MS

    def interrupt(line: str) -> None:
        raise KeyboardInterrupt(line)  # after the first run's artifacts went, before its rows

    with pytest.raises(KeyboardInterrupt):
        collect(tracking.store, 0, destination, batch_size=2, echo=interrupt, now_ms=later)
    again = collect(tracking.store, 0, destination, batch_size=2, echo=lambda _: None, now_ms=later)
    assert again.runs == 3
    _assert_collected(tracking, ids)


def test_gc_command(tracked, store_uri: str, destination: str) -> None:  # type: ignore[no-untyped-def]
    tracking, ids = tracked
    time.sleep(0.01)
    runner = CliRunner()
    args = ["gc", "--backend-store-uri", store_uri, "--artifacts-destination", destination]
    dry = runner.invoke(main, [*args, "--older-than", "0s", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "Would remove 3 run(s)" in dry.output
    named = runner.invoke(
        main, [*args, "--older-than", "0s", "--dry-run", "--run-ids", f" {ids['old_run']}, "]
    )
    assert "Would remove 1 run(s) and 0 experiment(s)." in named.output, named.output
    done = runner.invoke(main, [*args, "--older-than", "0s"])
    assert done.exit_code == 0, done.output
    assert "Removed 3 run(s) and 1 experiment(s)." in done.output
    _assert_collected(tracking, ids)
    bad = runner.invoke(main, [*args, "--older-than", "soon"])
    assert bad.exit_code != 0 and "Invalid age" in bad.output


@pytest.mark.parametrize(
    ("text", "seconds"), [("30d", 2_592_000), ("1d12h", 129_600), ("90m", 5400), ("0s", 0)]
)
def test_parse_age(text: str, seconds: int) -> None:
    assert parse_age(text) == seconds


def test_gc_on_a_file_store_says_it_needs_a_database(tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(main, ["gc", "--backend-store-uri", str(tmp_path / "mlruns")])
    assert result.exit_code != 0
    assert "database store" in result.output


def test_gc_of_named_runs_and_experiments_leaves_the_others(tracked, destination: str) -> None:  # type: ignore[no-untyped-def]
    tracking, ids = tracked
    later = int(time.time() * 1000) + 2 * DAY_MS
    quiet = {"echo": lambda _: None, "now_ms": later}
    only_experiment = collect(
        tracking.store, 0, destination, experiment_ids=[ids["gone_exp"]], **quiet
    )
    assert (only_experiment.runs, only_experiment.experiments) == (2, 1)
    assert tracking.exists(ids["old_run"]), "a run of another experiment was not named"
    only_run = collect(tracking.store, 0, destination, run_ids=[ids["old_run"]], **quiet)
    assert (only_run.runs, only_run.experiments) == (1, 0)
    _assert_collected(tracking, ids)


@pytest.mark.parametrize(
    "uri",
    ["mlflow-artifacts:/../outside", "mlflow-artifacts:/1/%2e%2e/%2e%2e/x", "mlflow-artifacts:/"],
)
def test_a_stored_uri_never_points_gc_outside_the_destination(uri: str) -> None:
    with pytest.raises(InvalidParameterValue):
        artifact_location(uri, "/srv/artifacts")


def test_proxied_uris_map_under_the_destination() -> None:
    location = artifact_location("mlflow-artifacts:/3/abc/artifacts", "s3://bucket/served/")
    assert location == "s3://bucket/served/3/abc/artifacts"


def test_a_run_restored_while_gc_runs_is_kept(tracked) -> None:  # type: ignore[no-untyped-def]
    tracking, ids = tracked
    store = tracking.store
    listed = [run.id for run in store.deleted_runs(int(time.time() * 1000) + DAY_MS, 100)]
    assert ids["old_run"] in listed
    tracking.post("runs/restore", {"run_id": ids["old_run"]})
    assert store.purge_runs(listed) == len(listed) - 1
    assert tracking.exists(ids["old_run"]) and tracking.metric_rows(ids["old_run"]) == 20
