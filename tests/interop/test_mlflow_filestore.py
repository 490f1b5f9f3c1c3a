"""FileStore and the real ``mlflow`` client share one ``mlruns`` directory, both ways.

MLflow runs in a subprocess (its file store needs ``MLFLOW_ALLOW_FILE_STORE=true``), so its
imports and globals never mix with runyard's.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from runyard.artifacts.local import LocalArtifactRepo
from runyard.entities import (
    Dataset,
    DatasetInput,
    LoggedModelStatus,
    Metric,
    ModelOutput,
    Param,
    RunStatus,
    RunTag,
    ViewType,
)
from runyard.store.file import FileStore

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("mlflow") is None, reason="the mlflow package is not installed"
)


def run_mlflow(root: Path, script: str) -> dict:
    """Run ``script`` with MLflow pointed at ``root``; it prints one JSON object last."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env.update(
        MLFLOW_ALLOW_FILE_STORE="true",
        MLFLOW_TRACKING_URI=f"file:{root}",
        GIT_PYTHON_REFRESH="quiet",
    )
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


# ---- MLflow writes, runyard reads ------------------------------------------------------------
MLFLOW_WRITES = """
import json, mlflow
from mlflow import MlflowClient
exp_id = mlflow.set_experiment("interop").experiment_id
mlflow.set_experiment_tag("team", "vision")
with mlflow.start_run(run_name="parent") as parent:
    mlflow.log_params({"lr": "0.1", "layers/depth": 3})
    for step, value in enumerate([0.9, 0.5, 0.25]):
        mlflow.log_metric("loss", value, step=step)
    mlflow.log_metric("acc", 0.75)
    mlflow.set_tag("stage", "dev\\nline2")
    mlflow.log_text("hello", "dir/hello.txt")
    with mlflow.start_run(run_name="child", nested=True) as child:
        mlflow.log_param("inner", "yes")
with mlflow.start_run(run_name="doomed") as doomed:
    pass
mlflow.delete_run(doomed.info.run_id)
client = MlflowClient()
points = client.get_metric_history(parent.info.run_id, "loss")
history = [[m.timestamp, m.value, m.step] for m in points]
print(json.dumps({"exp": exp_id, "parent": parent.info.run_id, "child": child.info.run_id,
                  "doomed": doomed.info.run_id, "history": history}))
"""


def test_runyard_reads_what_mlflow_wrote(tmp_path: Path) -> None:
    root = tmp_path / "mlruns"
    out = run_mlflow(root, MLFLOW_WRITES)
    store = FileStore(f"file:{root}")

    experiment = store.get_experiment_by_name("interop")
    assert experiment is not None and experiment.experiment_id == out["exp"]
    assert dict(experiment.tags) == {"team": "vision"}
    assert store.get_experiment("0").name == "Default"

    parent = store.get_run(out["parent"])
    assert parent.info.run_name == "parent"
    assert parent.info.status == RunStatus.FINISHED
    assert parent.info.end_time is not None and parent.info.start_time is not None
    assert parent.info.artifact_uri == f"file://{root}/{out['exp']}/{out['parent']}/artifacts"
    assert dict(parent.data.params) == {"lr": "0.1", "layers/depth": "3"}
    assert dict(parent.data.metrics) == {"loss": 0.25, "acc": 0.75}
    assert parent.data.tags["stage"] == "dev\nline2"
    assert parent.data.tags["mlflow.runName"] == "parent"
    history = store.get_metric_history(out["parent"], "loss")
    assert [[m.timestamp, m.value, m.step] for m in history] == out["history"]

    child = store.get_run(out["child"])
    assert child.data.tags["mlflow.parentRunId"] == out["parent"]
    assert dict(child.data.params) == {"inner": "yes"}

    doomed = store.get_run(out["doomed"])
    assert doomed.info.lifecycle_stage == "deleted"
    active = {r.info.run_id for r in store.search_runs([out["exp"]])}
    assert active == {out["parent"], out["child"]}
    deleted = store.search_runs([out["exp"]], run_view_type=ViewType.DELETED_ONLY)
    assert [r.info.run_id for r in deleted] == [out["doomed"]]
    found = store.search_runs([out["exp"]], "params.lr = '0.1' AND metrics.loss < 0.3")
    assert [r.info.run_id for r in found] == [out["parent"]]

    repo = LocalArtifactRepo(parent.info.artifact_uri)
    assert [f.path for f in repo.list_artifacts("dir")] == ["dir/hello.txt"]
    assert b"".join(repo.open_stream("dir/hello.txt")) == b"hello"

    # and runyard can keep logging to a run MLflow created
    store.log_batch(out["parent"], metrics=[Metric("loss", 0.1, 99, 3)])
    assert store.get_run(out["parent"]).data.metrics["loss"] == 0.1


