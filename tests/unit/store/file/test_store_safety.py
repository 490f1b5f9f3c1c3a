"""FileStore under failure and contention: all-or-nothing batches, retries stored once, atomic
replacement of whole files, leftovers of a crashed writer ignored, several processes at once."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

import pytest
from runyard.entities import Metric, Param, RunTag
from runyard.errors import InvalidParameterValue, ResourceAlreadyExists
from runyard.store.file import FileStore
from runyard.store.file import layout as file_layout


@pytest.fixture
def store(tmp_path: Path) -> FileStore:
    return FileStore(str(tmp_path / "mlruns"))


def _run_dir(store: FileStore, rid: str) -> Path:
    return Path(store.root) / "0" / rid


def test_a_retried_metric_point_is_stored_once(store: FileStore) -> None:
    rid = store.create_run("0", "u", 1, []).info.run_id
    point = Metric("loss", 0.25, 1000, 3)
    store.log_batch(rid, metrics=[point, point])
    store.log_metric(rid, point)
    store.log_metric(rid, Metric("loss", 0.25, 1000, 4))  # another step: a new point
    lines = (_run_dir(store, rid) / "metrics" / "loss").read_text().splitlines()
    assert lines == ["1000 0.25 3", "1000 0.25 4"]


def test_a_batch_with_a_changed_param_writes_nothing(store: FileStore) -> None:
    rid = store.create_run("0", "u", 1, []).info.run_id
    store.log_param(rid, Param("lr", "0.1"))
    with pytest.raises(InvalidParameterValue, match="lr"):
        store.log_batch(
            rid,
            metrics=[Metric("m", 1.0, 1, 0)],
            params=[Param("new", "x"), Param("lr", "0.2")],
            tags=[RunTag("t", "v")],
        )
    run_dir = _run_dir(store, rid)
    assert os.listdir(run_dir / "metrics") == []
    assert sorted(os.listdir(run_dir / "params")) == ["lr"]
    assert not (run_dir / "tags" / "t").exists()


def test_a_batch_with_a_bad_key_writes_nothing(store: FileStore) -> None:
    rid = store.create_run("0", "u", 1, []).info.run_id
    with pytest.raises(InvalidParameterValue, match=r"\.\./evil"):
        store.log_batch(rid, metrics=[Metric("ok", 1.0, 1, 0)], tags=[RunTag("../evil", "v")])
    assert os.listdir(_run_dir(store, rid) / "metrics") == []
    assert not (Path(store.root) / "0" / "evil").exists()


def test_a_failed_replace_keeps_the_old_file_and_no_temp(
    store: FileStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    rid = store.create_run("0", "u", 1, [], run_name="before").info.run_id
    meta = _run_dir(store, rid) / "meta.yaml"
    before = meta.read_bytes()

    def crash(src: str, dst: str) -> None:
        raise OSError("disk went away")

    monkeypatch.setattr(file_layout.os, "replace", crash)
    with pytest.raises(OSError, match="disk went away"):
        store.update_run_info(rid, run_name="after")
    monkeypatch.undo()
    assert meta.read_bytes() == before
    leftovers = [n for n in os.listdir(meta.parent) if file_layout.is_temp_name(n)]
    leftovers += [n for n in os.listdir(meta.parent / "tags") if file_layout.is_temp_name(n)]
    assert leftovers == []


def test_leftovers_of_a_killed_writer_are_invisible(store: FileStore) -> None:
    rid = store.create_run("0", "u", 1, []).info.run_id
    run_dir = _run_dir(store, rid)
    store.log_param(rid, Param("p", "1"))
    (run_dir / "params" / ".#p.1a2b3c").write_text("half")
    (run_dir / "tags" / ".#t.1a2b3c").write_text("half")
    staged = Path(store.root) / "0" / ".#0123456789abcdef0123456789abcdef"
    (staged / "metrics").mkdir(parents=True)
    (staged / "meta.yaml").write_text("run_id: x\nexperiment_id: '0'\n")
    run = store.get_run(rid)
    assert dict(run.data.params) == {"p": "1"}
    assert ".#t.1a2b3c" not in run.data.tags
    assert [r.info.run_id for r in store.search_runs(["0"])] == [rid]


def test_a_metric_line_still_being_written_is_not_read(store: FileStore) -> None:
    rid = store.create_run("0", "u", 1, []).info.run_id
    path = _run_dir(store, rid) / "metrics" / "m"
    path.write_text("1 0.5 0\n2 0.7")  # the second line has no newline yet
    assert [m.value for m in store.get_metric_history(rid, "m")] == [0.5]


def test_an_experiment_name_is_taken_even_when_deleted(store: FileStore) -> None:
    eid = store.create_experiment("once")
    store.delete_experiment(eid)
    with pytest.raises(ResourceAlreadyExists, match="once"):
        store.create_experiment("once")


# ---- several processes -----------------------------------------------------------------------
def _log_points(root: str, rid: str, key: str, count: int) -> None:
    store = FileStore(root)
    for i in range(count):
        store.log_batch(
            rid,
            metrics=[Metric(key, float(i), 1000 + i, i), Metric("shared", i * 0.5, i, i)],
            params=[Param(f"p{i % 5}", str(i % 5))],
            tags=[RunTag("writer", key)],
        )


def _create_named(root: str, name: str, results: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    try:
        results.put(FileStore(root).create_experiment(name))
    except ResourceAlreadyExists:
        results.put("taken")


def test_concurrent_writers_to_several_runs_corrupt_nothing(store: FileStore) -> None:
    ctx = multiprocessing.get_context("fork")
    runs = [store.create_run("0", "u", 1, []).info.run_id for _ in range(3)]
    jobs = [
        ctx.Process(target=_log_points, args=(store.root, rid, f"k{n}", 60))
        for n, rid in enumerate(runs)
    ]
    # Two more writers on the first run's own key, to contend on one file.
    jobs += [
        ctx.Process(target=_log_points, args=(store.root, runs[0], "k0", 60)) for _ in range(2)
    ]
    for job in jobs:
        job.start()
    for job in jobs:
        job.join(60)
        assert job.exitcode == 0
    for n, rid in enumerate(runs):
        history = store.get_metric_history(rid, f"k{n}")
        # identical points from the extra writers may or may not race past the duplicate
        # check, but every line is whole and every point is there
        assert {(m.value, m.timestamp, m.step) for m in history} == {
            (float(i), 1000 + i, i) for i in range(60)
        }
        lines = (_run_dir(store, rid) / "metrics" / "shared").read_text().split("\n")
        assert lines[-1] == "" and all(len(line.split(" ")) == 3 for line in lines[:-1])
        run = store.get_run(rid)
        assert dict(run.data.params) == {f"p{i}": str(i) for i in range(5)}
        assert run.data.tags["writer"] == f"k{n}"


def test_concurrent_creates_of_one_experiment_name_let_one_win(store: FileStore) -> None:
    ctx = multiprocessing.get_context("fork")
    results = ctx.Queue()
    jobs = [ctx.Process(target=_create_named, args=(store.root, "race", results)) for _ in range(4)]
    for job in jobs:
        job.start()
    for job in jobs:
        job.join(60)
    outcomes = sorted(results.get(timeout=5) for _ in jobs)
    assert outcomes.count("taken") == 3
    assert [e.name for e in store.search_experiments()].count("race") == 1
