"""``runyard import`` from MLflow's PostgreSQL database into a runyard PostgreSQL store.

The source is made the way a large MLflow deployment looks, quickly: the real ``mlflow``
package creates its schema in a fresh database (in a subprocess, as ``mlflow server`` would),
then ``runs`` x ``metrics`` x ``steps`` points, plus each run's params, tags and latest
metrics, go straight into MLflow's tables with ``COPY``. The time of the ``COPY`` into
MLflow's ``metrics`` table (rows prepared beforehand, so only the database's work is timed)
is the reference: Postgres' own bulk rate on this machine, in the same run.

Then the import into a second fresh database is timed (ids kept, whole histories, no
verification), and then separately a second import with verification (it skips every run,
already there, and reads every point back on both sides for counts and checksums).
Reported: points per second of the import next to ``COPY``'s.

Full size: 1,000 runs x 10 metrics x 1,000 steps (10 million points); ``--quick``: 20 x 10 x
100. Run: ``python -m bench.bench_import [--quick] [--no-verify]``.
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass

from bench.common import (
    fresh_postgres_database,
    markdown_table,
    postgres_admin_uri,
    postgres_reachable,
    write_json,
)


@dataclass(frozen=True)
class Size:
    runs: int
    metrics: int
    steps: int

    @property
    def points(self) -> int:
        return self.runs * self.metrics * self.steps


FULL = Size(runs=1000, metrics=10, steps=1000)
QUICK = Size(runs=20, metrics=10, steps=100)
EXPERIMENT_ID = 1
T0 = 1_700_000_000_000

_CREATE_SCHEMA = (
    "import sys, tempfile\n"
    "from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore\n"
    "SqlAlchemyStore(sys.argv[1], tempfile.mkdtemp())\n"
)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _psycopg2_uri(uri: str) -> str:
    return "postgresql+psycopg2://" + uri.split("://", 1)[1]


def create_mlflow_schema(uri: str) -> None:
    """MLflow's tables at its head revision, made by the installed mlflow package."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env.update(MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="true")
    subprocess.run(
        [sys.executable, "-c", _CREATE_SCHEMA, _psycopg2_uri(uri)],
        env=env,
        check=True,
        capture_output=True,
        timeout=600,
    )


def _copy(cur, table: str, columns: str, rows: list[str]) -> float:  # type: ignore[no-untyped-def]
    """COPY tab-separated ``rows`` into ``table``; the seconds the database took."""
    buffer = io.StringIO("".join(rows))
    start = time.perf_counter()
    cur.copy_expert(f"COPY {table} ({columns}) FROM STDIN", buffer)
    return time.perf_counter() - start


def populate(uri: str, size: Size) -> tuple[list[str], float]:
    """Write the source's rows into MLflow's tables; the run ids and the seconds the metric
    ``COPY`` took."""
    import psycopg2

    run_ids = [uuid.uuid4().hex for _ in range(size.runs)]
    copy_seconds = 0.0
    conn = psycopg2.connect(uri.replace("postgresql+psycopg2://", "postgresql://"))
    try:
        with conn.cursor() as cur:
            cur.execute(
                "INSERT INTO experiments (experiment_id, name, artifact_location, "
                "lifecycle_stage, creation_time, last_update_time) "
                "VALUES (%s, 'bench', '/tmp/bench-artifacts', 'active', %s, %s)",
                (EXPERIMENT_ID, T0, T0),
            )
            runs = [
                f"{rid}\tr{i}\t\tbench\tFINISHED\t{T0 + i}\t{T0 + i + 1}\t"
                f"/tmp/bench-artifacts/{rid}\t{EXPERIMENT_ID}\tactive\n"
                for i, rid in enumerate(run_ids)
            ]
            _copy(
                cur,
                "runs",
                "run_uuid, name, source_version, user_id, status, start_time, end_time, "
                "artifact_uri, experiment_id, lifecycle_stage",
                runs,
            )
            params = [f"lr\t0.{i}\t{rid}\n" for i, rid in enumerate(run_ids)]
            _copy(cur, "params", "key, value, run_uuid", params)
            tags = [f"mlflow.runName\tr{i}\t{rid}\n" for i, rid in enumerate(run_ids)]
            _copy(cur, "tags", "key, value, run_uuid", tags)
            last = size.steps - 1
            latest = [
                f"m{k}\t{last * 0.001 + k}\t{T0 + last}\t{rid}\t{last}\tf\n"
                for rid in run_ids
                for k in range(size.metrics)
            ]
            _copy(cur, "latest_metrics", "key, value, timestamp, run_uuid, step, is_nan", latest)
            conn.commit()
            for rid in run_ids:
                rows = [
                    f"m{k}\t{step * 0.001 + k}\t{T0 + step}\t{rid}\t{step}\tf\n"
                    for k in range(size.metrics)
                    for step in range(size.steps)
                ]
                copy_seconds += _copy(
                    cur, "metrics", "key, value, timestamp, run_uuid, step, is_nan", rows
                )
            start = time.perf_counter()
            conn.commit()
            copy_seconds += time.perf_counter() - start
    finally:
        conn.close()
    return run_ids, copy_seconds


