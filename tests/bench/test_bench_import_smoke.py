"""``bench.bench_import --quick`` runs end to end and reports the import's points per second
next to Postgres' COPY rate."""

from __future__ import annotations

import json
import os

import pytest

from tests.requirements import require


@pytest.mark.postgres
def test_quick_import_benchmark_reports_both_rates(tmp_path, monkeypatch) -> None:
    pytest.importorskip("mlflow")
    from bench import bench_import
    from bench.common import postgres_reachable

    admin_uri = os.environ.get("RUNYARD_TEST_POSTGRES_URI")
    if not admin_uri:
        require("postgres", "RUNYARD_TEST_POSTGRES_URI is not set")
    reason = postgres_reachable(admin_uri)
    if reason:
        require("postgres", f"PostgreSQL is unreachable: {reason}")
    monkeypatch.setenv("RUNYARD_BENCH_POSTGRES_URI", admin_uri)
    monkeypatch.chdir(tmp_path)

    assert bench_import.main(["--quick"]) == 0

    report = json.loads((tmp_path / "bench-output" / "import.json").read_text())
    (row,) = report["results"]
    size = bench_import.QUICK
    assert row["points"] == size.points and row["runs"] == size.runs
    assert row["unit"] == "points/s"
    assert row["runyard"] > 0 and row["postgres_copy"] > 0
    assert row["ratio"] == pytest.approx(row["runyard"] / row["postgres_copy"], rel=0.01)
    assert row["verify_s"] is not None
