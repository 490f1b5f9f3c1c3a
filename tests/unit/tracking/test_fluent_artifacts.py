"""``runyard.artifacts.<name>``: MLflow's ``mlflow.artifacts`` functions on runyard's client."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import runyard
import runyard.artifacts
from runyard.errors import InvalidParameterValue


@pytest.fixture
def run_id(tmp_path: Path) -> str:
    files = tmp_path / "files"
    (files / "a" / "b").mkdir(parents=True)
    (files / "a" / "b" / "c.txt").write_text("hé")
    with runyard.start_run() as run:
        runyard.log_artifacts(str(files), "dir")
        runyard.log_dict({"lr": 0.1}, "config.json")
        runyard.log_dict({"lr": 0.1}, "config.yaml")
        runyard.log_image(np.zeros((4, 6, 3), dtype=np.uint8), artifact_file="black.png")
    return run.info.run_id


def test_download_by_run_and_path_or_by_uri(run_id: str, tmp_path: Path) -> None:
    local = runyard.artifacts.download_artifacts(run_id=run_id, artifact_path="dir/a")
    assert Path(local).name == "a"  # what the URI names lands in dst_path, as in MLflow
    assert (Path(local) / "b" / "c.txt").read_text() == "hé"
    one = runyard.artifacts.download_artifacts(
        f"runs:/{run_id}/dir/a/b/c.txt", dst_path=tmp_path / "out"
    )
    assert Path(one) == tmp_path / "out" / "c.txt" and Path(one).read_text() == "hé"


@pytest.mark.parametrize("form", ["path", "file URI", "file URI of a directory"])
def test_a_plain_uri_downloads_what_it_names_by_name(
    run_id: str, tmp_path: Path, form: str
) -> None:
    """As MLflow: ``artifact_uri=<location>/c.txt`` gives ``dst_path/c.txt``, a directory
    ``dst_path/<its name>/...``; not the file's content laid out as a directory."""
    location = Path(runyard.get_run(run_id).info.artifact_uri.removeprefix("file://"))
    named = location / "dir" / "a" / "b" / ("" if form.endswith("directory") else "c.txt")
    uri = str(named) if form == "path" else named.as_uri() + ("/" if named.is_dir() else "")
    local = Path(runyard.artifacts.download_artifacts(uri, dst_path=tmp_path / "out"))
    if named.is_dir():
        assert local == tmp_path / "out" / "b" and (local / "c.txt").read_text() == "hé"
    else:
        assert local == tmp_path / "out" / "c.txt" and local.read_text() == "hé"


def test_list_and_load(run_id: str) -> None:
    listed = runyard.artifacts.list_artifacts(run_id=run_id)
    assert {(f.path, f.is_dir) for f in listed} == {
        ("dir", True),
        ("config.json", False),
        ("config.yaml", False),
        ("black.png", False),
    }
    below = runyard.artifacts.list_artifacts(f"runs:/{run_id}/dir/a")
    assert [f.path for f in below] == ["dir/a/b"]
    assert runyard.artifacts.load_text(f"runs:/{run_id}/dir/a/b/c.txt") == "hé"
    assert runyard.artifacts.load_dict(f"runs:/{run_id}/config.json") == {"lr": 0.1}
    with pytest.raises(InvalidParameterValue, match="does not hold a JSON object"):
        runyard.artifacts.load_dict(f"runs:/{run_id}/config.yaml")  # as MLflow's load_dict
    assert runyard.artifacts.load_image(f"runs:/{run_id}/black.png").size == (6, 4)


def test_exactly_one_of_uri_or_run(run_id: str) -> None:
    with pytest.raises(InvalidParameterValue, match="exactly one"):
        runyard.artifacts.download_artifacts(f"runs:/{run_id}/dir", run_id=run_id)
    with pytest.raises(InvalidParameterValue, match="exactly one"):
        runyard.artifacts.list_artifacts()
    with pytest.raises(InvalidParameterValue, match="goes with 'run_id'"):
        runyard.artifacts.download_artifacts(f"runs:/{run_id}", artifact_path="dir")
    with pytest.raises(InvalidParameterValue):
        runyard.artifacts.download_artifacts(run_id=run_id, artifact_path="../../etc")
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = runyard.artifacts.nope  # type: ignore[attr-defined]
