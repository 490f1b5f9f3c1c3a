"""The browser UI benchmark runs end to end at a tiny size and reports every figure (its
timings are not judged here: they belong to ``make bench``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ui.conftest import chromium_path

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def test_browser_benchmark_reports_each_figure(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("RUNYARD_CHROMIUM", chromium_path())
    from bench.bench_ui_browser import TINY, run_benchmark

    result = run_benchmark(TINY, tmp_path)
    rows = {r["workload"]: r for r in result["rows"]}
    names = {"browser_first_page", "browser_sort", "browser_scroll", "browser_chart_view"}
    assert set(rows) == names
    assert all(r["runyard"] > 0 and r["met"] in ("yes", "no") for r in rows.values())
    scroll = result["figures"]["scroll"]
    assert scroll["rows"] >= TINY.runs // 2 and scroll["frames"] > 0
