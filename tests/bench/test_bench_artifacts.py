"""The artifact benchmark runs end to end at a tiny size against the FTP test server: every
copier (the native client, runyard direct and through the proxy) moves the same bytes, and each
row compares medians of the same workload (timings belong to ``make bench``)."""

from __future__ import annotations

import filecmp
from pathlib import Path

import pytest

from bench.bench_artifacts import Size, bench_target, make_inputs

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

COPIERS = ("native", "direct", "proxy")
TINY = Size(big_bytes=3 * 1024 * 1024, small_count=12, small_bytes=1024, repeats=2)


def test_every_copier_moves_the_same_bytes(tmp_path: Path) -> None:
    _big, small = make_inputs(tmp_path, TINY)
    rows = bench_target("ftp", TINY, tmp_path)
    assert [row["workload"] for row in rows] == [
        f"ftp {path} {workload}"
        for path in ("direct", "proxy")
        for workload in ("one_file_up", "one_file_down", "many_files_up", "many_files_down")
    ]
    for row in rows:
        large = row["workload"].endswith(("one_file_up", "one_file_down"))
        assert row["ratio"] > 0 and (row["runyard"] > 0 if large else row["files_per_s"] > 0)
        assert row["spread"].count("-") == (2 if large else 0), row  # two rounds: a range
    # each large copy was compared with the input by the benchmark, then deleted
    left = [path for c in COPIERS for path in (tmp_path / f"ftp-{c}").glob("one/**/big.bin")]
    assert left == []
    for copier in COPIERS:
        downloaded = tmp_path / f"ftp-{copier}" / "many"
        downloaded = downloaded if copier == "native" else downloaded / "many"
        names = sorted(p.name for p in downloaded.iterdir())
        assert names == sorted(p.name for p in small.iterdir()), copier
        assert all(filecmp.cmp(small / n, downloaded / n, shallow=False) for n in names)
