"""Tables logged by runyard's client are read by MLflow's ``load_table``, and the other way
round, through one runyard server: same files, same ``mlflow.loggedArtifacts`` tag."""

from __future__ import annotations

import pytest
import runyard

from tests.compat.conftest import Served


def test_tables_pass_between_runyard_and_mlflow(served: Served) -> None:
    pytest.importorskip("pandas")
    client = runyard.Client(served.server.url)
    experiment_id = client.create_experiment(f"tables-{served.backend_uri[:8]}")
    ours = client.create_run(experiment_id).info.run_id
    client.log_table(ours, {"input": ["a", "b"], "output": [1, 2]}, "eval/predictions.json")

    out = served.run_script("tables_interop.py", env={"TABLE_EXPERIMENT_ID": experiment_id})
    assert out["read"] == [["a", 1, ours], ["b", 2, ours]]

    table = client.load_table(
        experiment_id, "eval/predictions.json", extra_columns=["run_id"]
    ).sort_values("input")
    assert table["input"].tolist() == ["a", "b", "c"]
    assert table["run_id"].tolist() == [ours, ours, out["run_id"]]
    picture = table["picture"].tolist()[2]
    assert picture["type"] == "image" and picture["filepath"].endswith(".png")
    files = {f.path for f in client.list_artifacts(out["run_id"], "table_images/eval/predictions")}
    assert {picture["filepath"], picture["compressed_filepath"]} <= files
