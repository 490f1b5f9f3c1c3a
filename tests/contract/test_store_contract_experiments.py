"""Experiments: create, get, names, tags, lifecycle and search, identical on every store."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from runyard.entities import (
    Dataset,
    DatasetInput,
    LifecycleStage,
    Metric,
    Param,
    RunTag,
    ViewType,
)
from runyard.errors import (
    InvalidFilter,
    InvalidParameterValue,
    ResourceAlreadyExists,
    ResourceDoesNotExist,
)
from runyard.store.base import TrackingStore

from tests.contract import new_run, now_ms


def test_default_experiment_exists(store: TrackingStore) -> None:
    default = store.get_experiment("0")
    assert default.name == "Default"
    assert default.lifecycle_stage == LifecycleStage.ACTIVE
    by_name = store.get_experiment_by_name("Default")
    assert by_name is not None and by_name.experiment_id == "0"


def test_create_and_get(store: TrackingStore, unique: str) -> None:
    before = now_ms() - 2000
    exp_id = store.create_experiment(f"{unique}-a", tags=[("team", "vision"), ("k", "")])
    assert isinstance(exp_id, str) and exp_id.isdigit()
    exp = store.get_experiment(exp_id)
    assert exp.experiment_id == exp_id
    assert exp.name == f"{unique}-a"
    assert dict(exp.tags) == {"team": "vision", "k": ""}
    assert exp.lifecycle_stage == LifecycleStage.ACTIVE
    assert exp.artifact_location
    assert exp.creation_time is not None and exp.creation_time >= before
    assert exp.last_update_time is not None and exp.last_update_time >= exp.creation_time
    by_name = store.get_experiment_by_name(f"{unique}-a")
    assert by_name is not None and by_name.experiment_id == exp_id


def test_ids_are_distinct(store: TrackingStore, unique: str) -> None:
    created = {store.create_experiment(f"{unique}-{i}") for i in range(3)}
    assert len(created) == 3
    assert {store.get_experiment(i).name for i in created} == {f"{unique}-{i}" for i in range(3)}


def test_artifact_location_is_kept_and_used_by_runs(
    store: TrackingStore, backend: str, unique: str, tmp_path: Path
) -> None:
    # A server refuses locations on its own disk from remote clients; its proxied scheme is
    # the location a remote client can choose.
    location = "mlflow-artifacts:/custom-art" if backend == "rest" else str(tmp_path / "custom-art")
    exp_id = store.create_experiment(f"{unique}-loc", artifact_location=location)
    assert store.get_experiment(exp_id).artifact_location.rstrip("/").endswith("custom-art")
    run = new_run(store, exp_id)
    assert run.info.artifact_uri.endswith(f"custom-art/{run.info.run_id}/artifacts")


def test_a_password_in_an_artifact_location_is_never_stored(
    store: TrackingStore, backend: str, unique: str
) -> None:
    location = "ftp://ml:hunter2@files.internal/srv/artifacts"
    if backend == "rest":  # the server refuses a location outside its roots, and says so safely
        with pytest.raises(InvalidParameterValue) as refused:
            store.create_experiment(f"{unique}-pw", artifact_location=location)
        assert "hunter2" not in str(refused.value)
        return
    exp_id = store.create_experiment(f"{unique}-pw", artifact_location=location)
    assert store.get_experiment(exp_id).artifact_location == "ftp://ml@files.internal/srv/artifacts"
    run = new_run(store, exp_id)
    assert (
        run.info.artifact_uri
        == f"ftp://ml@files.internal/srv/artifacts/{run.info.run_id}/artifacts"
    )


@pytest.mark.parametrize(
    "suffix",
    ["a" * 2100, "%2e%2e/%2e%2e/etc#", "x?y", "%252e%252e/x"],
    ids=["overlong", "encoded-dots-and-fragment", "query", "double-encoded"],
)
def test_malformed_artifact_location_is_refused_and_nothing_created(
    store: TrackingStore, backend: str, unique: str, tmp_path: Path, suffix: str
) -> None:
    base = "mlflow-artifacts:/" if backend == "rest" else f"file://{tmp_path}/"
    with pytest.raises(InvalidParameterValue, match=r"artifact.location"):
        store.create_experiment(f"{unique}-bad", artifact_location=base + suffix)
    assert store.get_experiment_by_name(f"{unique}-bad") is None


def test_duplicate_name_is_rejected(store: TrackingStore, unique: str) -> None:
    store.create_experiment(f"{unique}-dup")
    with pytest.raises(ResourceAlreadyExists, match=f"{unique}-dup"):
        store.create_experiment(f"{unique}-dup")
    found = store.search_experiments(filter_string=f"name = '{unique}-dup'")
    assert len(found) == 1


def test_bad_names_are_rejected(store: TrackingStore, unique: str) -> None:
    with pytest.raises(InvalidParameterValue, match="name"):
        store.create_experiment("")
    long_name = unique + "x" * 500
    with pytest.raises(InvalidParameterValue, match="500"):
        store.create_experiment(long_name)
    assert store.search_experiments(filter_string=f"name LIKE '{unique}%'") == []


def test_missing_and_malformed_ids(store: TrackingStore, unique: str) -> None:
    with pytest.raises(ResourceDoesNotExist, match="999999999"):
        store.get_experiment("999999999")
    with pytest.raises(InvalidParameterValue, match="abc"):
        store.get_experiment("abc")
    assert store.get_experiment_by_name(f"{unique}-nope") is None


def test_rename(store: TrackingStore, unique: str) -> None:
    exp_id = store.create_experiment(f"{unique}-old")
    store.create_experiment(f"{unique}-taken")
    store.rename_experiment(exp_id, f"{unique}-new")
    assert store.get_experiment(exp_id).name == f"{unique}-new"
    assert store.get_experiment_by_name(f"{unique}-old") is None
    renamed = store.get_experiment_by_name(f"{unique}-new")
    assert renamed is not None and renamed.experiment_id == exp_id
    with pytest.raises(ResourceAlreadyExists, match=f"{unique}-taken"):
        store.rename_experiment(exp_id, f"{unique}-taken")
    assert store.get_experiment(exp_id).name == f"{unique}-new"
    with pytest.raises(InvalidParameterValue):
        store.rename_experiment(exp_id, "")
    assert store.get_experiment(exp_id).name == f"{unique}-new"


def test_delete_and_restore_cascade_to_runs(store: TrackingStore, unique: str) -> None:
    exp_id = store.create_experiment(f"{unique}-del")
    run = new_run(store, exp_id)
    store.delete_experiment(exp_id)
    deleted = store.get_experiment(exp_id)
    assert deleted.lifecycle_stage == LifecycleStage.DELETED
    by_name = store.get_experiment_by_name(f"{unique}-del")
    assert by_name is not None and by_name.lifecycle_stage == LifecycleStage.DELETED
    assert store.get_run(run.info.run_id).info.lifecycle_stage == LifecycleStage.DELETED
    with pytest.raises(InvalidParameterValue, match="active"):
        new_run(store, exp_id)
    with pytest.raises(ResourceAlreadyExists):
        store.create_experiment(f"{unique}-del")
    assert len(store.search_runs([exp_id], run_view_type=ViewType.ALL)) == 1

    store.restore_experiment(exp_id)
    assert store.get_experiment(exp_id).lifecycle_stage == LifecycleStage.ACTIVE
    assert store.get_run(run.info.run_id).info.lifecycle_stage == LifecycleStage.ACTIVE
    assert [r.info.run_id for r in store.search_runs([exp_id])] == [run.info.run_id]


def test_delete_and_restore_look_only_where_the_experiment_should_be(
    store: TrackingStore, unique: str
) -> None:
    """Deleting a deleted experiment or restoring an active one finds nothing (MLflow 3 on
    every store), and a deleted experiment's tags stay as they are, like its name."""
    exp_id = store.create_experiment(f"{unique}-twice", tags=[("kept", "1")])
    with pytest.raises(ResourceDoesNotExist, match=f"id={exp_id}"):
        store.restore_experiment(exp_id)
    assert store.get_experiment(exp_id).lifecycle_stage == LifecycleStage.ACTIVE
    store.delete_experiment(exp_id)
    with pytest.raises(ResourceDoesNotExist, match=f"id={exp_id}"):
        store.delete_experiment(exp_id)
    with pytest.raises(InvalidParameterValue, match="active"):
        store.delete_experiment_tag(exp_id, "kept")
    with pytest.raises(InvalidParameterValue, match="active"):
        store.set_experiment_tag(exp_id, "kept", "2")
    store.restore_experiment(exp_id)
    restored = store.get_experiment(exp_id)
    assert restored.lifecycle_stage == LifecycleStage.ACTIVE
    assert dict(restored.tags) == {"kept": "1"}


