"""``runyard models diff``: params, metrics, signature and files of two versions."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from runyard.cli import main
from runyard.entities import Metric, Param
from runyard.store.file import FileStore
from runyard.tracking.client import Client

SIGNATURE = """flavors:
  python_function: {{}}
signature:
  inputs: '[{{"type": "double", "name": "age"}}{extra}]'
  outputs: '[{{"type": "long"}}]'
"""


def _version(client: Client, lr: str, loss: float, extra: str, weights: str) -> None:
    experiment_id = client.create_experiment(f"diff-{lr}")
    run_id = client.create_run(experiment_id).info.run_id
    client.log_batch(run_id, metrics=[Metric("loss", loss, 1, 0)], params=[Param("lr", lr)])
    client.log_text(run_id, SIGNATURE.format(extra=extra), "model/MLmodel")
    client.log_text(run_id, weights, "model/weights.bin")
    client.log_text(run_id, "same", "model/README")
    client.register_model(f"runs:/{run_id}/model", "churn")


def test_diff_of_two_versions(tmp_path: Path) -> None:
    uri = (tmp_path / "mlruns").as_uri()
    FileStore(uri)
    client = Client(uri)
    _version(client, "0.1", 0.5, "", "aaaa")
    _version(client, "0.2", 0.4, ', {"type": "string", "name": "plan"}', "bbbbbb")

    result = CliRunner().invoke(main, ["models", "diff", "churn", "1", "2", "--tracking-uri", uri])
    assert result.exit_code == 0, result.output
    text = result.output
    assert "churn: version 1 (run " in text
    assert "  lr: 0.1 -> 0.2" in text and "  loss: 0.5 -> 0.4" in text
    assert "  plan: (absent) -> string" in text
    assert "Signature outputs: no differences" in text
    assert "  weights.bin: 4 bytes, sha256 " in text and "-> 6 bytes" in text
    assert "README" not in text and "MLmodel:" in text

    as_json = CliRunner().invoke(
        main, ["models", "diff", "churn", "1", "2", "--tracking-uri", uri, "--json"]
    )
    parsed = json.loads(as_json.output)
    assert parsed["params"] == [["lr", "0.1", "0.2"]]
    assert [row[0] for row in parsed["files"]] == ["MLmodel", "weights.bin"]


def test_diff_of_a_missing_version_is_a_clear_error(tmp_path: Path) -> None:
    uri = (tmp_path / "mlruns").as_uri()
    client = Client(uri)
    client.create_registered_model("churn")
    result = CliRunner().invoke(main, ["models", "diff", "churn", "1", "2", "--tracking-uri", uri])
    assert (
        result.exit_code != 0 and "Model Version (name=churn, version=1) not found" in result.output
    )
