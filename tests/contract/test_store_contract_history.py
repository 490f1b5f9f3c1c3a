"""Metric history: order, paging, the chart-sized bulk interval and per-run summaries."""

from __future__ import annotations

import json

import pytest
from runyard.entities import Metric
from runyard.protocol import history_rows_json_text, metric_to_json
from runyard.store.base import TrackingStore

from tests.contract import metric, new_run


@pytest.fixture
def run_id(store: TrackingStore, experiment_id: str) -> str:
    return new_run(store, experiment_id).info.run_id


def _points(history: list) -> list[tuple[int, int, float]]:
    return [(m.timestamp, m.step, m.value) for m in history]


def test_history_is_ordered_by_timestamp_step_value(store: TrackingStore, run_id: str) -> None:
    store.log_batch(
        run_id,
        metrics=[
            metric("h", 3.0, step=2, timestamp=300),
            metric("h", 1.0, step=0, timestamp=100),
            metric("h", 9.0, step=5, timestamp=200),
            metric("h", 2.0, step=1, timestamp=200),
            metric("h", 0.5, step=1, timestamp=200),
        ],
    )
    history = store.get_metric_history(run_id, "h")
    assert _points(history) == [
        (100, 0, 1.0),
        (200, 1, 0.5),
        (200, 1, 2.0),
        (200, 5, 9.0),
        (300, 2, 3.0),
    ]
    assert all(m.key == "h" for m in history)
    assert history.token is None


def test_history_pages(store: TrackingStore, run_id: str) -> None:
    store.log_batch(run_id, metrics=[metric("p", float(i), step=i, timestamp=i) for i in range(5)])
    first = store.get_metric_history(run_id, "p", max_results=2)
    assert [m.step for m in first] == [0, 1] and first.token
    second = store.get_metric_history(run_id, "p", max_results=2, page_token=first.token)
    assert [m.step for m in second] == [2, 3] and second.token
    last = store.get_metric_history(run_id, "p", max_results=2, page_token=second.token)
    assert [m.step for m in last] == [4]
    assert not last.token


@pytest.mark.parametrize("size", [None, 4, 45])
def test_history_rows_and_text_render_as_the_history(
    store: TrackingStore, run_id: str, size: int | None
) -> None:
    """The server sends histories as text, rendered from rows or by the database; both must
    say what the entities say."""
    special = [float("nan"), float("inf"), float("-inf"), -0.0, 1e300]
    points = [metric("m", v, step=i, timestamp=10 + i) for i, v in enumerate(special)]
    points += [metric("m", i * 0.5, step=i, timestamp=100 + i) for i in range(50)]
    points.append(Metric("m", 2.0, 999, 9, dataset_name='d"é"\\', dataset_digest="x"))
    store.log_batch(run_id, metrics=points)
    token, pages = None, 0
    while True:
        page = store.get_metric_history(run_id, "m", max_results=size, page_token=token)
        rows, rows_token = store.get_metric_history_rows(
            run_id, "m", max_results=size, page_token=token
        )
        expected = [metric_to_json(p) for p in page]
        assert json.loads(history_rows_json_text("m", rows)) == expected
        assert rows_token == page.token
        text, text_token = store.get_metric_history_json(
            run_id, "m", max_results=size, page_token=token
        )
        assert json.loads(text or "[]") == expected
        assert text_token == page.token
        token, pages = page.token, pages + 1
        if not token:
            break
    assert pages == (1 if size is None else -(-len(points) // size))


def test_history_of_unknown_key_or_run_is_empty(store: TrackingStore, run_id: str) -> None:
    assert list(store.get_metric_history(run_id, "never")) == []
    assert list(store.get_metric_history("0123456789abcdef0123456789abcdef", "x")) == []


def test_history_keeps_every_point_of_a_long_series(store: TrackingStore, run_id: str) -> None:
    points = [metric("long", i * 0.5, step=i, timestamp=i) for i in range(1000)]
    store.log_batch(run_id, metrics=points)
    store.log_batch(run_id, metrics=[metric("long", 7.0, step=1000, timestamp=1000)])
    history = store.get_metric_history(run_id, "long")
    assert len(history) == 1001
    assert [m.step for m in history] == list(range(1001))


def test_bulk_interval_is_bounded_and_keeps_spikes(
    store: TrackingStore, experiment_id: str
) -> None:
    runs = [new_run(store, experiment_id).info.run_id for _ in range(2)]
    for n, rid in enumerate(runs):
        values = [float(i % 7) for i in range(1000)]
        values[537] = 1000.0 + n  # one spike a naive every-k-th sample would miss
        store.log_batch(
            rid, metrics=[metric("c", v, step=i, timestamp=i) for i, v in enumerate(values)]
        )
    points = store.get_metric_history_bulk_interval(runs, "c", max_results=50)
    for n, rid in enumerate(runs):
        mine = [p for p in points if p.run_id == rid]
        assert 2 <= len(mine) <= 50
        steps = [p.step for p in mine]
        assert steps == sorted(steps)
        assert steps[0] == 0 and steps[-1] == 999
        assert max(p.value for p in mine) == 1000.0 + n
    assert {p.run_id for p in points} == set(runs)


def test_bulk_interval_respects_step_bounds(store: TrackingStore, run_id: str) -> None:
    points = [metric("b", float(i), step=i, timestamp=i) for i in range(100)]
    store.log_batch(run_id, metrics=points)
    points = store.get_metric_history_bulk_interval(
        [run_id], "b", max_results=1000, start_step=10, end_step=19
    )
    assert [p.step for p in points] == list(range(10, 20))
    assert [p.value for p in points] == [float(i) for i in range(10, 20)]
    assert all(p.run_id == run_id for p in points)


def test_metric_summaries(store: TrackingStore, experiment_id: str) -> None:
    first = new_run(store, experiment_id).info.run_id
    second = new_run(store, experiment_id).info.run_id
    store.log_batch(
        first,
        metrics=[
            metric("loss", 0.9, step=0, timestamp=1),
            metric("loss", 0.1, step=1, timestamp=2),
            metric("loss", 0.4, step=2, timestamp=3),
            metric("acc", 0.5, step=0, timestamp=1),
        ],
    )
    store.log_batch(second, metrics=[metric("loss", 2.0, step=0, timestamp=1)])
    summaries = store.get_metric_summaries([first, second])
    by_key = {s.key: s for s in summaries[first]}
    assert set(by_key) == {"loss", "acc"}
    loss = by_key["loss"]
    assert (loss.latest.value, loss.latest.step) == (0.4, 2)
    assert (loss.min_value, loss.max_value, loss.count) == (0.1, 0.9, 3)
    assert (by_key["acc"].min_value, by_key["acc"].max_value, by_key["acc"].count) == (0.5, 0.5, 1)
    [other] = summaries[second]
    assert (other.key, other.latest.value, other.count) == ("loss", 2.0, 1)
