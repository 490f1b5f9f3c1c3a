"""Params, metrics and tags: immutability, all-or-nothing batches, limits, the latest value."""

from __future__ import annotations

import math
import random
from concurrent.futures import ThreadPoolExecutor

import pytest
from runyard.entities import Metric
from runyard.errors import InvalidParameterValue, ResourceDoesNotExist
from runyard.store.base import TrackingStore

from tests.contract import metric, new_run, param, tag


@pytest.fixture
def run_id(store: TrackingStore, experiment_id: str) -> str:
    return new_run(store, experiment_id).info.run_id


def test_round_trip(store: TrackingStore, run_id: str) -> None:
    store.log_batch(
        run_id,
        metrics=[metric("loss", 0.5, step=1, timestamp=111)],
        params=[param("lr", "0.01"), param("empty", ""), param("a/b-c_d.e f:1", "odd")],
        tags=[tag("team", "vision")],
    )
    store.log_metric(run_id, metric("acc", 0.9, step=2, timestamp=222))
    store.log_param(run_id, param("depth", "3"))
    store.set_tag(run_id, tag("stage", "dev"))
    data = store.get_run(run_id).data
    assert dict(data.params) == {"lr": "0.01", "empty": "", "a/b-c_d.e f:1": "odd", "depth": "3"}
    assert data.tags["team"] == "vision" and data.tags["stage"] == "dev"
    assert dict(data.metrics) == {"loss": 0.5, "acc": 0.9}
    by_key = {m.key: m for m in data.metric_list}
    assert (by_key["loss"].step, by_key["loss"].timestamp) == (1, 111)
    assert (by_key["acc"].step, by_key["acc"].timestamp) == (2, 222)


def test_concurrent_batches_and_points_to_one_run_all_land(
    store: TrackingStore, run_id: str
) -> None:
    """Threads of one training job (or ranks of a distributed one) log to the same run at
    once, each batch touching the same keys in its own order, single points in between:
    every call succeeds (on PostgreSQL, two batches that locked the same rows in different
    orders deadlocked, and so did a batch and a single point once batches took turns)."""
    keys = [f"k{i:02d}" for i in range(40)]

    def write(index: int) -> None:
        order = random.Random(index).sample(keys, len(keys))
        if index % 4 == 3:  # single points, at step 0: the latest values stay the batches'
            for key in order:
                store.log_metric(run_id, metric(key, -1.0, step=0, timestamp=10_000 + index))
            return
        store.log_batch(
            run_id,
            metrics=[metric(k, float(index), step=index, timestamp=index) for k in order],
            params=[param(k, "same") for k in order],
            tags=[tag(k, "logged") for k in order],
        )

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(write, range(32)))
    data = store.get_run(run_id).data
    assert dict(data.metrics) == {k: 30.0 for k in keys}
    assert dict(data.params) == {k: "same" for k in keys}
    assert {k: v for k, v in data.tags.items() if k in keys} == {k: "logged" for k in keys}
    assert len(store.get_metric_history(run_id, "k00")) == 32


def test_tags_can_be_overwritten(store: TrackingStore, run_id: str) -> None:
    store.set_tag(run_id, tag("t", "1"))
    store.set_tag(run_id, tag("t", "2"))
    assert store.get_run(run_id).data.tags["t"] == "2"


def test_params_are_immutable(store: TrackingStore, run_id: str) -> None:
    store.log_param(run_id, param("p", "v1"))
    store.log_param(run_id, param("p", "v1"))  # the same value again is fine
    with pytest.raises(InvalidParameterValue, match="p"):
        store.log_param(run_id, param("p", "v2"))
    with pytest.raises(InvalidParameterValue, match="p"):
        store.log_batch(
            run_id,
            metrics=[metric("m", 1.0)],
            params=[param("q", "new"), param("p", "v3")],
            tags=[tag("t", "x")],
        )
    data = store.get_run(run_id).data
    assert dict(data.params) == {"p": "v1"}
    assert "m" not in data.metrics and "t" not in data.tags


def test_batch_with_one_bad_item_writes_nothing(store: TrackingStore, run_id: str) -> None:
    good_metrics = [metric("m", float(i), step=i) for i in range(5)]
    with pytest.raises(InvalidParameterValue, match="bad key!"):
        store.log_batch(
            run_id,
            metrics=good_metrics,
            params=[param("ok", "1")],
            tags=[tag("ok", "1"), tag("bad key!", "x")],
        )
    with pytest.raises(InvalidParameterValue, match=r"\.\./evil"):
        store.log_batch(run_id, metrics=[*good_metrics, metric("../evil", 1.0)])
    data = store.get_run(run_id).data
    assert dict(data.params) == {}
    assert "ok" not in data.tags
    assert dict(data.metrics) == {}
    assert list(store.get_metric_history(run_id, "m")) == []


def test_duplicate_param_keys_in_one_batch(store: TrackingStore, run_id: str) -> None:
    with pytest.raises(InvalidParameterValue, match="dd"):
        store.log_batch(run_id, params=[param("dd", "1"), param("dd", "2"), param("x", "1")])
    assert dict(store.get_run(run_id).data.params) == {}


@pytest.mark.parametrize(
    ("metrics", "params", "tags", "message"),
    [
        (0, 101, 0, "100 params"),
        (0, 0, 101, "100 tags"),
        (1001, 0, 0, "1000 metrics"),
        (900, 100, 1, "1000"),
    ],
)
def test_batch_limits(
    store: TrackingStore, run_id: str, metrics: int, params: int, tags: int, message: str
) -> None:
    with pytest.raises(InvalidParameterValue, match=message):
        store.log_batch(
            run_id,
            metrics=[metric(f"m{i}", 1.0) for i in range(metrics)],
            params=[param(f"p{i}", "1") for i in range(params)],
            tags=[tag(f"t{i}", "1") for i in range(tags)],
        )
    data = store.get_run(run_id).data
    assert dict(data.params) == {} and dict(data.metrics) == {}
    assert not any(k.startswith("t") and k[1:].isdigit() for k in data.tags)


