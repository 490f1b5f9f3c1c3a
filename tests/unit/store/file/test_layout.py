"""The bytes FileStore leaves on disk: the same layout and formats as MLflow's file store."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from runyard.entities import Metric, Param, RunStatus, RunTag
from runyard.store.file import FileStore


def _read(path: Path) -> str:
    return path.read_bytes().decode("utf-8")


@pytest.mark.parametrize("form", ["file:./mlruns", "file:{abs}", "file://{abs}", "{abs}", "mlruns"])
def test_every_root_uri_form_names_the_same_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, form: str
) -> None:
    monkeypatch.chdir(tmp_path)
    store = FileStore(form.format(abs=str(tmp_path / "mlruns")))
    assert store.root == str(tmp_path / "mlruns")
    assert (tmp_path / "mlruns" / "0" / "meta.yaml").is_file()
    assert (tmp_path / "mlruns" / ".trash").is_dir()


def test_default_experiment_meta_is_mlflows_format(tmp_path: Path) -> None:
    FileStore(str(tmp_path))
    text = _read(tmp_path / "0" / "meta.yaml")
    assert re.fullmatch(
        f"artifact_location: file://{tmp_path}/0\n"
        r"creation_time: \d{13}\n"
        "effective_trace_archival_retention: null\n"
        "experiment_id: '0'\n"
        r"last_update_time: \d{13}\n"
        "lifecycle_stage: active\n"
        "name: Default\n"
        "trace_location: null\n"
        "workspace: default\n",
        text,
    ), text


def test_new_experiment_ids_are_random_18_digit_strings(tmp_path: Path) -> None:
    store = FileStore(str(tmp_path))
    ids = {store.create_experiment(f"e{i}") for i in range(20)}
    assert len(ids) == 20
    assert all(re.fullmatch(r"[1-9]\d{17}", i) for i in ids)


def test_run_meta_and_value_files(tmp_path: Path) -> None:
    store = FileStore(str(tmp_path))
    run = store.create_run("0", "alice", 1700000000000, [RunTag("t", "v")], run_name="r1")
    rid = run.info.run_id
    store.log_batch(
        rid,
        metrics=[
            Metric("loss", 1, 1700000000001, 0),
            Metric("loss", float("nan"), 1700000000002, 1),
            Metric("loss", float("inf"), 1700000000003, 2),
            Metric("loss", float("-inf"), 1700000000004, 3),
            Metric("big", 1e20, 5, 0),
            Metric("acc", 0.5, 6, 7, dataset_name="train", dataset_digest="abc123"),
            Metric("m/x", 2.5, 7, 0),
        ],
        params=[Param("foo", "bar"), Param("a/b", "multi\nline")],
        tags=[RunTag("note", "x\n")],
    )
    store.update_run_info(rid, RunStatus.FINISHED, 1700000000100)
    run_dir = tmp_path / "0" / rid
    assert _read(run_dir / "meta.yaml") == (
        f"artifact_uri: file://{tmp_path}/0/{rid}/artifacts\n"
        "end_time: 1700000000100\n"
        "entry_point_name: ''\n"
        "experiment_id: '0'\n"
        "lifecycle_stage: active\n"
        f"run_id: {rid}\n"
        "run_name: r1\n"
        "source_name: ''\n"
        "source_type: 4\n"
        "source_version: ''\n"
        "start_time: 1700000000000\n"
        "status: 3\n"
        "tags: []\n"
        "user_id: alice\n"
    )
    assert _read(run_dir / "metrics" / "loss") == (
        "1700000000001 1.0 0\n1700000000002 nan 1\n1700000000003 inf 2\n1700000000004 -inf 3\n"
    )
    assert _read(run_dir / "metrics" / "big") == "5 1e+20 0\n"
    assert _read(run_dir / "metrics" / "acc") == "6 0.5 7 train abc123\n"
    assert _read(run_dir / "metrics" / "m" / "x") == "7 2.5 0\n"
    assert _read(run_dir / "params" / "foo") == "bar"
    assert _read(run_dir / "params" / "a" / "b") == "multi\nline"
    assert _read(run_dir / "tags" / "note") == "x\n"
    assert _read(run_dir / "tags" / "mlflow.runName") == "r1"
    assert (run_dir / "artifacts").is_dir()
    assert sorted(os.listdir(run_dir)) == ["artifacts", "meta.yaml", "metrics", "params", "tags"]


def test_run_name_tag_follows_renames(tmp_path: Path) -> None:
    store = FileStore(str(tmp_path))
    rid = store.create_run("0", "u", 1, []).info.run_id
    generated = _read(tmp_path / "0" / rid / "tags" / "mlflow.runName")
    assert re.fullmatch(r"[a-z]+-[a-z]+-\d{1,3}", generated)
    store.update_run_info(rid, run_name="renamed")
    assert _read(tmp_path / "0" / rid / "tags" / "mlflow.runName") == "renamed"
    assert "run_name: renamed\n" in _read(tmp_path / "0" / rid / "meta.yaml")
    store.set_tag(rid, RunTag("mlflow.runName", "by-tag"))
    assert "run_name: by-tag\n" in _read(tmp_path / "0" / rid / "meta.yaml")
    assert store.get_run(rid).info.run_name == "by-tag"


def test_deleted_run_stays_in_place_with_deleted_time(tmp_path: Path) -> None:
    store = FileStore(str(tmp_path))
    rid = store.create_run("0", "u", 1, []).info.run_id
    store.delete_run(rid)
    meta = _read(tmp_path / "0" / rid / "meta.yaml")
    assert "lifecycle_stage: deleted\n" in meta
    assert re.search(r"^deleted_time: \d{13}$", meta, re.M)
    store.restore_run(rid)
    meta = _read(tmp_path / "0" / rid / "meta.yaml")
    assert "lifecycle_stage: active\n" in meta and "deleted_time" not in meta


def test_deleted_experiment_moves_to_trash_and_back(tmp_path: Path) -> None:
    store = FileStore(str(tmp_path))
    eid = store.create_experiment("gone", tags=[("k", "v")])
    rid = store.create_run(eid, "u", 1, []).info.run_id
    store.delete_experiment(eid)
    assert not (tmp_path / eid).exists()
    trashed = tmp_path / ".trash" / eid
    assert "lifecycle_stage: deleted\n" in _read(trashed / "meta.yaml")
    assert "lifecycle_stage: deleted\n" in _read(trashed / rid / "meta.yaml")
    assert _read(trashed / "tags" / "k") == "v"
    store.restore_experiment(eid)
    assert not trashed.exists()
    assert "lifecycle_stage: active\n" in _read(tmp_path / eid / rid / "meta.yaml")
    assert store.get_run(rid).info.lifecycle_stage == "active"


def test_experiment_tags_live_under_the_experiment(tmp_path: Path) -> None:
    store = FileStore(str(tmp_path))
    eid = store.create_experiment("tagged", tags=[("a/b", "1")])
    store.set_experiment_tag(eid, "note", "hello")
    assert _read(tmp_path / eid / "tags" / "a" / "b") == "1"
    assert _read(tmp_path / eid / "tags" / "note") == "hello"
    store.delete_experiment_tag(eid, "a/b")
    assert not (tmp_path / eid / "tags" / "a").exists()
    assert dict(store.get_experiment(eid).tags) == {"note": "hello"}


def test_reads_legacy_meta_written_by_old_mlflow(tmp_path: Path) -> None:
    """Old MLflow versions wrote integer experiment ids and no lifecycle_stage."""
    store = FileStore(str(tmp_path))
    rid = "0123456789abcdef0123456789abcdef"
    run_dir = tmp_path / "0" / rid
    for sub in ("metrics", "params", "tags", "artifacts"):
        (run_dir / sub).mkdir(parents=True)
    (run_dir / "meta.yaml").write_text(
        f"artifact_uri: /x\nend_time: null\nexperiment_id: 0\nrun_uuid: {rid}\n"
        "name: ''\nstart_time: 5\nstatus: 1\nuser_id: bob\n"
    )
    (run_dir / "metrics" / "old").write_text("10 0.5\n")
    run = store.get_run(rid)
    assert (run.info.run_id, run.info.experiment_id, run.info.status) == (rid, "0", "RUNNING")
    assert run.info.lifecycle_stage == "active"
    assert run.data.metrics == {"old": 0.5}
