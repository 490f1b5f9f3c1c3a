"""``runyard import`` of deployments the real mlflow client wrote: ids kept, whole histories,
verification, resumable and idempotent, dry run, unknown schemas refused."""

from __future__ import annotations

import shutil
import sqlite3

import pytest
from click.testing import CliRunner
from runyard.cli import main
from runyard.entities import LifecycleStage
from runyard.importer import run_import
from runyard.importer.cli import open_source, open_target
from runyard.importer.records import ImportRefused
from runyard.store import store_for_uri

from tests.importer.conftest import Deployment
from tests.postgres import fresh_postgres_database


def _import(source_uri: str, target_uri: str, **options):
    source, target = open_source(source_uri), open_target(target_uri)
    try:
        return run_import(source, target, progress=False, echo=lambda _: None, **options)
    finally:
        source.close()
        target.store.close()


def _assert_moved(deployment: Deployment, target_uri: str, *, model_links: bool = True) -> None:
    ids = deployment.ids
    store = store_for_uri(target_uri)
    try:
        experiment = store.get_experiment(ids["experiment_id"])
        assert (experiment.name, dict(experiment.tags)) == ("moved", {"team": "vision"})
        gone = store.get_experiment(ids["gone_id"])
        assert gone.lifecycle_stage == LifecycleStage.DELETED
        first = store.get_run(ids["first"])
        assert first.info.experiment_id == ids["experiment_id"]
        assert first.info.run_name == "first"
        assert dict(first.data.params) == {"lr": "0.1", "layers": "3"}
        assert first.data.tags["stage"] == "dev"
        assert first.data.metrics["loss"] == pytest.approx(0.2)
        assert [m.step for m in store.get_metric_history(ids["first"], "loss")] == list(range(5))
        (dataset,) = first.inputs.dataset_inputs
        assert dataset.dataset.name == "train-set"
        assert dataset.tags == {"mlflow.data.context": "training"}
        history = []
        token = None
        while True:
            page = store.get_metric_history(ids["long"], "curve", 25_000, token)
            history += page
            token = page.token
            if not token:
                break
        assert len(history) == deployment.long_points
        assert [m.step for m in history[:3]] == [0, 1, 2]
        assert store.get_run(ids["deleted"]).info.lifecycle_stage == LifecycleStage.DELETED
        if model_links:
            assert store.get_logged_model(ids["model_id"]).name == "net"
        _assert_registry_moved(store, ids)
    finally:
        store.close()


def _assert_registry_moved(store, ids: dict[str, str]) -> None:
    model = store.get_registered_model("clf")
    assert (model.description, dict(model.tags), dict(model.aliases)) == (
        "a classifier",
        {"team": "vision"},
        {"champion": 2},
    )
    first, second = store.get_model_version("clf", 1), store.get_model_version("clf", 2)
    assert (first.source, first.run_id, first.current_stage) == (
        f"runs:/{ids['first']}/model",
        ids["first"],
        "Production",
    )
    assert (first.description, dict(first.tags)) == ("first", {"v": "1"})
    assert second.source == f"models:/{ids['model_id']}"
    assert (dict(second.tags), second.aliases) == ({"checked": "yes"}, ("champion",))
    assert sorted(mv.version for mv in store.search_model_versions("name = 'clf'")) == [1, 2]
    assert store.get_registered_model("empty").name == "empty"


@pytest.mark.slow
def test_sqlite_database_moves_and_verifies(mlflow_sqlite: Deployment, tmp_path) -> None:
    target = f"sqlite:///{tmp_path / 'runyard.db'}"
    report = _import(mlflow_sqlite.uri, target)
    assert report.differences == {}
    assert (report.experiments, report.runs, report.logged_models) == (3, 4, 1)
    assert (report.registered_models, report.model_versions) == (2, 3)
    assert report.points == mlflow_sqlite.long_points + 6
    _assert_moved(mlflow_sqlite, target)

    again = _import(mlflow_sqlite.uri, target)  # idempotent: nothing new, nothing doubled
    assert (again.runs_skipped, again.points, again.differences) == (4, 0, {})
    _assert_moved(mlflow_sqlite, target)
    store = store_for_uri(target)
    try:  # the deleted version 3 moved too, so its number is not given again
        new = store.create_model_version("clf", f"runs:/{mlflow_sqlite.ids['first']}/new")
        assert new.version == 4
    finally:
        store.close()


