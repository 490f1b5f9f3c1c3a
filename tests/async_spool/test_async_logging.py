"""Background logging: everything arrives in order, errors surface, the queue is bounded."""

from __future__ import annotations

import threading
import time

import pytest
import runyard
from runyard.entities import Metric, Param, RunTag
from runyard.errors import InvalidParameterValue
from runyard.tracking import async_logging
from runyard.tracking.async_logging import AsyncLogger, group_batches


def test_every_point_arrives_in_order_and_end_run_flushes() -> None:
    with runyard.start_run() as run:
        for step in range(3000):
            runyard.log_metric("loss", step * 0.5, step=step, synchronous=False)
        for i in range(50):
            runyard.set_tag("phase", f"p{i}", synchronous=False)
        runyard.log_param("lr", 0.1, synchronous=False)
    got = runyard.get_run(run.info.run_id)
    assert got.info.status == "FINISHED"
    history = runyard.Client().get_metric_history(run.info.run_id, "loss")
    assert [m.step for m in sorted(history, key=lambda m: m.step)] == list(range(3000))
    assert got.data.tags["phase"] == "p49"  # the last value set wins: order held
    assert got.data.params == {"lr": "0.1"}


def test_async_logging_setting_makes_default_calls_asynchronous(monkeypatch) -> None:
    monkeypatch.setenv("RUNYARD_ASYNC_LOGGING", "true")
    with runyard.start_run() as run:
        runyard.log_metric("m", 1.0)
        async_logging.flush(run.info.run_id)
    assert runyard.get_run(run.info.run_id).data.metrics == {"m": 1.0}


def test_errors_surface_on_flush_and_end_run() -> None:
    run = runyard.start_run()
    runyard.log_param("p", "a")
    runyard.log_param("p", "b", synchronous=False)  # params are immutable: refused later
    with pytest.raises(InvalidParameterValue):
        async_logging.flush(run.info.run_id)
    async_logging.flush(run.info.run_id)  # reported once
    runyard.log_param("p", "c", synchronous=False)
    with pytest.raises(InvalidParameterValue):
        runyard.end_run()


class GatedStore:
    """A sink that holds each request until the test opens the gate."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.batches: list[tuple[list[Metric], list[Param], list[RunTag]]] = []

    def log_batch(self, run_id, metrics, params, tags) -> None:
        self.gate.wait(10)
        self.batches.append((metrics, params, tags))


def test_full_queue_blocks_submit_until_there_is_room() -> None:
    store = GatedStore()
    logger = AsyncLogger(max_pending=5)
    logger.submit(store, "r", [Metric("m", 0, 0, 0)])
    time.sleep(0.2)  # the sender took it and is stuck in the gate
    for i in range(1, 6):
        logger.submit(store, "r", [Metric("m", i, 0, i)])
    blocked = threading.Thread(target=logger.submit, args=(store, "r", [Metric("m", 6, 0, 6)]))
    blocked.start()
    blocked.join(0.3)
    assert blocked.is_alive()  # queue full: the caller waits
    store.gate.set()
    blocked.join(5)
    assert not blocked.is_alive()
    logger.flush()
    steps = [m.step for metrics, _, _ in store.batches for m in metrics]
    assert steps == list(range(7))


def test_batches_respect_limits_and_never_merge_a_key_twice() -> None:
    store = object()
    items = [(store, "r", [Metric("m", i, 0, i)], [], []) for i in range(2500)]
    items += [(store, "r", [], [Param("a", "1")], []), (store, "r", [], [Param("a", "1")], [])]
    items += [(store, "r", [], [], [RunTag(f"t{i}", "v")]) for i in range(150)]
    ((target, batches),) = group_batches(items)
    assert target == (store, "r")
    assert all(len(m) <= 1000 and len(p) <= 100 and len(t) <= 100 for m, p, t in batches)
    assert sum(len(m) for m, _, _ in batches) == 2500
    assert [p.key for _, ps, _ in batches for p in ps] == ["a", "a"]
    assert all(len([p for p in ps if p.key == "a"]) <= 1 for _, ps, _ in batches)
    assert sum(len(t) for _, _, t in batches) == 150


def test_batches_respect_the_total_entity_limit() -> None:
    store = object()
    items = [(store, "r", [Metric("m", i, 0, i)], [], []) for i in range(1000)]
    items += [(store, "r", [], [], [RunTag("t", "v")])]
    items += [(store, "r", [Metric("m", 0, 0, 0)] * 950, [Param("p", "1")] * 100, [])]
    ((_, batches),) = group_batches(items)
    assert all(len(m) + len(p) + len(t) <= 1000 for m, p, t in batches)
    assert sum(len(m) for m, _, _ in batches) == 1950
    assert sum(len(t) for _, _, t in batches) == 1
    assert sum(len(p) for _, p, _ in batches) == 100


class CountingStore:
    def __init__(self) -> None:
        self.points = 0

    def log_batch(self, run_id, metrics, params, tags) -> None:
        self.points += len(metrics)


def test_a_big_backlog_is_sent_without_lingering_between_rounds(monkeypatch) -> None:
    monkeypatch.setattr(async_logging, "LINGER_SECONDS", 30.0)
    monkeypatch.setattr(async_logging, "_MAX_ITEMS_PER_ROUND", 100)
    store = CountingStore()
    logger = AsyncLogger(max_pending=100000)
    for i in range(1000):
        logger.submit(store, "r", (Metric("m", 0.0, 0, i),))
    started = time.monotonic()
    logger.flush()  # ten full rounds; a linger between them would take minutes
    assert store.points == 1000
    assert time.monotonic() - started < 10
