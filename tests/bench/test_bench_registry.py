"""The registry benchmark at a tiny size, so it cannot rot: both real servers, every workload,
the same models and versions from each."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.bench_registry import Size, run_benchmark, workloads
from tests.requirements import installed_or_skip

TINY = Size(models=6, versions=4, repeats=1)


@pytest.mark.slow
def test_both_servers_answer_every_registry_workload_alike(tmp_path: Path) -> None:
    installed_or_skip("mlflow", "mlflow")  # the other server of the comparison
    result = run_benchmark(TINY, ["sqlite"], workers=1, workdir=tmp_path)
    rows = {row["workload"]: row for row in result["rows"]}
    assert set(rows) == set(workloads(TINY))
    for name, row in rows.items():
        assert row["same_data"] == "yes", (name, row)
        assert row["runyard"] > 0 and row["mlflow"] > 0
        assert row["met"] in ("yes", "no")
