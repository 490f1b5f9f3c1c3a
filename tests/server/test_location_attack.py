"""The artifact-location hole: an experiment pointed at ``<root>/%2e%2e/…/etc#`` must never let a
client read or write outside the allowed roots, on every store, with and without the proxy."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa
from runyard.errors import InvalidParameterValue
from runyard.tracking.client import Client

from tests.server.conftest import Api

UP = "/%2e%2e" * 12


def _attacks(root: Path) -> list[str]:
    return [
        f"file://{root}{UP}/etc#",
        f"file://{root}/..%2f..%2f..%2f..%2f..%2f..%2f..%2f..%2fetc?",
        f"file://{root}{UP.replace('%2e', '%252e')}/etc",
        f"file://{root}/\uff0e\uff0e/\uff0e\uff0e/\uff0e\uff0e/etc",
        f"{root}/../../../../../../../../etc",
        "mlflow-artifacts:/x#/../../..",
        "mlflow-artifacts://evil.example/x",
        f"file://{root}/a;b",
    ]


@pytest.mark.parametrize("serve", [True, False])
def test_three_step_attack_stops_at_step_one(
    make_client, any_store_uri: str, tmp_path: Path, serve: bool
) -> None:
    root = tmp_path / ("mlartifacts" if serve else "root")
    settings = {"backend_store_uri": any_store_uri, "serve_artifacts": str(serve).lower()}
    if not serve:
        settings["default_artifact_root"] = str(root)
    client = make_client(**settings)
    api = Api(client)
    for n, location in enumerate(_attacks(root)):
        status, body = api.post(
            "experiments/create", {"name": f"x{n}", "artifact_location": location}
        )
        assert status == 400, (location, body)
        assert body["error_code"] == "INVALID_PARAMETER_VALUE"
    status, body = api.post(
        "experiments/create", {"name": "long", "artifact_location": f"{root}/{'a' * 2100}"}
    )
    assert status == 400 and "longer than" in body["message"]
    inside = api.ok_post("experiments/create", {"name": "ok", "artifact_location": f"{root}/a"})
    run_id = api.new_run(inside["experiment_id"])
    assert api.ok_get("artifacts/list", run_id=run_id)["root_uri"].startswith(f"file://{root}/a/")


def test_allowed_artifact_locations_adds_roots(make_client, tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    api = Api(make_client(allowed_artifact_locations=f"s3://team-bucket/*,file:{shared}/*"))
    for location in ("s3://team-bucket/exp", f"file://{shared}/exp"):
        assert api.ok_post("experiments/create", {"name": location, "artifact_location": location})
    for location in ("s3://other-bucket/exp", f"file://{shared}/{UP}/etc", str(tmp_path)):
        status, _ = api.post(
            "experiments/create", {"name": location, "artifact_location": location}
        )
        assert status == 400, location


def test_file_server_roots_follow_the_same_rules(make_client, tmp_path: Path) -> None:
    """An ``sftp://`` default artifact root is an allowed root; other file-server locations
    need ``--allowed-artifact-locations``; a password never reaches the store or an error."""
    api = Api(
        make_client(
            backend_store_uri=f"sqlite:///{tmp_path / 'db.sqlite'}",
            default_artifact_root="sftp://ml@files.internal/srv/ml",
            allowed_artifact_locations="ftps://ci@ftp.internal/ci/*",
        )
    )
    chosen = {
        "sftp://ml:hunter2@files.internal/srv/ml/a": "sftp://ml@files.internal/srv/ml/a",
        "ftps://ci@ftp.internal/ci/b": "ftps://ci@ftp.internal/ci/b",
    }
    for name, (location, stored) in enumerate(chosen.items()):
        created = api.ok_post(
            "experiments/create", {"name": f"e{name}", "artifact_location": location}
        )
        got = api.ok_get("experiments/get", experiment_id=created["experiment_id"])
        assert got["experiment"]["artifact_location"] == stored
    default = api.ok_post("experiments/create", {"name": "default"})
    got = api.ok_get("experiments/get", experiment_id=default["experiment_id"])
    assert got["experiment"]["artifact_location"].startswith("sftp://ml@files.internal/srv/ml/")
    for location in (
        "sftp://ml:hunter2@files.internal/srv/other",
        "sftp://root@files.internal/srv/ml/a",
        "sftp://ml@files.internal/srv/ml/%2e%2e/etc",
        "ftp://ci@ftp.internal/ci/b",
        "hdfs://namenode/ml",
    ):
        status, body = api.post(
            "experiments/create", {"name": location, "artifact_location": location}
        )
        assert status == 400, location
        assert "hunter2" not in body["message"]
    status, body = api.post(
        "experiments/create", {"name": "azure", "artifact_location": "wasbs://c@acct/ml"}
    )
    assert status == 400 and "not supported yet" in body["message"]


@pytest.mark.parametrize("pattern", ["s3://*/runs", "file:///data/%2e%2e/x", "gopher://host/x"])
def test_a_bad_allowed_location_stops_the_server_at_start(make_client, pattern: str) -> None:
    with pytest.raises(InvalidParameterValue):
        make_client(allowed_artifact_locations=pattern)


def _plant(store_uri: str, experiment_id: str, location: str) -> None:
    """What a database written before locations were canonicalised may hold."""
    engine = sa.create_engine(store_uri)
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE experiments SET artifact_location = :l WHERE experiment_id = :e"),
            {"l": location, "e": int(experiment_id)},
        )
        conn.execute(
            sa.text("UPDATE runs SET artifact_uri = :u WHERE experiment_id = :e"),
            {"u": f"{location}/r/artifacts", "e": int(experiment_id)},
        )
    engine.dispose()


@pytest.mark.parametrize("serve", [True, False])
def test_a_stored_location_no_longer_allowed_is_refused_on_use(
    make_client, tmp_path: Path, serve: bool
) -> None:
    store_uri = f"sqlite:///{tmp_path / 'old.db'}"
    root = tmp_path / "mlartifacts"
    client = make_client(
        backend_store_uri=store_uri,
        serve_artifacts=str(serve).lower(),
        default_artifact_root=None if serve else str(root),
    )
    api = Api(client)
    experiment_id = api.ok_post("experiments/create", {"name": "old"})["experiment_id"]
    run_id = api.new_run(experiment_id)
    _plant(store_uri, experiment_id, f"file://{root}{UP}/etc#")
    status, body = api.get("artifacts/list", run_id=run_id)
    assert status == 400 and "stored artifact location" in body["message"], body
    response = client.get(
        "/ajax-api/2.0/runyard/artifacts/raw", query_string={"run_id": run_id, "path": "passwd"}
    )
    assert response.status_code == 400 and b"root:" not in response.data
    status, body = api.post("runs/create", {"experiment_id": experiment_id})
    assert status == 400 and "stored artifact location" in body["message"]
    status, body = api.post("logged-models", {"experiment_id": experiment_id, "name": "m"})
    assert status == 400 and "stored artifact location" in body["message"]


def test_the_client_never_writes_outside_the_root(tmp_path: Path) -> None:
    store_uri = f"sqlite:///{tmp_path / 'client.db'}"
    creator = Client(store_uri)
    root = tmp_path / "artifacts" / "deep" / "er"
    experiment_id = creator.create_experiment("e", artifact_location=str(root))
    run_id = creator.create_run(experiment_id).info.run_id
    _plant(store_uri, experiment_id, f"file://{root}/%2e%2e/%2e%2e")
    local = tmp_path / "model.txt"
    local.write_text("weights")
    client = Client(store_uri)  # a later process, which reads the run's location stored
    with pytest.raises(InvalidParameterValue, match=r"'\.\.'"):
        client.log_artifact(run_id, str(local))
    written = [os.path.join(d, f) for d, _, files in os.walk(tmp_path / "artifacts") for f in files]
    assert written == []


def _plant_version(store_uri: str, location: str) -> None:
    """A version location a database written before the source rule may hold."""
    engine = sa.create_engine(store_uri)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE model_versions SET storage_location = :l"), {"l": location})
    engine.dispose()


@pytest.mark.parametrize("serve", [True, False])
def test_a_stored_version_location_no_longer_allowed_is_refused_on_use(
    make_client, tmp_path: Path, serve: bool
) -> None:
    store_uri = f"sqlite:///{tmp_path / 'old.db'}"
    root = tmp_path / "mlartifacts"
    client = make_client(
        backend_store_uri=store_uri,
        serve_artifacts=str(serve).lower(),
        default_artifact_root=None if serve else str(root),
    )
    api = Api(client)
    experiment_id = api.ok_post("experiments/create", {"name": "old"})["experiment_id"]
    run_id = api.new_run(experiment_id)
    api.ok_post("registered-models/create", {"name": "churn"})
    body = {"name": "churn", "source": f"runs:/{run_id}/model", "run_id": run_id}
    api.ok_post("model-versions/create", body)
    assert api.ok_get("model-versions/get-download-uri", name="churn", version="1")
    version = {"name": "churn", "version": "1"}
    # outside its run's artifacts, or inside a run whose stored location is no longer allowed
    for location, message in (
        ("/etc", "has a stored location that is not allowed"),
        (f"file://{root}{UP}/etc", "has a stored location that is not allowed"),
    ):
        _plant_version(store_uri, location)
        status, error = api.get("model-versions/get-download-uri", **version)
        assert status == 400 and message in error["message"], error
        response = client.get(
            "/model-versions/get-artifact",
            query_string={**version, "path": "passwd"},
        )
        assert response.status_code == 400 and b"root:" not in response.data
        page = client.get("/models/churn/versions/1")
        assert page.status_code == 200 and message in page.get_data(as_text=True)
        assert "passwd" not in page.get_data(as_text=True)
        with pytest.raises(InvalidParameterValue, match=message):  # runyard's own client
            Client(store_uri).download_artifacts_from_uri("models:/churn/1/passwd", tmp_path)
        assert not (tmp_path / "passwd").exists()
    _plant(store_uri, experiment_id, "/etc")
    _plant_version(store_uri, "/etc/r/artifacts")
    status, error = api.get("model-versions/get-download-uri", **version)
    assert status == 200  # the source rule holds: inside its run's (planted) artifacts
    response = client.get("/model-versions/get-artifact", query_string={**version, "path": "x"})
    assert response.status_code == 400
    assert "stored artifact location" in response.get_json()["message"]
