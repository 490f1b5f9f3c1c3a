"""Runs: create, get, update, rename, delete and restore, identical on every store."""

from __future__ import annotations

import re
import uuid

import pytest
from runyard.entities import NO_RUNS, ExperimentStats, LifecycleStage, RunStatus, ViewType
from runyard.errors import InvalidParameterValue, ResourceAlreadyExists, ResourceDoesNotExist
from runyard.store.base import TrackingStore

from tests.contract import new_run, param, tag


def test_a_chosen_run_id_is_used_once(
    store: TrackingStore, backend: str, experiment_id: str
) -> None:
    chosen = uuid.uuid4().hex
    if backend == "rest":  # the server derives ids from the Idempotency-Key it is sent
        with pytest.raises(InvalidParameterValue, match="server chooses"):
            store.create_run(experiment_id, "u", 1, run_id=chosen)
        return
    run = store.create_run(experiment_id, "u", 1, run_name="first", run_id=chosen)
    assert run.info.run_id == chosen and run.info.artifact_uri.endswith(f"{chosen}/artifacts")
    with pytest.raises(ResourceAlreadyExists):
        store.create_run(experiment_id, "u", 2, run_name="second", run_id=chosen)
    assert store.get_run(chosen).info.run_name == "first"
    with pytest.raises(InvalidParameterValue, match="32 hex"):
        store.create_run(experiment_id, "u", 1, run_id="../../x")


def test_create_run_returns_a_running_run(store: TrackingStore, experiment_id: str) -> None:
    run = new_run(
        store, experiment_id, run_name="first", start_time=1_700_000_000_000, tags={"k": "v"}
    )
    info = run.info
    assert re.fullmatch(r"[0-9a-f]{32}", info.run_id)
    assert info.run_uuid == info.run_id
    assert info.experiment_id == experiment_id
    assert info.run_name == "first"
    assert info.user_id == "alice"
    assert info.status == RunStatus.RUNNING
    assert info.start_time == 1_700_000_000_000
    assert info.end_time is None
    assert info.lifecycle_stage == LifecycleStage.ACTIVE
    assert info.artifact_uri.endswith(f"{info.run_id}/artifacts")
    assert dict(run.data.tags) == {"k": "v", "mlflow.runName": "first"}
    assert dict(run.data.params) == {}
    assert run.data.metric_list == ()


def test_get_run_matches_create(store: TrackingStore, experiment_id: str) -> None:
    created = new_run(store, experiment_id, run_name="same", tags={"x": "1"})
    fetched = store.get_run(created.info.run_id)
    assert fetched.info == created.info
    assert dict(fetched.data.tags) == dict(created.data.tags)


def test_generated_run_name_is_also_a_tag(store: TrackingStore, experiment_id: str) -> None:
    run = new_run(store, experiment_id)
    assert re.fullmatch(r"[a-z]+-[a-z]+-\d{1,3}", run.info.run_name)
    assert store.get_run(run.info.run_id).data.tags["mlflow.runName"] == run.info.run_name


def test_run_name_tag_names_the_run(store: TrackingStore, experiment_id: str) -> None:
    run = new_run(store, experiment_id, tags={"mlflow.runName": "from-tag"})
    assert run.info.run_name == "from-tag"
    assert store.get_run(run.info.run_id).info.run_name == "from-tag"


def test_run_ids_are_unique(store: TrackingStore, experiment_id: str) -> None:
    runs = [new_run(store, experiment_id) for _ in range(5)]
    assert len({r.info.run_id for r in runs}) == 5


def test_missing_run_and_experiment(store: TrackingStore, experiment_id: str) -> None:
    with pytest.raises(ResourceDoesNotExist, match="0123456789abcdef0123456789abcdef"):
        store.get_run("0123456789abcdef0123456789abcdef")
    with pytest.raises(ResourceDoesNotExist):
        new_run(store, "999999999")
    with pytest.raises(ResourceDoesNotExist):
        store.delete_run("0123456789abcdef0123456789abcdef")
    with pytest.raises(ResourceDoesNotExist):
        store.update_run_info("0123456789abcdef0123456789abcdef", status=RunStatus.FINISHED)