@pytest.mark.slow
def test_copy_artifacts_moves_files_and_uris(mlflow_sqlite: Deployment, tmp_path) -> None:
    from runyard.artifacts import repo_for_uri
    from runyard.importer.artifacts import ArtifactCopier

    new_root = (tmp_path / "new-artifacts").as_uri()
    target = f"sqlite:///{tmp_path / 'runyard.db'}"
    report = _import(mlflow_sqlite.uri, target, copier=ArtifactCopier(new_root))
    assert report.differences == {}
    store = store_for_uri(target)
    try:
        ids = mlflow_sqlite.ids
        run = store.get_run(ids["first"])
        assert (
            run.info.artifact_uri == f"{new_root}/{ids['experiment_id']}/{ids['first']}/artifacts"
        )
        files = b"".join(repo_for_uri(run.info.artifact_uri).open_stream("notes/a.txt"))
        assert files == b"hello"
        experiment = store.get_experiment(ids["experiment_id"])
        assert experiment.artifact_location == f"{new_root}/{ids['experiment_id']}"
        model = store.get_logged_model(ids["model_id"])
        assert model.artifact_location.startswith(new_root)
    finally:
        store.close()


@pytest.mark.slow
def test_import_killed_halfway_finishes_on_the_next_run(
    mlflow_sqlite: Deployment, tmp_path, monkeypatch
) -> None:
    from runyard.importer.target_sql import SqlTarget

    target = f"sqlite:///{tmp_path / 'runyard.db'}"
    original = SqlTarget.put_run
    calls = []

    def dies_on_the_long_run(self, record, points):
        calls.append(record.info.run_id)
        if record.info.run_id == mlflow_sqlite.ids["long"]:
            next(iter(points))
            raise KeyboardInterrupt  # as if killed while writing the history
        return original(self, record, points)

    monkeypatch.setattr(SqlTarget, "put_run", dies_on_the_long_run)
    with pytest.raises(KeyboardInterrupt):
        _import(mlflow_sqlite.uri, target)
    monkeypatch.setattr(SqlTarget, "put_run", original)
    report = _import(mlflow_sqlite.uri, target)
    assert report.differences == {}
    assert report.runs_skipped == calls.index(mlflow_sqlite.ids["long"])
    _assert_moved(mlflow_sqlite, target)


