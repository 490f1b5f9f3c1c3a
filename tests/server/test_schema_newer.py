"""A replica started against a schema from a newer runyard refuses in one line, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from runyard.store.sql.engine import create_engine
from runyard.store.sql.migrate import head_revision, upgrade_database

from tests.live_server import free_port

RUNYARD = Path(sys.executable).with_name("runyard")


@pytest.fixture(params=["sqlite", "postgres"])
def newer_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    uri = (
        f"sqlite:///{tmp_path / 'db.sqlite'}"
        if request.param == "sqlite"
        else request.getfixturevalue("postgres_uri")
    )
    upgrade_database(uri)
    engine = create_engine(uri)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '0099_from_the_future'"))
    engine.dispose()
    return uri


@pytest.mark.parametrize("command", ["server", "db-upgrade"])
def test_newer_schema_is_one_line(newer_database: str, tmp_path: Path, command: str) -> None:
    argv = (
        [str(RUNYARD), "server", "--backend-store-uri", newer_database, "--port", str(free_port())]
        if command == "server"
        else [str(RUNYARD), "db", "upgrade", newer_database]
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNYARD_", "MLFLOW_"))}
    result = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path)
    assert result.returncode != 0
    output = (result.stdout + result.stderr).strip()
    assert output == (
        f"Error: database schema 0099_from_the_future is newer than this runyard "
        f"({head_revision()}); upgrade runyard"
    ), output
