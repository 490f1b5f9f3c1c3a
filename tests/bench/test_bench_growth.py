"""The search-growth benchmark runs end to end at a tiny size on every engine here, and each
product's searches find what the runs written say they should (timings belong to ``make bench``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.bench_growth import FILTER, PAGE, TINY_SIZES, WORKLOADS, run_benchmark, run_rows
from tests.postgres import fresh_postgres_database

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def expected_found(workload: str, size: int) -> int:
    if workload == "filtered":
        assert FILTER == "metrics.m1 > 0.5 AND params.p2 = 'v3'"
        matches = sum(
            1
            for run in run_rows(0, size)
            if dict(run["metrics"])["m1"] > 0.5 and dict(run["params"])["p2"] == "v3"
        )
        return min(PAGE, matches)
    if workload in ("deep_page", "ordered_deep"):
        return min(PAGE, size - size // 2)
    return min(PAGE, size)


@pytest.mark.parametrize("engine", ["sqlite", "postgres"])
def test_growth_benchmark_finds_the_same_runs_in_both_products(
    engine: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if engine == "postgres":  # the benchmark makes its databases on the server the suite uses
        with fresh_postgres_database() as uri:
            monkeypatch.setenv("RUNYARD_BENCH_POSTGRES_URI", uri)
            result = _run(engine, tmp_path)
    else:
        result = _run(engine, tmp_path)
    measured = {(r["product"], r["workload"], r["runs"]): r for r in result["measurements"]}
    for product in ("runyard", "mlflow"):
        for workload in WORKLOADS:
            for size in TINY_SIZES:
                row = measured[(product, workload, size)]
                assert row["found"] == expected_found(workload, size), (product, workload, size)
                assert row["ms"] > 0
    assert expected_found("filtered", TINY_SIZES[-1]) > 0  # the filter does select some runs
    table = result["table"]
    assert len(table) == len(WORKLOADS) * len(TINY_SIZES)
    assert all(line["runyard_growth"] != "-" and line["ratio"] != "-" for line in table)


def _run(engine: str, tmp_path: Path) -> dict:
    (tmp_path / engine).mkdir()
    result = run_benchmark([engine], TINY_SIZES, 10**9, 1, tmp_path)
    assert result["skipped"] == {}, result["skipped"]
    return result


@pytest.mark.parametrize("order_by", [[], ["metrics.m0 DESC"]])
def test_the_deep_page_token_seeks_to_the_same_page_as_an_offset(
    tmp_path: Path, order_by: list[str]
) -> None:
    from runyard.search.paging import encode_offset_token

    from bench.bench_growth import ORDER, Runyard, ordered_seek_after, seek_after

    assert order_by in ([], [ORDER])
    seek = ordered_seek_after if order_by else seek_after

    size = TINY_SIZES[-1]
    product = Runyard(f"sqlite:///{tmp_path / 'seek.db'}", tmp_path)
    try:
        product.grow(0, size)
        store, eid = product.store, product.experiment_id

        def page(token: str) -> list[str]:
            return [
                r.info.run_id
                for r in store.search_runs(
                    [eid], max_results=PAGE, order_by=order_by, page_token=token
                )
            ]

        by_offset = page(encode_offset_token(size // 2))
        assert len(by_offset) == min(PAGE, size - size // 2)
        assert page(encode_offset_token(size // 2, seek(size))) == by_offset
    finally:
        product.close()
