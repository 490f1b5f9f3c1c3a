"""The datasets autologging logs are MLflow's: the same digest, schema and profile as
``mlflow.data.from_pandas`` and ``from_numpy`` give the same data, so a dataset reads the same
in either tool and searches by digest find it in both."""

from __future__ import annotations

import json

import pytest
from runyard.autolog.datasets import dataset_of

from tests.requirements import import_or_skip

np = import_or_skip("numpy", "numpy")
pd = import_or_skip("pandas", "pandas")
mlflow_data = import_or_skip("mlflow.data", "mlflow")

from mlflow.data.code_dataset_source import CodeDatasetSource  # noqa: E402
from mlflow.data.numpy_dataset import from_numpy  # noqa: E402
from mlflow.data.pandas_dataset import from_pandas  # noqa: E402

RNG = np.random.default_rng(7)
SOURCE = CodeDatasetSource({"mlflow.user": "someone"})


def _frames() -> dict[str, object]:
    rows = 12_345  # more than the 10,000 rows a digest reads
    return {
        "numbers": pd.DataFrame(
            {"a": RNG.normal(size=rows), "b": RNG.integers(0, 9, size=rows), "c": [1.5] * rows}
        ),
        "mixed": pd.DataFrame(
            {
                "name": ["x", "y", "z", "w"],
                "flag": [True, False, True, True],
                "small": np.array([1, 2, 3, 4], dtype="int32"),
                "single": np.array([0.5, 1.5, 2.5, 3.5], dtype="float32"),
                "gap": [1.0, float("nan"), 3.0, 4.0],
            }
        ),
    }


def _same(ours, theirs) -> None:
    expected = theirs._to_mlflow_entity()
    assert ours.name == expected.name
    assert ours.digest == expected.digest
    assert ours.source_type == expected.source_type == "code"
    assert set(json.loads(ours.source)) == {"tags"}
    assert json.loads(ours.schema) == json.loads(expected.schema)
    assert json.loads(ours.profile) == json.loads(expected.profile)


@pytest.mark.parametrize("kind", ["numbers", "mixed"])
def test_a_dataframe_is_mlflows_dataset(kind: str) -> None:
    frame = _frames()[kind]
    _same(dataset_of(frame), from_pandas(frame, source=SOURCE))


def test_arrays_with_and_without_targets_are_mlflows_datasets() -> None:
    features = RNG.normal(size=(20_011, 3))
    targets = RNG.integers(0, 2, size=20_011)
    _same(dataset_of(features, targets), from_numpy(features, targets=targets, source=SOURCE))
    _same(dataset_of(features), from_numpy(features, source=SOURCE))
    named = dataset_of(features, targets, name="valid_0")
    _same(named, from_numpy(features, targets=targets, source=SOURCE, name="valid_0"))


def test_a_sparse_matrix_is_made_dense_and_other_data_is_no_dataset() -> None:
    sparse = pytest.importorskip("scipy.sparse")
    matrix = sparse.random(50, 4, density=0.3, random_state=1, format="csr")
    dense = matrix.toarray()
    labels = np.arange(50)
    _same(dataset_of(matrix, labels), from_numpy(dense, targets=labels, source=SOURCE))
    assert dataset_of([[1, 2], [3, 4]]) is None
    assert dataset_of("train.csv") is None


def test_frames_of_every_column_kind_and_an_empty_one_digest_as_in_mlflow() -> None:
    frame = pd.DataFrame(
        {
            "when": pd.to_datetime(["2026-01-01", "2026-01-02", "2026-01-03"]),
            "kind": pd.Categorical(["a", "b", "a"]),
            "mixed": ["x", 1, "y"],
            "flag": [True, False, True],
            "text": pd.array(["p", "q", "r"], dtype="string"),
        }
    )
    assert dataset_of(frame).digest == from_pandas(frame, source=SOURCE).digest
    empty = frame.drop(columns="text").iloc[:0]  # MLflow's own digest fails on an empty "text"
    assert dataset_of(empty).digest == from_pandas(empty, source=SOURCE).digest
