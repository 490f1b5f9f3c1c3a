"""The scale-out benchmark end to end at a tiny size: server containers behind nginx, every
ingested point read back, and the balancer spreading the work over every server process
(timings belong to ``make bench``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench.bench_scale import Size, docker_unavailable, run_benchmark
from tests.requirements import require

pytestmark = [pytest.mark.container, pytest.mark.timeout(900)]

TINY = Size(ingest_clients=2, ingest_points=3_000, single_clients=4, single_calls=30)


def test_every_server_process_takes_a_share_of_the_work(
    docker_client: Any, images: None, tmp_path: Path
) -> None:
    reason = docker_unavailable()
    if reason:
        require("nginx", reason)
    result = run_benchmark(TINY, (1, 2), tmp_path, build=False)
    assert [entry["servers"] for entry in result["results"]] == [1, 2]
    for entry in result["results"]:
        for name in ("ingest", "single_calls"):
            figure = entry[name]
            assert figure["value"] > 0
            assert len(figure["server_cpu_s_each"]) == entry["servers"]
            assert all(cpu > 0 for cpu in figure["server_cpu_s_each"]), figure
            assert figure["cpu_ms_per_op"]["postgres"] > 0
            assert 0 < figure["postgres_share"] < 1
