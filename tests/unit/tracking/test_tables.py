"""``log_table`` and ``load_table``: MLflow's table files and tag, appended to and read across
runs, refused whole when the table cannot be logged."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import runyard
from PIL import Image
from runyard.errors import InvalidParameterValue, ResourceDoesNotExist


def test_a_table_grows_with_each_call_and_is_listed_once() -> None:
    runyard.set_experiment("tables")
    with runyard.start_run() as first:
        runyard.log_table({"q": ["a", "b"], "score": [0.5, 0.7]}, "eval/answers.json")
        runyard.log_table(
            pd.DataFrame({"q": ["c"], "score": [0.123456789012]}), "eval/answers.json"
        )
        runyard.log_table({"q": "d", "score": 1.0}, "eval/answers.json")  # one row of scalars
    with runyard.start_run() as second:
        runyard.log_table({"q": ["e"], "score": [0.1]}, "eval/answers.json")
    tag = runyard.get_run(first.info.run_id).data.tags["mlflow.loggedArtifacts"]
    assert json.loads(tag) == [{"path": "eval/answers.json", "type": "table"}]

    table = runyard.load_table("eval/answers.json", extra_columns=["run_id"])
    rows = sorted(zip(table["q"], table["score"], table["run_id"], strict=True))
    assert rows == [
        ("a", 0.5, first.info.run_id),
        ("b", 0.7, first.info.run_id),
        ("c", 0.123456789012, first.info.run_id),
        ("d", 1.0, first.info.run_id),
        ("e", 0.1, second.info.run_id),
    ]
    only = runyard.load_table("eval/answers.json", run_ids=[second.info.run_id])
    assert only["q"].tolist() == ["e"]


def test_parquet_tables_round_trip() -> None:
    with runyard.start_run():
        runyard.log_table({"x": [1, 2], "y": ["p", "q"]}, "t.parquet")
        runyard.log_table({"x": [3], "y": ["r"]}, "t.parquet")
    table = runyard.load_table("t.parquet")
    assert table["x"].tolist() == [1, 2, 3] and table["y"].tolist() == ["p", "q", "r"]


def test_image_cells_are_stored_beside_the_table() -> None:
    pictures = [Image.fromarray(np.full((40, 400, 3), i, dtype=np.uint8)) for i in (0, 255)]
    with runyard.start_run() as run:
        runyard.log_table({"id": [1, 2], "picture": pictures}, "gallery.json")
    client = runyard.Client()
    (cell, _) = runyard.load_table("gallery.json")["picture"].tolist()
    assert cell["type"] == "image"
    assert cell["filepath"].startswith("table_images/gallery/")
    assert cell["filepath"].endswith(".png")
    local = client.download_artifacts(run.info.run_id, cell["compressed_filepath"])
    with Image.open(local) as thumbnail:
        assert max(thumbnail.size) == 256
    with runyard.start_run(), pytest.raises(InvalidParameterValue, match="mixes images"):
        runyard.log_table({"picture": [pictures[0], "not an image"]}, "mixed.json")


@pytest.mark.parametrize(
    ("data", "artifact_file", "message"),
    [
        ({"x": [1]}, "table.csv", r"ending in '\.json' or '\.parquet'"),
        ({"x": [1]}, "../escape.json", "Invalid"),
        ([1, 2, 3], "table.json", "DataFrame or a dict"),
    ],
)
def test_a_table_that_cannot_be_logged_leaves_nothing(
    data: object, artifact_file: str, message: str
) -> None:
    with runyard.start_run() as run, pytest.raises(InvalidParameterValue, match=message):
        runyard.log_table(data, artifact_file)
    stored = runyard.get_run(run.info.run_id)
    assert "mlflow.loggedArtifacts" not in stored.data.tags
    assert runyard.Client().list_artifacts(run.info.run_id) == []


def test_loading_a_table_nobody_logged_is_not_found() -> None:
    with runyard.start_run():
        runyard.log_table({"x": [1]}, "a.json")
    with pytest.raises(ResourceDoesNotExist, match=r"b\.json"):
        runyard.load_table("b.json")
    with pytest.raises(InvalidParameterValue, match=r"No run column 'metrics\.nope'"):
        runyard.load_table("a.json", extra_columns=["metrics.nope"])


def test_a_table_that_cannot_be_written_uploads_none_of_its_images() -> None:
    pictures = [Image.fromarray(np.zeros((4, 4, 3), dtype=np.uint8)) for _ in range(2)]
    with (
        runyard.start_run() as run,
        pytest.raises(InvalidParameterValue, match="cannot be written"),
    ):
        runyard.log_table({"picture": pictures, "mixed": [1, "a"]}, "t.parquet")
    assert runyard.Client().list_artifacts(run.info.run_id) == []
