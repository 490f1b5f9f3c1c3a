"""Bounded answers: a long metric history comes in pages of MLflow's size, and answering it keeps
a worker's memory flat; listings never show names that could not be artifact paths."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
import requests
from runyard.entities import Metric
from runyard.store.sql import SqlStore
from runyard.store.sql import metrics as sql_metrics
from runyard.validation import MAX_RESULTS_GET_METRIC_HISTORY

from tests.live_server import start_live_server
from tests.requirements import import_or_skip
from tests.s3_server import start_s3_server
from tests.server.conftest import Api

POINTS = 1_000_000
HISTORY = "/api/2.0/mlflow/metrics/get-history"


def _million_point_run(uri: str, tmp_path: Path) -> str:
    """A run with one metric of ``POINTS`` points, written through the store's bulk path."""
    store = SqlStore(uri, str(tmp_path / "artifacts"))
    run_id = store.create_run("0", "u", 0).info.run_id
    chunk = 100_000
    for start in range(0, POINTS, chunk):
        points = [Metric("loss", float(i), i, i) for i in range(start, start + chunk)]
        with store._write() as conn:
            sql_metrics.write_points(conn, run_id, points)
    store.close()
    return run_id


def _peak_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


def _worker_pid(master: int) -> int:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    assert len(children) == 1, children
    return int(children[0])


def test_history_without_max_results_is_capped_paged_and_memory_bounded(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'big.db'}"
    run_id = _million_point_run(uri, tmp_path)
    with start_live_server(uri, workers=1) as server:
        assert server.process is not None
        worker = _worker_pid(server.process.pid)
        session = requests.Session()
        query = {"run_id": run_id, "metric_key": "loss"}
        first = session.get(server.url + HISTORY, params=query, timeout=120)
        assert first.status_code == 200
        baseline = _peak_rss_kib(worker)
        body = first.json()
        assert len(body["metrics"]) == MAX_RESULTS_GET_METRIC_HISTORY
        assert body["next_page_token"]
        seen, token, pages = len(body["metrics"]), body["next_page_token"], 1
        last_step = body["metrics"][-1]["step"]
        while token:
            page = session.get(
                server.url + HISTORY, params={**query, "page_token": token}, timeout=120
            ).json()
            assert len(page["metrics"]) <= MAX_RESULTS_GET_METRIC_HISTORY
            assert int(page["metrics"][0]["step"]) == int(last_step) + 1
            seen, pages = seen + len(page["metrics"]), pages + 1
            last_step, token = page["metrics"][-1]["step"], page.get("next_page_token")
        assert (seen, pages) == (POINTS, POINTS // MAX_RESULTS_GET_METRIC_HISTORY)
        growth_mib = (_peak_rss_kib(worker) - baseline) / 1024
        assert growth_mib < 64, f"worker peak RSS grew {growth_mib:.0f} MiB while paging"
        too_many = session.get(
            server.url + HISTORY,
            params={**query, "max_results": MAX_RESULTS_GET_METRIC_HISTORY + 1},
            timeout=30,
        )
        assert too_many.status_code == 400 and "at most" in too_many.json()["message"]


@pytest.fixture
def warnings_log(caplog: pytest.LogCaptureFixture):  # type: ignore[no-untyped-def]
    """The ``runyard.artifacts`` warnings (the server's logger does not propagate to root)."""
    logger = logging.getLogger("runyard.artifacts")
    logger.addHandler(caplog.handler)
    caplog.set_level(logging.WARNING, logger="runyard.artifacts")
    yield caplog
    logger.removeHandler(caplog.handler)


def _plant_odd_names(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "good.txt").write_text("ok")
    (directory / "back\\slash.txt").write_text("x")


@pytest.mark.parametrize("prefix", ["/api/2.0/mlflow-artifacts/artifacts", "/ajax-api/2.0"])
def test_listings_skip_names_that_cannot_be_paths(
    make_client, tmp_path: Path, prefix: str, warnings_log: pytest.LogCaptureFixture
) -> None:
    client = make_client()
    api = Api(client)
    run_id = api.new_run()
    artifact_uri = api.ok_get("runs/get", run_id=run_id)["run"]["info"]["artifact_uri"]
    inner = artifact_uri.removeprefix("mlflow-artifacts:/")
    _plant_odd_names(tmp_path / "mlartifacts" / inner)
    if prefix.startswith("/api/2.0/mlflow-artifacts"):
        reply = client.get(prefix, query_string={"path": inner}).get_json()
    else:
        reply = api.ok_get("artifacts/list", run_id=run_id)
    names = [os.path.basename(f["path"]) for f in reply["files"]]
    assert names == ["good.txt"]
    assert "slash.txt" in warnings_log.text and "not a valid artifact name" in warnings_log.text


def test_bucket_listings_skip_keys_put_there_behind_our_back(
    make_client, monkeypatch: pytest.MonkeyPatch, warnings_log: pytest.LogCaptureFixture
) -> None:
    boto3 = import_or_skip("boto3", "s3")
    with start_s3_server(buckets=["odd-keys"]) as server:
        for key, value in server.env().items():
            monkeypatch.setenv(key, value)
        client = make_client(artifacts_destination="s3://odd-keys/dest")
        s3 = boto3.client("s3", endpoint_url=server.endpoint_url)
        for key in ("good.txt", "../evil.txt", "./dot.txt", "/abs.txt", "a\\b.txt", "x%2e"):
            s3.put_object(Bucket="odd-keys", Key=f"dest/run/{key}", Body=b"x")
        for prefix in (
            "/api/2.0/mlflow-artifacts/artifacts",
            "/ajax-api/2.0/mlflow-artifacts/artifacts",
        ):
            reply = client.get(prefix, query_string={"path": "run"}).get_json()
            assert [f["path"] for f in reply["files"]] == ["good.txt"], reply
        assert "'..'" in warnings_log.text and "b.txt" in warnings_log.text