def test_of_concurrent_deletes_or_restores_one_succeeds(store: TrackingStore, unique: str) -> None:
    exp_id = store.create_experiment(f"{unique}-contested")

    def attempt(change: Callable[[str], None]) -> str:
        try:
            change(exp_id)
            return "done"
        except ResourceDoesNotExist:
            return "not found"

    for change, stage in (
        (store.delete_experiment, LifecycleStage.DELETED),
        (store.restore_experiment, LifecycleStage.ACTIVE),
    ):
        with ThreadPoolExecutor(8) as pool:
            outcomes = sorted(pool.map(lambda _, c=change: attempt(c), range(8)))
        assert outcomes == ["done"] + ["not found"] * 7
        assert store.get_experiment(exp_id).lifecycle_stage == stage


def test_of_concurrent_creates_or_renames_to_one_name_one_succeeds(
    store: TrackingStore, unique: str
) -> None:
    """Jobs of a sweep start at once and each calls ``set_experiment(name)``: MLflow's client
    creates the experiment, and reads it by name when the answer is RESOURCE_ALREADY_EXISTS,
    so every loser must get exactly that error."""

    def attempt(change: Callable[[], object]) -> str:
        try:
            change()
            return "done"
        except ResourceAlreadyExists:
            return "taken"

    name = f"{unique}-sweep"
    with ThreadPoolExecutor(8) as pool:
        outcomes = sorted(
            pool.map(lambda _: attempt(lambda: store.create_experiment(name)), range(8))
        )
    assert outcomes == ["done"] + ["taken"] * 7
    renamed = f"{unique}-renamed"
    ids = [store.create_experiment(f"{unique}-{i}") for i in range(8)]
    with ThreadPoolExecutor(8) as pool:
        outcomes = sorted(
            pool.map(lambda e: attempt(lambda: store.rename_experiment(e, renamed)), ids)
        )
    assert outcomes == ["done"] + ["taken"] * 7
    assert store.get_experiment_by_name(renamed) is not None


