"""The stored-points benchmark runs end to end at a tiny size on Postgres: the histories it
stores are whole and their summaries say so, and every level measures what it claims (timings
belong to ``make bench``)."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from bench.bench_stored_points import (
    CHART_POINTS,
    COLUMNS,
    KEY,
    Size,
    StoredPoints,
    render,
    run_benchmark,
)
from tests.postgres import fresh_postgres_database

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

TINY = Size(series_points=3_000, levels=(0, 3_000, 6_000), ingest_points=2_000,
            single_clients=2, single_calls=20, chart_repeats=1)  # fmt: skip


def test_every_level_is_measured_with_the_points_it_names(tmp_path: Path) -> None:
    with fresh_postgres_database() as uri:
        result = run_benchmark(TINY, tmp_path, uri)
    assert result["skipped"] is None
    levels = result["levels"]
    assert [level["stored"] for level in levels] == list(TINY.levels)
    for level in levels:
        assert level["ingest_points_per_s"] > 0 and level["single_calls_per_s"] > 0
        assert 20 < level["worker_rss_mib"] < 4096
    assert "history_s" not in levels[0]  # nothing stored to read yet
    for level in levels[1:]:
        assert level["history_points"] == TINY.series_points
        assert CHART_POINTS // 2 <= level["chart_points"] <= CHART_POINTS
    assert levels[2]["table_mib"] >= levels[1]["table_mib"] > 0
    text = render(result)
    assert text.splitlines()[0] == "| " + " | ".join(COLUMNS) + " |"
    assert "| 6,000 |" in text


def test_a_stored_history_is_whole_and_summarised(tmp_path: Path) -> None:
    with fresh_postgres_database() as uri:
        stored = StoredPoints(uri, tmp_path, 2_500)
        try:
            stored.grow_to(5_000)
            assert len(stored.run_ids) == 2
            history = stored.store.get_metric_history(stored.run_ids[1], KEY)
            summary = stored.store.get_metric_summaries([stored.run_ids[1]])[stored.run_ids[1]]
            with stored.store.engine.connect() as conn:
                rows = conn.execute(sa.text("SELECT count(*) FROM metrics")).scalar()
        finally:
            stored.close()
    assert [p.step for p in history] == list(range(2_500))
    assert rows == 5_000
    (only,) = summary
    assert (only.count, only.latest.step) == (2_500, 2_499)
    assert only.latest.value == history[-1].value
    assert only.latest.timestamp == history[-1].timestamp
    assert only.min_value == min(p.value for p in history)
    assert only.max_value == max(p.value for p in history)
