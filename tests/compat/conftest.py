"""A live ``runyard server`` on SQLite and on PostgreSQL, and a runner for mlflow scripts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from runyard.store import store_for_uri
from runyard.store.base import TrackingStore

from tests.live_server import LiveServer, start_live_server
from tests.postgres import fresh_postgres_database
from tests.requirements import installed_or_skip

SCRIPTS = Path(__file__).parent / "scripts"
#: Libraries a script imports beyond mlflow (its test skips when one is not installed).
SCRIPT_NEEDS = {
    "sklearn_cv.py": ("sklearn",),
    "sklearn_autolog.py": ("sklearn",),
    "lightgbm_autolog.py": ("lightgbm", "sklearn"),
    "models_interop.py": ("lightgbm", "sklearn"),
}


@dataclass
class Served:
    """A server plus direct access to what it stored (its database and artifact directory)."""

    server: LiveServer
    backend_uri: str
    destination: Path
    store: TrackingStore
    workdir: Path

    def run_script(
        self, name: str, timeout: float = 240, env: dict[str, str] | None = None
    ) -> dict:
        """Run ``scripts/<name>`` with the real mlflow client; return its last stdout line.
        ``env`` adds variables (credentials, for example)."""
        for library in ("mlflow", *SCRIPT_NEEDS.get(name, ())):
            installed_or_skip(library, library)
        extra = env or {}
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "RUNYARD_"))}
        env.update(extra)
        env.update(
            MLFLOW_TRACKING_URI=self.server.url,
            MLFLOW_HTTP_REQUEST_MAX_RETRIES="1",
            MLFLOW_HTTP_REQUEST_TIMEOUT="60",
            MLFLOW_DISABLE_TELEMETRY="true",
            DO_NOT_TRACK="true",
            MPLBACKEND="Agg",
            PYTHONPATH=str(Path(__file__).parents[2]),
        )
        result = subprocess.run(
            [sys.executable, str(SCRIPTS / name)],
            env=env,
            cwd=self.workdir,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            pytest.fail(
                f"{name} failed ({result.returncode}):\n{result.stderr[-6000:]}\n"
                f"---- server log ----\n{self.server.log()[-4000:]}"
            )
        return json.loads(result.stdout.strip().splitlines()[-1])

    def artifact(self, *parts: str) -> Path:
        return self.destination.joinpath(*parts)


def _serve(backend_uri: str, tmp: Path) -> Iterator[Served]:
    destination = tmp / "mlartifacts"
    with start_live_server(
        backend_uri, artifacts_destination=str(destination), workers=2
    ) as server:
        store = store_for_uri(backend_uri, "mlflow-artifacts:/")
        try:
            yield Served(server, backend_uri, destination, store, tmp)
        finally:
            store.close()


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def served(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp(f"compat-{request.param}")
    if request.param == "sqlite":
        yield from _serve(f"sqlite:///{tmp / 'runyard.db'}", tmp)
    else:
        with fresh_postgres_database() as uri:
            yield from _serve(uri, tmp)