def test_update_status_and_end_time(store: TrackingStore, experiment_id: str) -> None:
    run = new_run(store, experiment_id, start_time=1000)
    info = store.update_run_info(run.info.run_id, status=RunStatus.FINISHED, end_time=5000)
    assert info.status == RunStatus.FINISHED and info.end_time == 5000
    fetched = store.get_run(run.info.run_id).info
    assert fetched.status == RunStatus.FINISHED
    assert fetched.end_time == 5000
    assert fetched.start_time == 1000
    killed = store.update_run_info(run.info.run_id, status=RunStatus.KILLED)
    assert killed.status == RunStatus.KILLED and killed.end_time == 5000
    assert store.get_run(run.info.run_id).info.status == RunStatus.KILLED


def test_rename_updates_the_tag(store: TrackingStore, experiment_id: str) -> None:
    run = new_run(store, experiment_id, run_name="before")
    info = store.update_run_info(run.info.run_id, run_name="after")
    assert info.run_name == "after"
    assert info.status == RunStatus.RUNNING
    fetched = store.get_run(run.info.run_id)
    assert fetched.info.run_name == "after"
    assert fetched.data.tags["mlflow.runName"] == "after"


def test_delete_and_restore(store: TrackingStore, experiment_id: str) -> None:
    keep = new_run(store, experiment_id)
    gone = new_run(store, experiment_id)
    store.delete_run(gone.info.run_id)
    assert store.get_run(gone.info.run_id).info.lifecycle_stage == LifecycleStage.DELETED
    assert [r.info.run_id for r in store.search_runs([experiment_id])] == [keep.info.run_id]
    deleted = store.search_runs([experiment_id], run_view_type=ViewType.DELETED_ONLY)
    assert [r.info.run_id for r in deleted] == [gone.info.run_id]
    store.restore_run(gone.info.run_id)
    assert store.get_run(gone.info.run_id).info.lifecycle_stage == LifecycleStage.ACTIVE
    assert len(store.search_runs([experiment_id])) == 2


def test_logging_to_a_deleted_run_fails_and_writes_nothing(
    store: TrackingStore, experiment_id: str
) -> None:
    run = new_run(store, experiment_id)
    rid = run.info.run_id
    store.delete_run(rid)
    with pytest.raises(InvalidParameterValue, match="active"):
        store.log_param(rid, param("p", "1"))
    with pytest.raises(InvalidParameterValue, match="active"):
        store.log_batch(rid, tags=[tag("t", "1")])
    with pytest.raises(InvalidParameterValue, match="active"):
        store.update_run_info(rid, status=RunStatus.FINISHED)
    store.restore_run(rid)
    restored = store.get_run(rid)
    assert dict(restored.data.params) == {}
    assert "t" not in restored.data.tags
    assert restored.info.status == RunStatus.RUNNING


def test_logging_to_a_finished_run_is_allowed(store: TrackingStore, experiment_id: str) -> None:
    run = new_run(store, experiment_id)
    store.update_run_info(run.info.run_id, status=RunStatus.FINISHED, end_time=10)
    store.log_param(run.info.run_id, param("late", "yes"))
    assert store.get_run(run.info.run_id).data.params["late"] == "yes"


def test_experiment_stats_count_active_runs_and_latest_activity(store: TrackingStore) -> None:
    busy = store.create_experiment(f"busy-{uuid.uuid4().hex[:8]}")
    empty = store.create_experiment(f"empty-{uuid.uuid4().hex[:8]}")
    first = store.create_run(busy, "u", 1000)
    store.create_run(busy, "u", 5000)
    store.update_run_info(first.info.run_id, RunStatus.FINISHED, end_time=7000)
    gone = store.create_run(busy, "u", 9000)
    store.delete_run(gone.info.run_id)
    stats = store.experiment_stats([busy, empty, "123456789"])
    assert stats[busy] == ExperimentStats(2, True, 7000)
    assert stats[empty] == NO_RUNS
    assert stats["123456789"] == NO_RUNS  # unknown: nothing to count, no error


def test_a_user_id_longer_than_mlflows_column_is_refused(
    store: TrackingStore, experiment_id: str
) -> None:
    longest = "u" * 256
    run = store.create_run(experiment_id, longest, 1)
    assert store.get_run(run.info.run_id).info.user_id == longest
    with pytest.raises(InvalidParameterValue, match="User id exceeds the maximum length of 256"):
        store.create_run(experiment_id, longest + "u", 2)
    assert [r.info.run_id for r in store.search_runs([experiment_id])] == [run.info.run_id]