def test_runs_created_while_their_experiment_is_deleted_are_deleted_with_it(
    store: TrackingStore, unique: str
) -> None:
    """A job starts a run while someone deletes its experiment: the run is either created
    before the delete, and deleted with the experiment, or refused. None is left active in a
    deleted experiment, and a restore brings every one back."""
    exp_id = store.create_experiment(f"{unique}-doomed")

    def create(_: int) -> str:
        try:
            return new_run(store, exp_id).info.run_id
        except (InvalidParameterValue, ResourceDoesNotExist):
            return "refused"

    def delete() -> str:
        store.delete_experiment(exp_id)
        return "deleted"

    with ThreadPoolExecutor(8) as pool:
        created = list(pool.map(create, range(6)))
        deleted = pool.submit(delete)
        created += list(pool.map(create, range(14)))
        assert deleted.result() == "deleted"
    made = {r for r in created if r != "refused"}
    runs = store.search_runs([exp_id], run_view_type=ViewType.ALL, max_results=100)
    assert {r.info.run_id for r in runs} == made
    assert {r.info.lifecycle_stage for r in runs} <= {LifecycleStage.DELETED}
    store.restore_experiment(exp_id)
    runs = store.search_runs([exp_id], run_view_type=ViewType.ALL, max_results=100)
    assert {r.info.run_id for r in runs} == made
    assert {r.info.lifecycle_stage for r in runs} <= {LifecycleStage.ACTIVE}


