"""The ``store`` fixture: a tracking store of each kind, parametrised over every backend.

file and sqlite get a fresh store per test (sqlite as a copy of a migrated template); postgres
shares one fresh database per session and rest one live ``runyard server`` (SQLite behind it)
per session, because starting those per test would be slow. Tests stay independent by
creating uniquely named experiments.
"""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from runyard.store import TrackingStore, store_for_uri

BACKENDS = ("file", "sqlite", "postgres", "rest")


@pytest.fixture(scope="session")
def postgres_store(
    postgres_session_uri: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TrackingStore]:
    artifacts = tmp_path_factory.mktemp("pg-artifacts")
    store = store_for_uri(postgres_session_uri, default_artifact_root=str(artifacts))
    yield store
    store.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated, empty SQLite database; each test gets a copy, which is much faster than
    running the migrations per test and just as fresh."""
    root = tmp_path_factory.mktemp("sqlite-template")
    store = store_for_uri(f"sqlite:///{root / 'template.db'}", default_artifact_root=str(root))
    store.close()
    return root / "template.db"


@pytest.fixture(scope="session")
def rest_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    try:
        from tests.live_server import start_live_server
    except ImportError as exc:
        pytest.skip(f"the live server helper (tests/live_server.py) is not available: {exc}")
    root = tmp_path_factory.mktemp("rest-server")
    with start_live_server(
        backend_store_uri=f"sqlite:///{root / 'server.db'}",
        artifacts_destination=str(root / "artifacts"),
    ) as server:
        yield server.url


@pytest.fixture(scope="session")
def rest_store(rest_server_url: str) -> Iterator[TrackingStore]:
    store = store_for_uri(rest_server_url)
    yield store
    store.close()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def authorized_store(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[TrackingStore]:
    """A fresh SQLite store as a signed-in user of ``runyard server --auth`` reaches it (the
    ``authorized`` backend, for suites that opt in): every call passes the permission view, so
    the view must hand each argument on as the store expects. The user is no administrator;
    the default permission ``MANAGE`` lets them do what the contract does."""
    from runyard.auth.access import Access
    from runyard.auth.permissions import Permission
    from runyard.auth.store import AuthStore
    from runyard.server.auth.view import AuthorizedStore, RunExperiments

    db = tmp_path / "runyard.db"
    shutil.copyfile(request.getfixturevalue("sqlite_template"), db)
    inner = store_for_uri(f"sqlite:///{db}", default_artifact_root=str(tmp_path / "art"))
    auth = AuthStore(f"sqlite:///{tmp_path / 'auth.db'}")
    user = auth.create_user("contract", "contract-password-1")
    yield AuthorizedStore(inner, Access(user, [], Permission.MANAGE), auth, RunExperiments())  # type: ignore[misc]
    auth.close()
    inner.close()


@pytest.fixture
def store(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TrackingStore]:
    if backend == "postgres":
        yield request.getfixturevalue("postgres_store")
        return
    if backend == "rest":
        yield request.getfixturevalue("rest_store")
        return
    if backend == "authorized":
        yield request.getfixturevalue("authorized_store")
        return
    if backend == "file":
        fresh = store_for_uri((tmp_path / "mlruns").as_uri())
    else:
        db = tmp_path / "runyard.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), db)
        fresh = store_for_uri(f"sqlite:///{db}", default_artifact_root=str(tmp_path / "art"))
    yield fresh
    fresh.close()


@pytest.fixture
def unique() -> str:
    """A prefix no other test uses, for experiment names on shared stores."""
    return f"c{secrets.token_hex(5)}"


@pytest.fixture
def experiment_id(store: TrackingStore, unique: str) -> str:
    """A fresh experiment for this test."""
    return store.create_experiment(f"{unique}-main")