# ---- runyard writes, MLflow reads ------------------------------------------------------------
MLFLOW_READS = """
import json
from mlflow import MlflowClient
from mlflow.entities import ViewType
c = MlflowClient()
exp = c.get_experiment_by_name("from-runyard")
ids = [exp.experiment_id]
def brief(r):
    return {"id": r.info.run_id, "name": r.info.run_name, "status": r.info.status,
            "stage": r.info.lifecycle_stage, "params": r.data.params,
            "metrics": r.data.metrics, "tags": {k: v for k, v in r.data.tags.items()}}
good = c.search_runs(ids, "metrics.acc > 0.5", order_by=["metrics.acc DESC"])
deleted = c.search_runs(ids, run_view_type=ViewType.DELETED_ONLY)
run_id = good[0].info.run_id
print(json.dumps({
    "exp": [exp.experiment_id, exp.name, exp.tags, exp.lifecycle_stage],
    "get_run": brief(c.get_run(run_id)),
    "history": [[m.timestamp, m.value, m.step] for m in c.get_metric_history(run_id, "acc")],
    "good": [r.info.run_id for r in good],
    "deleted": [r.info.run_id for r in deleted],
    "artifacts": [[f.path, f.is_dir, f.file_size] for f in c.list_artifacts(run_id)],
    "nested": [[f.path, f.file_size] for f in c.list_artifacts(run_id, "plots")],
    "inputs": [[d.dataset.name, d.dataset.digest, {t.key: t.value for t in d.tags}]
               for d in c.get_run(run_id).inputs.dataset_inputs],
    "model": [c.get_logged_model(m.model_id).name for m in c.get_run(run_id).outputs.model_outputs],
}))
"""


def test_mlflow_reads_what_runyard_wrote(tmp_path: Path) -> None:
    root = tmp_path / "mlruns"
    store = FileStore(str(root))
    eid = store.create_experiment("from-runyard", tags=[("team", "nlp")])
    best = store.create_run(eid, "ann", 1000, [RunTag("mlflow.user", "ann")], run_name="best")
    rid = best.info.run_id
    store.log_batch(
        rid,
        metrics=[Metric("acc", 0.6, 1001, 0), Metric("acc", 0.9, 1002, 1)],
        params=[Param("model", "rf"), Param("opt/lr", "0.01")],
        tags=[RunTag("note", "two\nlines")],
    )
    store.log_inputs(
        rid, [DatasetInput(Dataset("train", "d1g3st", "local", "{}"), {"mlflow.data.context": "t"})]
    )
    model = store.create_logged_model(eid, name="clf", source_run_id=rid)
    store.finalize_logged_model(model.model_id, LoggedModelStatus.LOGGED_MODEL_READY)
    store.log_outputs(rid, [ModelOutput(model.model_id, 1)])
    repo = LocalArtifactRepo(best.info.artifact_uri)
    (tmp_path / "plot.png").write_bytes(b"\x89PNG....")
    repo.log_artifact(tmp_path / "plot.png", "plots")
    (tmp_path / "readme.txt").write_text("hi")
    repo.log_artifact(tmp_path / "readme.txt")
    store.update_run_info(rid, RunStatus.FINISHED, 2000)
    other = store.create_run(eid, "bob", 1100, [RunTag("mlflow.parentRunId", rid)]).info.run_id
    store.log_metric(other, Metric("acc", 0.55, 1101, 0))
    low = store.create_run(eid, "bob", 1200, []).info.run_id
    store.log_metric(low, Metric("acc", 0.1, 1201, 0))
    gone = store.create_run(eid, "bob", 1300, []).info.run_id
    store.delete_run(gone)

    out = run_mlflow(root, MLFLOW_READS)
    assert out["exp"] == [eid, "from-runyard", {"team": "nlp"}, "active"]
    assert out["get_run"] == {
        "id": rid,
        "name": "best",
        "status": "FINISHED",
        "stage": "active",
        "params": {"model": "rf", "opt/lr": "0.01"},
        "metrics": {"acc": 0.9},
        "tags": {"mlflow.user": "ann", "mlflow.runName": "best", "note": "two\nlines"},
    }
    assert out["history"] == [[1001, 0.6, 0], [1002, 0.9, 1]]
    assert out["good"] == [rid, other]
    assert out["deleted"] == [gone]
    assert out["artifacts"] == [["plots", True, None], ["readme.txt", False, 2]]
    assert out["nested"] == [["plots/plot.png", 8]]
    assert out["inputs"] == [["train", "d1g3st", {"mlflow.data.context": "t"}]]
    assert out["model"] == ["clf"]