def test_an_experiment_deleted_while_its_runs_log_can_be_restored(
    store: TrackingStore, unique: str
) -> None:
    """Jobs keep logging (points, params, tags, datasets, models) while someone deletes their
    experiment: each write lands before the delete or is refused after it, nothing is written
    anew where the experiment was, and a restore brings the experiment back with every run."""
    for attempt in range(3):
        exp_id = store.create_experiment(f"{unique}-busy-{attempt}")
        run_ids = [new_run(store, exp_id).info.run_id for _ in range(3)]
        deleted = threading.Event()

        def log(exp_id: str, run_id: str, deleted: threading.Event) -> set[str]:
            outcomes, step = set(), 0
            while not deleted.is_set() or step < 40:
                step += 1
                try:
                    store.log_batch(
                        run_id,
                        metrics=[Metric(f"m/{step % 3}", 1.0, step, step)],
                        params=[Param(f"p{step}", "v")],
                        tags=[RunTag(f"t/{step}", "v")],
                    )
                    if step % 5 == 0:
                        dataset = Dataset(f"d{step}", f"digest{step}")
                        store.log_inputs(run_id, [DatasetInput(dataset)])
                        store.create_logged_model(exp_id, f"model-{step}", run_id)
                    outcomes.add("logged")
                except (InvalidParameterValue, ResourceDoesNotExist):
                    outcomes.add("refused")
            return outcomes

        with ThreadPoolExecutor(4) as pool:
            loggers = [pool.submit(log, exp_id, run_id, deleted) for run_id in run_ids]
            time.sleep(0.05)
            store.delete_experiment(exp_id)
            deleted.set()
            assert set().union(*(f.result() for f in loggers)) <= {"logged", "refused"}
        store.restore_experiment(exp_id)
        runs = store.search_runs([exp_id], run_view_type=ViewType.ALL, max_results=10)
        assert sorted(r.info.run_id for r in runs) == sorted(run_ids)
        assert {r.info.lifecycle_stage for r in runs} == {LifecycleStage.ACTIVE}


def test_delete_missing_experiment(store: TrackingStore) -> None:
    with pytest.raises(ResourceDoesNotExist):
        store.delete_experiment("999999999")
    with pytest.raises(ResourceDoesNotExist):
        store.restore_experiment("999999999")


def test_experiment_tags(store: TrackingStore, unique: str) -> None:
    exp_id = store.create_experiment(f"{unique}-tags", tags=[("a", "1")])
    store.set_experiment_tag(exp_id, "b", "2")
    store.set_experiment_tag(exp_id, "a", "changed")
    assert dict(store.get_experiment(exp_id).tags) == {"a": "changed", "b": "2"}
    store.delete_experiment_tag(exp_id, "a")
    assert dict(store.get_experiment(exp_id).tags) == {"b": "2"}
    with pytest.raises(ResourceDoesNotExist, match="nope"):
        store.delete_experiment_tag(exp_id, "nope")
    with pytest.raises(InvalidParameterValue, match="20000"):
        store.set_experiment_tag(exp_id, "big", "x" * 20001)
    assert dict(store.get_experiment(exp_id).tags) == {"b": "2"}
    store.set_experiment_tag(exp_id, "edge", "y" * 20000)
    assert store.get_experiment(exp_id).tags["edge"] == "y" * 20000


