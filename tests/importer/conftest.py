"""MLflow deployments written by the real ``mlflow`` client, once per module: an SQLite and a
PostgreSQL database and a file store, each with a run of 100,000 metric points."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.postgres import fresh_postgres_database

SCRIPT = Path(__file__).parent / "scripts" / "write_mlflow.py"
LONG_POINTS = 100_000


@dataclass
class Deployment:
    uri: str
    ids: dict[str, str]
    long_points: int


def write_deployment(uri: str, workdir: Path, long_points: int = LONG_POINTS) -> Deployment:
    pytest.importorskip("mlflow")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "RUNYARD_"))}
    env.update(
        MLFLOW_TRACKING_URI=uri,
        MLFLOW_ALLOW_FILE_STORE="true",
        MLFLOW_DISABLE_TELEMETRY="true",
        DO_NOT_TRACK="true",
        LONG_POINTS=str(long_points),
    )
    result = subprocess.run(
        [sys.executable, str(SCRIPT)],
        env=env,
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode != 0:
        pytest.fail(f"writing the MLflow deployment failed:\n{result.stderr[-5000:]}")
    return Deployment(uri, json.loads(result.stdout.strip().splitlines()[-1]), long_points)


@pytest.fixture(scope="session")
def mlflow_sqlite(tmp_path_factory) -> Deployment:
    tmp = tmp_path_factory.mktemp("mlflow-sqlite")
    return write_deployment(f"sqlite:///{tmp / 'mlflow.db'}", tmp)


@pytest.fixture(scope="session")
def mlflow_files(tmp_path_factory) -> Deployment:
    tmp = tmp_path_factory.mktemp("mlflow-files")
    return write_deployment(f"file://{tmp / 'mlruns'}", tmp, long_points=20_000)


@pytest.fixture(scope="session")
def mlflow_postgres(tmp_path_factory) -> Iterator[Deployment]:
    tmp = tmp_path_factory.mktemp("mlflow-postgres")
    with fresh_postgres_database() as uri:
        # mlflow picks psycopg 3 for a bare postgresql:// URI; the test extra has psycopg2
        uri = uri.replace("postgresql://", "postgresql+psycopg2://", 1)
        yield write_deployment(uri, tmp)
