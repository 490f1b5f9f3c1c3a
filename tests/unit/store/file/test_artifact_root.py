"""A file store behind a server that proxies artifacts hands out proxy artifact URIs."""

from __future__ import annotations

from runyard.entities import RunTag
from runyard.store import store_for_uri
from runyard.store.file import FileStore


def test_default_keeps_artifacts_in_the_experiment_directory(tmp_path):
    store = FileStore(str(tmp_path / "mlruns"))
    experiment_id = store.create_experiment("own-dir")
    location = store.get_experiment(experiment_id).artifact_location
    assert location == (tmp_path / "mlruns" / experiment_id).as_uri()
    assert store.get_experiment("0").artifact_location == (tmp_path / "mlruns" / "0").as_uri()


def test_artifact_root_gives_each_experiment_a_location_below_it(tmp_path):
    store = store_for_uri(f"file:{tmp_path / 'mlruns'}", "mlflow-artifacts:/")
    assert store.get_experiment("0").artifact_location == "mlflow-artifacts:/0"
    experiment_id = store.create_experiment("proxied")
    assert store.get_experiment(experiment_id).artifact_location == (
        f"mlflow-artifacts:/{experiment_id}"
    )
    run = store.create_run(experiment_id, "me", 1, [RunTag("k", "v")])
    assert run.info.artifact_uri == (
        f"mlflow-artifacts:/{experiment_id}/{run.info.run_id}/artifacts"
    )


def test_explicit_location_wins_over_the_root(tmp_path):
    store = FileStore(str(tmp_path / "mlruns"), "mlflow-artifacts:/")
    experiment_id = store.create_experiment("custom", artifact_location="s3://bucket/x")
    assert store.get_experiment(experiment_id).artifact_location == "s3://bucket/x"