def run_benchmark(size: Size, admin_uri: str, verify: bool) -> dict:
    from runyard.importer import run_import
    from runyard.importer.cli import open_source, open_target

    with (
        fresh_postgres_database(admin_uri, "bench_mlflow") as source_uri,
        fresh_postgres_database(admin_uri, "bench_runyard") as target_uri,
    ):
        log("creating MLflow's schema with the mlflow package")
        create_mlflow_schema(source_uri)
        log(f"writing {size.points:,} points into MLflow's tables with COPY")
        _, copy_seconds = populate(_psycopg2_uri(source_uri), size)
        source, target = open_source(_psycopg2_uri(source_uri)), open_target(target_uri)
        try:
            start = time.perf_counter()
            report = run_import(source, target, verify=False, progress=False, echo=log)
            import_seconds = time.perf_counter() - start
            verify_seconds = None
            if verify:
                start = time.perf_counter()
                checked = run_import(source, target, verify=True, progress=False, echo=log)
                verify_seconds = time.perf_counter() - start
                if checked.differences:
                    raise RuntimeError(f"{len(checked.differences)} runs differ after import")
        finally:
            source.close()
            target.close()
    if report.points != size.points:
        raise RuntimeError(f"imported {report.points} points, expected {size.points}")
    import_rate = size.points / import_seconds
    copy_rate = size.points / copy_seconds
    row = {
        "workload": f"import {size.runs}x{size.metrics}x{size.steps}",
        "engine": "postgres",
        "unit": "points/s",
        "runyard": round(import_rate),
        "postgres_copy": round(copy_rate),
        "ratio": round(import_rate / copy_rate, 3),
        "import_s": round(import_seconds, 2),
        "copy_s": round(copy_seconds, 2),
        "verify_s": None if verify_seconds is None else round(verify_seconds, 2),
        "points": size.points,
        "runs": report.runs,
    }
    return {"rows": [row]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 runs x 10 x 100 instead")
    parser.add_argument("--no-verify", action="store_true", help="skip the timed verification")
    args = parser.parse_args(argv)
    size = QUICK if args.quick else FULL
    admin_uri = postgres_admin_uri()
    reason = postgres_reachable(admin_uri)
    payload: dict = {"size": size.__dict__, "quick": args.quick}
    if reason:
        print(f"postgres: skipped ({reason})")
        payload.update(results=[], skipped={"postgres": reason})
    else:
        result = run_benchmark(size, admin_uri, verify=not args.no_verify)
        columns = ["workload", "unit", "runyard", "postgres_copy", "ratio", "import_s", "copy_s"]
        print(markdown_table(result["rows"], [*columns, "verify_s"]))
        payload["results"] = result["rows"]
    log(f"wrote {write_json('import.json', payload)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