@pytest.mark.slow
def test_dry_run_counts_and_writes_nothing(mlflow_sqlite: Deployment, tmp_path) -> None:
    target = tmp_path / "runyard.db"
    result = CliRunner().invoke(
        main,
        [
            "import",
            "--from",
            mlflow_sqlite.uri,
            "--to",
            f"sqlite:///{target}",
            "--dry-run",
            "--no-progress",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "would import: 3 experiments, 1 logged models, 4 runs" in result.output
    assert f"{mlflow_sqlite.long_points + 6} metric points" in result.output
    assert not target.exists()


@pytest.mark.slow
def test_cli_imports_and_prints_verification(mlflow_sqlite: Deployment, tmp_path) -> None:
    target = f"sqlite:///{tmp_path / 'runyard.db'}"
    result = CliRunner().invoke(
        main, ["import", "--from", mlflow_sqlite.uri, "--to", target, "--no-progress"]
    )
    assert result.exit_code == 0, result.output
    assert "verification: all 4 runs match" in result.output


@pytest.mark.slow
def test_unknown_mlflow_schema_is_refused_by_name(mlflow_sqlite: Deployment, tmp_path) -> None:
    copy = tmp_path / "future.db"
    shutil.copy(mlflow_sqlite.uri.removeprefix("sqlite:///"), copy)
    with sqlite3.connect(copy) as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'ffff00001111'")
    with pytest.raises(ImportRefused, match="'ffff00001111'"):
        _import(f"sqlite:///{copy}", f"sqlite:///{tmp_path / 'runyard.db'}")


@pytest.mark.slow
def test_runyard_refuses_to_serve_an_mlflow_database(mlflow_sqlite: Deployment, tmp_path):
    from runyard.store.sql.migrate import refuse_unknown_schema

    copy = tmp_path / "mlflow.db"
    shutil.copy(mlflow_sqlite.uri.removeprefix("sqlite:///"), copy)
    with pytest.raises(Exception, match=r"MLflow.s schema .*runyard import --from"):
        refuse_unknown_schema(f"sqlite:///{copy}")
    with pytest.raises(Exception, match="MLflow's schema"):
        store_for_uri(f"sqlite:///{copy}")


@pytest.mark.slow
def test_file_store_moves_to_sqlite(mlflow_files: Deployment, tmp_path) -> None:
    target = f"sqlite:///{tmp_path / 'runyard.db'}"
    report = _import(mlflow_files.uri, target)
    assert report.differences == {}
    assert report.runs == 4
    _assert_moved(mlflow_files, target)


@pytest.mark.slow
def test_postgres_database_moves_to_postgres(mlflow_postgres: Deployment) -> None:
    with fresh_postgres_database() as target:
        report = _import(mlflow_postgres.uri, target)
        assert report.differences == {}
        _assert_moved(mlflow_postgres, target)
        store = store_for_uri(target)
        try:  # the id sequence moved past the imported ids
            assert int(store.create_experiment("after-import")) > 2
        finally:
            store.close()


@pytest.mark.slow
def test_rest_api_source(mlflow_sqlite: Deployment, tmp_path) -> None:
    from tests.mlflow_server import start_mlflow_server

    copy = tmp_path / "served.db"
    shutil.copy(mlflow_sqlite.uri.removeprefix("sqlite:///"), copy)
    target = f"sqlite:///{tmp_path / 'runyard.db'}"
    with start_mlflow_server(tmp_path, f"sqlite:///{copy}") as url:
        report = _import(url, target)
    assert report.differences == {}
    assert report.runs == 4
    _assert_moved(mlflow_sqlite, target)


@pytest.mark.slow
def test_mlflow_server_to_runyard_server(mlflow_sqlite: Deployment, tmp_path, monkeypatch) -> None:
    """Both ends over HTTP: a real ``mlflow server`` read through MLflow's REST API, a real
    ``runyard server`` written through its import routes; stopped in the middle of the
    100,000-point history, the next run finishes it."""
    from runyard.importer.target_rest import RestTarget

    from tests.live_server import start_live_server
    from tests.mlflow_server import start_mlflow_server

    copy = tmp_path / "served.db"
    shutil.copy(mlflow_sqlite.uri.removeprefix("sqlite:///"), copy)
    runyard_db = f"sqlite:///{tmp_path / 'runyard.db'}"
    original = RestTarget._post
    sent = []

    def dies_in_the_long_history(self, path, body):
        sent.append(path)
        if path == "runs/points" and sent.count(path) == 3:
            raise KeyboardInterrupt  # as if killed between two parts of the history
        return original(self, path, body)

    with (
        start_mlflow_server(tmp_path, f"sqlite:///{copy}") as source,
        start_live_server(runyard_db) as target,
    ):
        monkeypatch.setattr(RestTarget, "_post", dies_in_the_long_history)
        with pytest.raises(KeyboardInterrupt):
            _import(source, target.url)
        monkeypatch.setattr(RestTarget, "_post", original)
        report = _import(source, target.url)
        assert report.differences == {}
        assert report.runs == 4 and report.runs_skipped >= 1
        assert (report.registered_models, report.model_versions) == (2, 2)  # v3 was deleted
        again = _import(source, target.url)
        assert (again.runs_skipped, again.points, again.differences) == (4, 0, {})
    _assert_moved(mlflow_sqlite, runyard_db)


def test_import_routes_refuse_a_file_store(tmp_path) -> None:
    from runyard.server.app import create_app

    app = create_app({"backend_store_uri": str(tmp_path / "mlruns")})
    reply = app.test_client().post(
        "/api/2.0/runyard/import/experiments",
        json={"experiment": {"experiment_id": "7", "name": "x"}},
    )
    assert reply.status_code == 400
    assert "not an SQL database" in reply.get_json()["message"]


def test_import_routes_are_for_administrators(tmp_path) -> None:
    from tests.server.test_auth import ADMIN, ALICE, auth_app, basic

    body = {"experiment": {"experiment_id": "7", "name": "kept-id"}}
    path = "/api/2.0/runyard/import/experiments"
    with auth_app(f"sqlite:///{tmp_path / 'runyard.db'}", tmp_path) as app:
        client = app.test_client()
        assert client.post(path, json=body).status_code == 401
        assert client.post(path, json=body, headers=basic(ALICE)).status_code == 403
        assert client.post(path, json=body, headers=basic(ADMIN)).status_code == 200
        assert app.config["RUNYARD_STORE"].get_experiment("7").name == "kept-id"


_RUN = "b" * 32
_INFO = {"run_id": _RUN, "experiment_id": "7", "status": "FINISHED", "start_time": 1}

#: path, body, status, what the message says. Each would have been stored, or answered 500.
_REFUSED = [
    ("experiments", {"experiment": {}}, 400, "missing field 'experiment_id'"),
    (
        "experiments",
        {"experiment": {"experiment_id": "x", "name": "n"}},
        400,
        "Invalid experiment ID",
    ),
    ("experiments", {"experiment": {"experiment_id": "9" * 20, "name": "n"}}, 400, "too large"),
    ("experiments", {"experiment": {"experiment_id": "8", "name": ""}}, 400, "'name'"),
    (
        "experiments",
        {"experiment": {"experiment_id": "8", "name": "n", "lifecycle_stage": "gone"}},
        400,
        "'gone'",
    ),
    (
        "runs/begin",
        {"run": {"info": {**_INFO, "experiment_id": "99"}}},
        404,
        "Experiment 99 is not in the target",
    ),
    ("runs/begin", {"run": {"info": {**_INFO, "run_id": "../../etc"}}}, 400, "Invalid run ID"),
    ("runs/begin", {"run": {"info": {**_INFO, "run_id": "c" * 33}}}, 400, "longer than 32"),
    (
        "runs/begin",
        {"run": {"info": _INFO, "data": {"params": [{"key": "a\\b", "value": "1"}]}}},
        400,
        "param key",
    ),
    (
        "runs/points",
        {"run_id": "d" * 32, "metrics": [{"key": "m", "value": 1, "timestamp": 1, "step": 0}]},
        404,
        "begin the run first",
    ),
    ("runs/finish", {"run": {"info": {**_INFO, "run_id": "d" * 32}}}, 404, "begin the run first"),
    (
        "registered-models",
        {"registered_model": {"name": "m"}, "versions": [{"name": "m", "version": "x"}]},
        400,
        "'x'",
    ),
    (
        "registered-models",
        {"registered_model": {"name": "m"}, "versions": [{"name": "o", "version": "1"}]},
        400,
        "names model 'o'",
    ),
    (
        "registered-models",
        {"registered_model": {"name": "m"}, "versions": "x"},
        400,
        "Invalid registered model",
    ),
    ("registered-models", {"registered_model": {"name": "a/b"}}, 400, "Invalid model name"),
]


@pytest.mark.parametrize(("path", "body", "status", "says"), _REFUSED)
def test_import_routes_refuse_a_bad_record_whole(tmp_path, path, body, status, says) -> None:
    """The routes write past the API's own checks, so they hold each record to them: a bad one
    gets a 4xx that names it, and nothing of it is stored."""
    from runyard.entities import ViewType
    from runyard.server.app import create_app

    app = create_app({"backend_store_uri": f"sqlite:///{tmp_path / 'runyard.db'}"})
    client = app.test_client()
    base = "/api/2.0/runyard/import/"
    kept = {"experiment": {"experiment_id": "7", "name": "kept"}}
    assert client.post(base + "experiments", json=kept).status_code == 200
    reply = client.post(base + path, json=body)
    assert (reply.status_code, says in reply.get_json()["message"]) == (status, True), reply.json
    store = app.config["RUNYARD_STORE"]
    assert sorted(e.experiment_id for e in store.search_experiments(view_type=ViewType.ALL)) == [
        "0",
        "7",
    ]
    assert store.search_runs(["7"], run_view_type=ViewType.ALL) == []
    assert store.search_registered_models() == []


def test_a_run_with_a_bad_point_is_not_imported_at_all(tmp_path) -> None:
    """A database import writes a run and its history in one transaction: a point the store
    would refuse leaves no part of the run behind."""
    from runyard.entities import Experiment, Metric, RunInfo, RunStatus, ViewType
    from runyard.errors import InvalidParameterValue
    from runyard.importer.records import RunRecord
    from runyard.importer.target_sql import SqlTarget
    from runyard.store.sql import SqlStore

    target = SqlTarget(SqlStore(f"sqlite:///{tmp_path / 'runyard.db'}", str(tmp_path / "a")))
    try:
        target.put_experiment(Experiment("7", "kept", "file:///tmp/a"))
        info = RunInfo(_RUN, "7", "r", "u", RunStatus.FINISHED, 1, 2, "file:///tmp/a/r")
        points = [Metric("loss", 0.5, 1, 0), Metric("bad\\key", 0.4, 2, 1)]
        with pytest.raises(InvalidParameterValue, match="bad"):
            target.put_run(RunRecord(info, {"p": "1"}), points)
        assert target.store.search_runs(["7"], run_view_type=ViewType.ALL) == []
    finally:
        target.close()
