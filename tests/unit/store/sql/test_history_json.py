"""History pages written as JSON text by Postgres (``history_json``) read back exactly as the
Python renderer's text does: every double bit for bit (negative zero, the smallest and largest,
integral values as floats, NaN and the infinities as MLflow's strings), the dataset and model
fields with quotes and non-ASCII text, points in page order and the same page tokens, for
series logged in time order and out of it."""

from __future__ import annotations

import json
import math
import random
import struct
from collections.abc import Iterator
from typing import Any

import pytest
from runyard.entities import Metric
from runyard.store.base import TrackingStore
from runyard.store.sql import SqlStore
from runyard.store.sql.history_json import position

from tests.postgres import fresh_postgres_database

EDGES = [
    0.0, -0.0, 1.0, -1.0, 2.0, 1e15, 1e16, -1e22, 1e-7, 0.1, 1 / 3, 123456789.125,
    5e-324, -5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, -1.7976931348623157e308,
    float("nan"), float("inf"), float("-inf"), 9007199254740993.0, 4.35,
]  # fmt: skip


def random_doubles(count: int) -> list[float]:
    """Doubles from random bit patterns: every exponent and mantissa, NaN payloads aside."""
    rng = random.Random(29)
    found = []
    while len(found) < count:
        value = struct.unpack(">d", rng.getrandbits(64).to_bytes(8, "big"))[0]
        if not math.isnan(value):
            found.append(value)
    return found


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SqlStore]:
    with fresh_postgres_database() as uri:
        store = SqlStore(uri, str(tmp_path_factory.mktemp("artifacts")))
        yield store
        store.close()


def exact(value: Any) -> Any:
    """A parsed JSON value with every float spelled by its bits, so 0.0 and -0.0, or 1 and
    1.0, do not compare equal."""
    if isinstance(value, float):
        return ("float", struct.pack(">d", value))
    if isinstance(value, dict):
        return {key: exact(item) for key, item in value.items()}
    if isinstance(value, list):
        return [exact(item) for item in value]
    return (type(value).__name__, value)


def pages(store: SqlStore, run_id: str, key: str, size: int, python: bool) -> list[tuple]:
    """Every page of the history as (parsed text, token), from the database's text or from
    the Python renderer's."""
    found, token = [], None
    while True:
        if python:
            text, token = TrackingStore.get_metric_history_json(store, run_id, key, size, token)
        else:
            text, token = store.get_metric_history_json(run_id, key, size, token)
        found.append((None if text is None else exact(json.loads(text)), token))
        if token is None:
            return found


def logged_run(store: SqlStore, points: list[Metric]) -> str:
    experiment_id = store.create_experiment(f"history-{len(store.search_experiments())}")
    run_id = store.create_run(experiment_id, "u", 1, [], "r").info.run_id
    for start in range(0, len(points), 1000):
        store.log_batch(run_id, points[start : start + 1000], [], [])
    return run_id


@pytest.mark.parametrize("in_time_order", [True, False])
@pytest.mark.parametrize("size", [1, 7, 1000, 25000])
def test_the_database_writes_what_python_writes(
    store: SqlStore, in_time_order: bool, size: int
) -> None:
    values = EDGES + random_doubles(1500)
    if in_time_order:
        points = [Metric("m", v, 1000 + i, i) for i, v in enumerate(values)]
    else:  # later steps logged at earlier times: the history is sorted, not read in key order
        points = [Metric("m", v, 10_000 - i, i % 50) for i, v in enumerate(values)]
    run_id = logged_run(store, points)
    ours = pages(store, run_id, "m", size, python=False)
    assert ours == pages(store, run_id, "m", size, python=True)
    assert sum(len(text) for text, _ in ours) == len(values)


def test_dataset_and_model_fields_keep_their_text(store: SqlStore) -> None:
    odd = 'quote " backslash \\ tab \t é 日本 \u2028'
    points = [
        Metric("odd key: a/b.c-d_e", 1.5, 10, 0, model_id="m-1", dataset_name=odd),
        Metric("odd key: a/b.c-d_e", 2.5, 11, 1, dataset_name="train", dataset_digest="abc"),
        Metric("odd key: a/b.c-d_e", float("nan"), 12, 2),
    ]
    run_id = logged_run(store, points)
    for size in (1, 2, 10):
        ours = pages(store, run_id, "odd key: a/b.c-d_e", size, python=False)
        assert ours == pages(store, run_id, "odd key: a/b.c-d_e", size, python=True)
    text, token = store.get_metric_history_json(run_id, "odd key: a/b.c-d_e", 10)
    assert token is None
    assert json.loads(text or "")[0]["dataset_name"] == odd


def test_an_unknown_series_has_no_points(store: SqlStore) -> None:
    run_id = logged_run(store, [Metric("m", 1.0, 1, 0)])
    assert store.get_metric_history_json(run_id, "other", 10) == (None, None)
    assert store.get_metric_history_json("0" * 32, "m", 10) == (None, None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"key":"m","value":-0.0,"timestamp":5,"step":2}', (5, 2, -0.0, False)),
        ('{"key":"m","value":"NaN","timestamp":5,"step":2}', (5, 2, 0.0, True)),
        ('{"key":"m","value":"-Infinity","timestamp":5,"step":2}', (5, 2, -math.inf, False)),
        ('{"key":"m","value":1e+15,"timestamp":5,"step":2}', (5, 2, 1e15, False)),
    ],
)
def test_a_page_position_is_read_back_from_its_last_point(text: str, expected: tuple) -> None:
    found = position(text)
    assert exact(list(found)) == exact(list(expected))
