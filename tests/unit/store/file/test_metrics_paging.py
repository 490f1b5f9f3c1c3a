"""The file store pages a long metric history in bounded memory, and still in history order."""

from __future__ import annotations

import os
import tracemalloc
from pathlib import Path

from runyard.store.file import FileStore
from runyard.store.file.layout import METRICS

POINTS = 300_000


def _metric_file(store: FileStore, run_id: str, key: str) -> Path:
    found = store._layout.find_run(run_id)
    assert found is not None
    return Path(found[1]) / METRICS / key


def test_a_long_history_is_paged_holding_one_page(tmp_path: Path) -> None:
    store = FileStore(str(tmp_path / "mlruns"))
    run_id = store.create_run("0", "u", 0).info.run_id
    path = _metric_file(store, run_id, "loss")
    os.makedirs(path.parent, exist_ok=True)
    path.write_text("".join(f"{1000 + i} {i * 0.5} {i}\n" for i in range(POINTS)))
    first = store.get_metric_history(run_id, "loss", max_results=1000)
    assert [m.step for m in first][:3] == [0, 1, 2] and first.token
    tracemalloc.start()
    page = store.get_metric_history(run_id, "loss", max_results=1000, page_token=first.token)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert [m.step for m in page][:2] == [1000, 1001] and len(page) == 1000
    assert peak < 4 * 1024 * 1024, f"paging held {peak / 2**20:.1f} MiB"
    seen, token = 0, None
    while True:
        page = store.get_metric_history(run_id, "loss", max_results=50_000, page_token=token)
        seen += len(page)
        token = page.token
        if not token:
            break
    assert seen == POINTS


def test_a_file_out_of_order_is_still_answered_in_history_order(tmp_path: Path) -> None:
    store = FileStore(str(tmp_path / "mlruns"))
    run_id = store.create_run("0", "u", 0).info.run_id
    path = _metric_file(store, run_id, "acc")
    os.makedirs(path.parent, exist_ok=True)
    path.write_text("30 3.0 3\n10 1.0 1\n20 nan 2\n20 2.0 2\n")
    pages, token = [], None
    while True:
        page = store.get_metric_history(run_id, "acc", max_results=1, page_token=token)
        pages.append((page[0].timestamp, page[0].step))
        token = page.token
        if not token:
            break
    assert pages == [(10, 1), (20, 2), (20, 2), (30, 3)]
