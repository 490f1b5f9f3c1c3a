"""``runs/log-batch`` builds a metric's field path only when it has to name a bad one: the
message must still point at the right index, and nothing of the batch is written."""

from __future__ import annotations

from pathlib import Path

from runyard.server.app import create_app

API = "/api/2.0/mlflow"


def test_bad_metric_is_named_by_its_index(tmp_path: Path) -> None:
    app = create_app(
        {
            "backend_store_uri": f"sqlite:///{tmp_path / 'db.sqlite'}",
            "artifacts_destination": str(tmp_path / "artifacts"),
            "log_level": "WARNING",
        }
    )
    client = app.test_client()
    created = client.post(f"{API}/runs/create", json={"experiment_id": "0", "start_time": 1})
    run_id = created.get_json()["run"]["info"]["run_id"]
    good = {"key": "m", "value": 1.0, "timestamp": 1, "step": 0}
    bad = {"key": "m", "value": "abc", "timestamp": 2}
    reply = client.post(
        f"{API}/runs/log-batch", json={"run_id": run_id, "metrics": [good, good, bad]}
    )
    assert reply.status_code == 400
    assert "'metrics[2].value'" in reply.get_json()["message"]
    history = client.get(
        f"{API}/metrics/get-history", query_string={"run_id": run_id, "metric_key": "m"}
    )
    assert history.status_code == 200 and history.get_json() == {}
