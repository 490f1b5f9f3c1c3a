"""The logging hot path: one cached client, one check per metric, nothing bad ever queued."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import runyard
from runyard import Client
from runyard.errors import InvalidParameterValue
from runyard.tracking import async_logging, context, fluent, values
from runyard.tracking.client import depends_on_cwd, store_key
from runyard.validation import validate_metric


@pytest.mark.parametrize(
    ("key", "value", "step", "timestamp"),
    [
        ("loss", 0.5, 3, None),
        ("acc", 1, None, 17),
        ("flag", True, np.int64(2), np.int32(5)),
        ("np", np.float32(0.25), 0, None),
        ("text", "1.5", 1, None),
        ("nan", math.nan, 0, None),
        ("a/b.c-d e:f", -math.inf, 0, None),
    ],
)
def test_made_metrics_pass_the_shared_validation(key, value, step, timestamp) -> None:
    metric = values.make_metric(key, value, timestamp, step)
    assert validate_metric(metric) is metric
    assert type(metric.value) is float and type(metric.step) is int
    assert type(metric.timestamp) is int


@pytest.mark.parametrize(
    ("key", "value", "step", "message"),
    [
        ("bad key!", 1.0, 0, "bad key!"),
        ("../up", 1.0, 0, "resolve"),
        ("", 1.0, 0, "Missing"),
        (None, 1.0, 0, "Missing"),
        (["loss"], 1.0, 0, "Missing"),
        ("x" * 251, 1.0, 0, "maximum length"),
        ("ok", "abc", 0, "abc"),
        ("ok", None, 0, "expected a number"),
        ("ok", 1.0, 1.5, "step"),
        ("ok", 1.0, True, "step"),
    ],
)
def test_bad_points_are_refused_before_anything_is_queued(key, value, step, message) -> None:
    with runyard.start_run() as run:
        runyard.log_metric("loss", 1.0, synchronous=False)  # a valid name seen before
        with pytest.raises(InvalidParameterValue, match=message):
            runyard.log_metric(key, value, step=step, synchronous=False)
        async_logging.flush(run.info.run_id)
    assert dict(runyard.get_run(run.info.run_id).data.metrics) == {"loss": 1.0}


def test_the_key_cache_never_admits_a_bad_key() -> None:
    for i in range(50):
        values.make_metric(f"k{i}", 1.0)
    for _ in range(2):  # refused again once every good key is remembered
        with pytest.raises(InvalidParameterValue):
            values.make_metric("k0/../k1", 1.0)


def test_fluent_calls_share_one_client_until_the_uri_changes(tmp_path: Path) -> None:
    first = fluent._client()
    assert fluent._client() is first
    runyard.set_tracking_uri((tmp_path / "other").as_uri())
    second = fluent._client()
    assert second is not first
    assert second.tracking_uri == (tmp_path / "other").as_uri()
    with runyard.start_run() as run:
        runyard.log_metric("m", 2.0)
    assert Client((tmp_path / "other").as_uri()).get_run(run.info.run_id).data.metrics == {"m": 2.0}


@pytest.mark.parametrize(
    ("uri", "relative"),
    [
        ("file:./mlruns", True),
        ("mlruns", True),
        ("file:mlruns", True),
        ("sqlite:///runs.db", True),
        ("/abs/mlruns", False),
        ("file:///abs/mlruns", False),
        ("sqlite:////abs/runs.db", False),
        ("sqlite://", False),
        ("postgresql://u:p@host/db", False),
        ("http://server:5000", False),
    ],
)
def test_only_relative_uris_depend_on_the_working_dir(uri: str, relative: bool) -> None:
    assert depends_on_cwd(uri) is relative
    assert (store_key(uri)[1] is not None) is relative


def test_a_run_keeps_logging_to_its_store_after_chdir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    context.set_tracking_uri(None)
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    monkeypatch.chdir(tmp_path / "one")
    with runyard.start_run() as run:
        monkeypatch.chdir(tmp_path / "two")
        runyard.log_metric("m", 1.0)
        runyard.log_metric("m", 2.0, step=1, synchronous=False)
    metrics = tmp_path / "one" / "mlruns" / "0" / run.info.run_id / "metrics" / "m"
    assert len(metrics.read_text().splitlines()) == 2
    assert not (tmp_path / "two" / "mlruns").exists()
    with runyard.start_run() as second:  # a new run follows the working directory
        pass
    assert (tmp_path / "two" / "mlruns" / "0" / second.info.run_id).is_dir()


def test_a_synchronous_point_is_stored_before_log_metric_returns(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def stored(run_id: str) -> list[tuple]:
        # A client of its own reads what reached the store, not what waits in a queue.
        points = Client(runyard.get_tracking_uri()).get_metric_history(run_id, "m")
        return [(p.key, p.value, type(p.value), p.timestamp, p.step) for p in points]

    with runyard.start_run() as run:
        assert runyard.log_metric("m", 3, step=4, timestamp=99) is None
        assert stored(run.info.run_id) == [("m", 3.0, float, 99, 4)]
        monkeypatch.setenv("RUNYARD_ASYNC_LOGGING", "true")  # synchronous=True still wins
        assert runyard.log_metric("m", np.int64(5), step=6, timestamp=100, synchronous=True) is None
        assert stored(run.info.run_id) == [("m", 3.0, float, 99, 4), ("m", 5.0, float, 100, 6)]


def test_duplicate_param_keys_in_one_batch_are_refused() -> None:
    with runyard.start_run() as run:
        client = Client()
        with pytest.raises(InvalidParameterValue, match=r"Duplicate parameter keys.*\['a'\]"):
            client.log_batch(run.info.run_id, params=[("a", 1), ("b", 2), ("a", 1)])
    assert dict(runyard.get_run(run.info.run_id).data.params) == {}
