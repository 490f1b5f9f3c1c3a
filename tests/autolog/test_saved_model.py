"""What every flavor shares: the signature autologging infers from the training data."""

from __future__ import annotations

import json

import numpy as np
import pytest
from runyard.autolog.saved_model import SIGNATURE_ROWS, training_signature


def test_the_signature_comes_from_the_first_rows_of_an_array() -> None:
    seen: list[int] = []

    def predict(rows: np.ndarray) -> np.ndarray:
        seen.append(len(rows))
        return rows.sum(axis=1)

    signature = training_signature(predict, np.ones((100, 3)))
    assert seen == [SIGNATURE_ROWS]
    assert json.loads(signature["inputs"]) == [
        {"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, 3]}}
    ]


def test_no_signature_for_data_that_is_not_an_example_or_a_model_that_fails() -> None:
    assert training_signature(lambda rows: rows, [[1.0, 2.0]]) is None

    def broken(rows: np.ndarray) -> np.ndarray:
        raise ValueError("needs fitting")

    with pytest.warns(UserWarning, match="needs fitting"):
        assert training_signature(broken, np.ones((4, 2))) is None
