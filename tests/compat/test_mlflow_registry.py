"""The model registry through the unmodified mlflow client against a live runyard server, on
the file store, SQLite and PostgreSQL with local artifacts, and on SQLite with artifacts in S3
(a real S3-protocol server behind the artifact proxy); runyard's own store reads the result
back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from runyard.store import store_for_uri

from tests.compat.conftest import Served, _serve
from tests.live_server import start_live_server
from tests.postgres import fresh_postgres_database
from tests.s3_server import start_s3_server


def _serve_with_s3(tmp) -> Iterator[Served]:  # type: ignore[no-untyped-def]
    backend_uri = f"sqlite:///{tmp / 'runyard.db'}"
    with (
        start_s3_server() as s3,
        start_live_server(
            backend_uri, artifacts_destination="s3://runyard/artifacts", env=s3.env()
        ) as server,
    ):
        store = store_for_uri(backend_uri, "mlflow-artifacts:/")
        try:
            yield Served(server, backend_uri, tmp / "unused", store, tmp)
        finally:
            store.close()


@pytest.fixture(scope="module", params=["file", "sqlite", "postgres", "sqlite-s3"])
def registry_served(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp(f"registry-{request.param}")
    if request.param == "file":
        yield from _serve((tmp / "mlruns").as_uri(), tmp)
    elif request.param == "sqlite":
        yield from _serve(f"sqlite:///{tmp / 'runyard.db'}", tmp)
    elif request.param == "sqlite-s3":
        yield from _serve_with_s3(tmp)
    else:
        with fresh_postgres_database() as uri:
            yield from _serve(uri, tmp)


def test_registry_walkthrough(registry_served: Served) -> None:
    out = registry_served.run_script("registry_walkthrough.py")
    assert out["version"] == "1"
    assert out["prediction"] == [2, 4], "the model loaded by alias predicts"
    assert out["validated"] == ["1"]
    assert out["latest_staging"] == ["2"] and out["alias_version"] == "1"
    assert out["download_uri"].startswith("mlflow-artifacts:/")
    assert out["v2_loaded"] == [6]
    assert "MLmodel" in out["files"] and "python_model.pkl" in out["files"]
    assert out["found"] == ["fraud-v2"]
    assert len(out["page"]) == 1 and out["page_token"]
    assert out["errors"] == {
        "duplicate": "RESOURCE_ALREADY_EXISTS",
        "missing_version": "RESOURCE_DOES_NOT_EXIST",
        "bad_filter": "INVALID_PARAMETER_VALUE",
        "bad_source": "INVALID_PARAMETER_VALUE",
        "missing_alias": "INVALID_PARAMETER_VALUE",
    }
    assert out["remaining"] == [["churn", "1"]]
    assert out["copied"] == ["churn-prod", "1", out["run_id"]]

    store = registry_served.store
    model = store.get_registered_model("churn")
    assert model.description == "Churn classifier" and dict(model.tags) == {"team": "growth"}
    assert dict(model.aliases) == {}
    version = store.get_model_version("churn", 1)
    assert version.run_id == out["run_id"] and dict(version.tags) == {"validated": "true"}