def _names(experiments: list) -> list[str]:
    return [e.name for e in experiments]


def _make(store: TrackingStore, unique: str, n: int) -> list[str]:
    """n experiments created in order, at least 2 ms apart so creation times differ."""
    made = []
    for i in range(n):
        made.append(store.create_experiment(f"{unique}-s{i}", tags=[("parity", str(i % 2))]))
        time.sleep(0.003)
    return made


def test_search_filter_and_order(store: TrackingStore, unique: str) -> None:
    _make(store, unique, 4)
    mine = f"name LIKE '{unique}-s%'"
    assert _names(store.search_experiments(filter_string=mine)) == [
        f"{unique}-s3",
        f"{unique}-s2",
        f"{unique}-s1",
        f"{unique}-s0",
    ], "default order is creation_time DESC"
    asc = store.search_experiments(filter_string=mine, order_by=["name ASC"])
    assert _names(asc) == [f"{unique}-s{i}" for i in range(4)]
    desc = store.search_experiments(filter_string=mine, order_by=["creation_time ASC"])
    assert _names(desc) == [f"{unique}-s{i}" for i in range(4)]
    odd = store.search_experiments(filter_string=f"{mine} AND tags.parity = '1'")
    assert sorted(_names(odd)) == [f"{unique}-s1", f"{unique}-s3"]
    upper = unique.upper()
    assert store.search_experiments(filter_string=f"name LIKE '{upper}-S%'") == []
    assert len(store.search_experiments(filter_string=f"name ILIKE '{upper}-S%'")) == 4
    exact = store.search_experiments(filter_string=f"name = '{unique}-s2'")
    assert _names(exact) == [f"{unique}-s2"]


def test_search_by_creation_time(store: TrackingStore, unique: str) -> None:
    ids = _make(store, unique, 3)
    middle = store.get_experiment(ids[1]).creation_time
    mine = f"name LIKE '{unique}-s%'"
    later = store.search_experiments(filter_string=f"{mine} AND creation_time >= {middle}")
    assert sorted(_names(later)) == [f"{unique}-s1", f"{unique}-s2"]
    earlier = store.search_experiments(filter_string=f"{mine} AND creation_time < {middle}")
    assert _names(earlier) == [f"{unique}-s0"]


def test_search_pages_through_everything(store: TrackingStore, unique: str) -> None:
    _make(store, unique, 5)
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        page = store.search_experiments(
            max_results=2, filter_string=f"name LIKE '{unique}-s%'", page_token=token
        )
        assert len(page) <= 2
        seen.extend(_names(page))
        pages += 1
        token = page.token
        if not token:
            break
    assert pages == 3
    assert sorted(seen) == [f"{unique}-s{i}" for i in range(5)]


def test_search_view_types(store: TrackingStore, unique: str) -> None:
    ids = _make(store, unique, 3)
    store.delete_experiment(ids[0])
    mine = f"name LIKE '{unique}-s%'"
    active = store.search_experiments(ViewType.ACTIVE_ONLY, filter_string=mine)
    assert sorted(_names(active)) == [f"{unique}-s1", f"{unique}-s2"]
    gone = store.search_experiments(ViewType.DELETED_ONLY, filter_string=mine)
    assert _names(gone) == [f"{unique}-s0"]
    every = store.search_experiments(ViewType.ALL, filter_string=mine)
    assert len(every) == 3


def test_search_rejects_bad_input(store: TrackingStore) -> None:
    with pytest.raises(InvalidFilter, match="<<<"):
        store.search_experiments(filter_string="name <<< 'x'")
    with pytest.raises(InvalidFilter):
        store.search_experiments(order_by=["name sideways"])
    with pytest.raises(InvalidParameterValue):
        store.search_experiments(max_results=0)
    with pytest.raises(InvalidParameterValue):
        store.search_experiments(page_token="garbage")