def test_full_batch_at_the_limits_is_accepted(store: TrackingStore, run_id: str) -> None:
    store.log_batch(
        run_id,
        metrics=[metric(f"m{i}", float(i)) for i in range(800)],
        params=[param(f"p{i}", str(i)) for i in range(100)],
        tags=[tag(f"t{i}", str(i)) for i in range(100)],
    )
    data = store.get_run(run_id).data
    assert len(data.metrics) == 800 and data.metrics["m799"] == 799.0
    assert len(data.params) == 100 and data.params["p99"] == "99"
    assert data.tags["t42"] == "42"


def test_bad_keys_and_values_are_rejected(store: TrackingStore, run_id: str) -> None:
    with pytest.raises(InvalidParameterValue, match="250"):
        store.log_param(run_id, param("k" * 251, "v"))
    with pytest.raises(InvalidParameterValue, match="6000"):
        store.log_param(run_id, param("long", "x" * 6001))
    with pytest.raises(InvalidParameterValue, match="8000"):
        store.set_tag(run_id, tag("long", "x" * 8001))
    with pytest.raises(InvalidParameterValue):
        store.log_metric(run_id, metric("/abs", 1.0))
    data = store.get_run(run_id).data
    assert dict(data.params) == {} and "long" not in data.tags
    store.log_param(run_id, param("edge", "x" * 6000))
    assert len(store.get_run(run_id).data.params["edge"]) == 6000


def test_latest_metric_is_max_step_timestamp_value(store: TrackingStore, run_id: str) -> None:
    store.log_metric(run_id, metric("m", 5.0, step=10, timestamp=1))
    store.log_metric(run_id, metric("m", 7.0, step=3, timestamp=999_999))
    store.log_metric(run_id, metric("m", 1.0, step=10, timestamp=2))
    store.log_metric(run_id, metric("m", 0.5, step=2, timestamp=5_000_000))
    assert store.get_run(run_id).data.metrics["m"] == 1.0
    store.log_batch(
        run_id,
        metrics=[metric("n", 3.0, step=4, timestamp=9), metric("n", 9.0, step=4, timestamp=9)],
    )
    store.log_batch(run_id, metrics=[metric("n", 4.0, step=4, timestamp=9)])
    latest = {m.key: m for m in store.get_run(run_id).data.metric_list}
    assert latest["n"].value == 9.0
    assert (latest["m"].step, latest["m"].timestamp) == (10, 2)


def test_identical_point_is_stored_once(store: TrackingStore, run_id: str) -> None:
    point = metric("dup", 1.5, step=1, timestamp=100)
    store.log_metric(run_id, point)
    store.log_metric(run_id, point)
    store.log_batch(run_id, metrics=[point, metric("dup", 2.5, step=1, timestamp=100)])
    history = store.get_metric_history(run_id, "dup")
    assert sorted(m.value for m in history) == [1.5, 2.5]


def test_non_finite_values_round_trip(store: TrackingStore, run_id: str) -> None:
    store.log_batch(
        run_id,
        metrics=[
            metric("nan", math.nan),
            metric("pinf", math.inf),
            metric("ninf", -math.inf),
            metric("big", 1e300),
        ],
    )
    values = store.get_run(run_id).data.metrics
    assert math.isnan(values["nan"])
    assert values["pinf"] == math.inf
    assert values["ninf"] == -math.inf
    assert values["big"] == 1e300
    [history_point] = store.get_metric_history(run_id, "nan")
    assert math.isnan(history_point.value)


def test_delete_tag(store: TrackingStore, run_id: str) -> None:
    store.set_tag(run_id, tag("gone", "1"))
    store.set_tag(run_id, tag("kept", "2"))
    store.delete_tag(run_id, "gone")
    tags = store.get_run(run_id).data.tags
    assert "gone" not in tags and tags["kept"] == "2"
    with pytest.raises(ResourceDoesNotExist, match="gone"):
        store.delete_tag(run_id, "gone")
    with pytest.raises(ResourceDoesNotExist):
        store.delete_tag("0123456789abcdef0123456789abcdef", "kept")


def test_metric_with_model_and_dataset_link(
    store: TrackingStore, run_id: str, experiment_id: str
) -> None:
    model = store.create_logged_model(experiment_id, name="linked", source_run_id=run_id)
    linked = Metric(
        "auc",
        0.8,
        timestamp=10,
        step=0,
        model_id=model.model_id,
        dataset_name="train",
        dataset_digest="abc123",
    )
    store.log_batch(run_id, metrics=[linked])
    [point] = store.get_metric_history(run_id, "auc")
    assert point.value == 0.8
    assert store.get_run(run_id).data.metrics["auc"] == 0.8


@pytest.mark.parametrize(
    ("field", "limit"), [("model_id", 64), ("dataset_name", 500), ("dataset_digest", 36)]
)
def test_a_metric_link_longer_than_its_column_is_refused(
    store: TrackingStore, run_id: str, field: str, limit: int
) -> None:
    links = {"model_id": None, "dataset_name": "train", "dataset_digest": "abc123"}
    too_long = Metric("auc", 0.8, 10, 0, **{**links, field: "x" * (limit + 1)})
    with pytest.raises(InvalidParameterValue, match=f"{field} of metric 'auc' exceeds"):
        store.log_batch(run_id, metrics=[metric("ok", 1.0), too_long])
    assert dict(store.get_run(run_id).data.metrics) == {}
