"""The offline spool against a real ``runyard server`` that goes away and comes back, and a
client killed mid-run: every acknowledged point ends on the server, none twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import runyard
from runyard.entities import Metric, Param, RunTag
from runyard.store.spool.spool import Spool, batch_record, merged, spool_files, sync_command
from runyard.store.spool.store import SpoolingStore

from tests.live_server import RUNYARD, start_live_server

REPO = Path(__file__).resolve().parents[2]


def test_records_are_durable_ordered_and_a_torn_line_is_dropped(tmp_path: Path) -> None:
    spool = Spool.for_uri(str(tmp_path), "http://example.invalid:5000")
    seqs = [spool.append(batch_record("r", [Metric("m", i, 1, i)], [], [])) for i in range(3)]
    assert seqs == [1, 2, 3]
    with open(spool.path, "ab") as fh:
        fh.write(b'{"seq": 4, "op": "log_ba')  # a crash in the middle of a write
    assert [e.record["seq"] for e in spool.pending()] == [1, 2, 3]
    assert spool.append(batch_record("r", [], [Param("p", "v")], [])) == 4
    entries = spool.pending()
    assert [e.record["seq"] for e in entries] == [1, 2, 3, 4]
    spool.mark_done(entries[1].end, 2)
    assert [e.record["seq"] for e in spool.pending()] == [3, 4]
    spool.mark_done(entries[-1].end, 4)
    assert spool.pending() == [] and os.path.getsize(spool.path) == 0
    assert spool.append(batch_record("r", [], [], [RunTag("t", "v")])) == 5  # seq goes on
    (found,) = spool_files(str(tmp_path))
    assert found.tracking_uri == "http://example.invalid:5000"


@pytest.fixture
def server(tmp_path: Path):
    with start_live_server(
        f"sqlite:///{tmp_path / 'db.sqlite'}", str(tmp_path / "artifacts")
    ) as live:
        yield live


def test_server_stopped_and_restarted_mid_run_loses_and_doubles_nothing(
    server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNYARD_HTTP_MAX_RETRIES", "0")
    runyard.set_tracking_uri(server.url)
    run = runyard.start_run()
    rid = run.info.run_id
    store = runyard.Client().store
    assert isinstance(store, SpoolingStore)
    for step in range(40):
        runyard.log_metric("loss", step, step=step)
    server.stop()
    for step in range(40, 80):
        runyard.log_metric("loss", step, step=step)
    runyard.log_param("phase", "offline")
    runyard.set_tag("offline", "yes")
    assert store.spool.has_pending()
    server.start()
    for step in range(80, 120):
        runyard.log_metric("loss", step, step=step)
    runyard.end_run()
    assert not store.spool.has_pending()
    got = runyard.get_run(rid)
    assert got.info.status == "FINISHED"
    assert got.data.params == {"phase": "offline"}
    assert got.data.tags["offline"] == "yes"
    steps = [m.step for m in runyard.Client().get_metric_history(rid, "loss")]
    assert sorted(steps) == list(range(120))  # every point, once


CHILD = """
import sys, runyard
runyard.set_tracking_uri(sys.argv[1])
run = runyard.start_run()
print("run", run.info.run_id, flush=True)
step = 0
while True:
    runyard.log_metric("x", step, step=step)
    sys.stdout.write(f"ack {step}\\n")  # one write: a kill cannot split the line
    sys.stdout.flush()
    step += 1
"""


def test_client_killed_mid_run_then_runyard_sync_delivers_every_acknowledged_point(
    server, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNYARD_", "MLFLOW_"))}
    env.update(
        RUNYARD_HTTP_MAX_RETRIES="0",
        RUNYARD_SPOOL_DIR=str(tmp_path / "spool"),
        PYTHONPATH=str(REPO),
    )
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, server.url], stdout=subprocess.PIPE, env=env, text=True
    )
    assert child.stdout is not None
    run_id = child.stdout.readline().split()[1]
    acked = -1

    def read_acks(count: int) -> None:
        nonlocal acked
        for _ in range(count):
            acked = int(child.stdout.readline().split()[1])

    read_acks(30)
    server.stop()
    read_acks(30)  # these went to the spool
    os.kill(child.pid, signal.SIGKILL)
    child.wait(10)
    *complete, _torn = child.stdout.read().split("\n")  # the kill may cut the last line
    for line in complete:  # acknowledged before the kill, unread
        if line.startswith("ack "):
            acked = int(line.split()[1])
    child.stdout.close()
    server.start()
    sync = subprocess.run(
        [str(RUNYARD), "sync"], env=env, capture_output=True, text=True, timeout=120
    )
    assert sync.returncode == 0, sync.stdout + sync.stderr
    assert "sent" in sync.stdout
    client = runyard.Client(server.url)
    steps = sorted(m.step for m in client.get_metric_history(run_id, "x"))
    assert len(steps) == len(set(steps))  # nothing twice
    assert set(range(acked + 1)) <= set(steps)  # everything acknowledged is there
    assert len(steps) <= acked + 2  # at most the one write in flight when killed
    again = sync_command(spool_dir=str(tmp_path / "spool"), echo=lambda _line: None)
    assert again == 0


def test_replay_packs_lines_within_every_batch_limit(tmp_path: Path) -> None:
    spool = Spool.for_uri(str(tmp_path), "http://example.invalid:5000")
    spool.append(batch_record("r", [Metric("m", i, 1, i) for i in range(1000)], [], []))
    spool.append(batch_record("r", [], [], [RunTag("t", "v")]))  # 1001 entities together
    spool.append(batch_record("r", [], [Param("p", "1")], []))
    spool.append(batch_record("r", [], [Param("p", "1")], []))  # a key again: a new request
    requests = list(merged(spool.pending()))
    sizes = [
        (len(r["metrics"]), len(r["params"]), len(r["tags"]), [e.record["seq"] for e in lines])
        for lines, r in requests
    ]
    assert sizes == [(1000, 0, 0, [1]), (0, 1, 1, [2, 3]), (0, 1, 0, [4])]