# ---- the same story told by both: the same files -------------------------------------------
MLFLOW_LAYOUT = """
import json
from mlflow import MlflowClient
from mlflow.entities import Dataset, DatasetInput, InputTag, Metric, Param, RunTag
from mlflow.entities import LoggedModelOutput, LoggedModelStatus
c = MlflowClient()
eid = c.create_experiment("layout", tags={"k": "v"})
run = c.create_run(eid, run_name="r")
rid = run.info.run_id
c.log_batch(rid, metrics=[Metric("m", 1.0, 5, 0), Metric("d/m", 2.0, 6, 1)],
            params=[Param("p", "1"), Param("a/b", "2")], tags=[RunTag("t", "x")])
context = InputTag("mlflow.data.context", "train")
c.log_inputs(rid, [DatasetInput(Dataset("ds", "abc", "code", "{}"), [context])])
model = c.create_logged_model(eid, name="mod", source_run_id=rid, params={"alpha": "1"})
c.finalize_logged_model(model.model_id, LoggedModelStatus.READY)
c.log_outputs(rid, [LoggedModelOutput(model.model_id, 0)])
c.log_text(rid, "hi", "a/b.txt")
c.set_terminated(rid)
gone = c.create_experiment("gone")
c.delete_experiment(gone)
print(json.dumps({}))
"""


def _runyard_layout(root: Path) -> None:
    store = FileStore(str(root))
    eid = store.create_experiment("layout", tags=[("k", "v")])
    run = store.create_run(eid, "u", 1700000000001, [], run_name="r")
    rid = run.info.run_id
    store.log_batch(
        rid,
        metrics=[Metric("m", 1.0, 5, 0), Metric("d/m", 2.0, 6, 1)],
        params=[Param("p", "1"), Param("a/b", "2")],
        tags=[RunTag("t", "x")],
    )
    store.log_inputs(
        rid, [DatasetInput(Dataset("ds", "abc", "code", "{}"), {"mlflow.data.context": "train"})]
    )
    model = store.create_logged_model(eid, name="mod", source_run_id=rid, params=[("alpha", "1")])
    store.finalize_logged_model(model.model_id, LoggedModelStatus.LOGGED_MODEL_READY)
    store.log_outputs(rid, [ModelOutput(model.model_id, 0)])
    repo = LocalArtifactRepo(run.info.artifact_uri)
    (root.parent / "b.txt").write_text("hi")
    repo.log_artifact(root.parent / "b.txt", "a")
    store.update_run_info(rid, RunStatus.FINISHED, 1700000000002)
    store.delete_experiment(store.create_experiment("gone"))


def _listing(root: Path) -> list[str]:
    """``find``-style listing with ids replaced by what they are."""
    paths = []
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            paths.append(os.path.relpath(os.path.join(dirpath, name), root))
    text = "\n".join(sorted(paths))
    text = re.sub(r"m-[0-9a-f]{32}", "<model>", text)
    text = re.sub(r"\b[0-9a-f]{32}\b", "<hex>", text)
    text = re.sub(r"\b\d{18}\b", "<exp>", text)
    return sorted(set(text.splitlines()))


def _meta_keys(root: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for meta in root.rglob("meta.yaml"):
        kind = re.sub(
            r"m-[0-9a-f]{32}|\b[0-9a-f]{32}\b|\b\d{18}\b", "<id>", str(meta.relative_to(root))
        )
        keys = re.findall(r"^(\w+):", meta.read_text(), re.M)
        found[kind] = sorted(k for k in keys if k != "deleted_time")
    return found


def test_both_tools_lay_out_the_same_files(tmp_path: Path) -> None:
    ours, theirs = tmp_path / "ours" / "mlruns", tmp_path / "theirs" / "mlruns"
    _runyard_layout(ours)
    run_mlflow(theirs, MLFLOW_LAYOUT)
    assert _listing(ours) == _listing(theirs)
    assert _meta_keys(ours) == _meta_keys(theirs)
    # a run's and an experiment's meta.yaml differ only in ids, names, times and paths
    is_run = re.compile(r"^run_id: ", re.M)
    ours_run = next(p for p in ours.rglob("meta.yaml") if is_run.search(p.read_text()))
    theirs_run = next(p for p in theirs.rglob("meta.yaml") if is_run.search(p.read_text()))
    volatile = re.compile(r"\d{18}|\d{13}|[0-9a-f]{32}|/[^\s]*/mlruns|user_id: \w+")
    assert volatile.sub("#", ours_run.read_text()) == volatile.sub("#", theirs_run.read_text())
