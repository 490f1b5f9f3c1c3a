"""Re-sent metric points are found in the tail of a long history, without reading it all."""

from __future__ import annotations

import os

from runyard.entities import Metric
from runyard.store.file import FileStore
from runyard.store.file import metrics as file_metrics


def _history(store: FileStore, run_id: str) -> list[tuple[int, float]]:
    return [(m.step, m.value) for m in store.get_metric_history(run_id, "loss")]


def test_resent_batch_after_a_long_history_is_stored_once(tmp_path):
    store = FileStore(str(tmp_path / "mlruns"))
    run_id = store.create_run("0", "me", 0).info.run_id
    for start in range(0, 40_000, 1000):
        store.log_batch(
            run_id, [Metric("loss", float(i), 1000 + i, i) for i in range(start, start + 1000)]
        )
    path = os.path.join(store.root, "0", run_id, "metrics", "loss")
    assert os.path.getsize(path) > 2 * file_metrics.DEDUP_WINDOW_BYTES  # the tail check matters
    last_batch = [Metric("loss", float(i), 1000 + i, i) for i in range(39_000, 40_000)]
    store.log_batch(run_id, last_batch)  # a client retrying its last request
    history = _history(store, run_id)
    assert len(history) == 40_000
    assert history[-1] == (39_999, 39_999.0)


def test_tail_drops_the_line_the_window_cuts(tmp_path):
    path = tmp_path / "m"
    path.write_text("1 1.0 0\n22 2.0 1\n333 3.0 2\n")
    assert file_metrics.read_tail_lines(str(path), 12) == ["333 3.0 2"]
    assert file_metrics.read_tail_lines(str(path), 1000) == ["1 1.0 0", "22 2.0 1", "333 3.0 2"]
    assert file_metrics.read_tail_lines(str(tmp_path / "missing"), 10) == []
