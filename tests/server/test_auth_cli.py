"""``runyard users`` and ``runyard tokens`` against the database the server then uses."""

from __future__ import annotations

import base64
import time
from pathlib import Path

from click.testing import CliRunner
from flask import Flask
from runyard.auth.store import REFRESH_SECONDS
from runyard.cli import main
from runyard.server.app import create_app


def test_users_and_tokens_commands_feed_the_server(tmp_path: Path) -> None:
    store = str(tmp_path / "mlruns")
    db = ["--backend-store-uri", store]
    runner = CliRunner()
    short = runner.invoke(main, ["users", "create", "alice", *db], input="short\nshort\n")
    assert short.exit_code != 0 and "at least 12" in short.output
    made = runner.invoke(
        main, ["users", "create", "alice", *db], input="alice-password-1\nalice-password-1\n"
    )
    assert made.exit_code == 0, made.output
    created = runner.invoke(
        main, ["tokens", "create", "--user", "alice", "--name", "ci", "--expires", "90d", *db]
    )
    assert created.exit_code == 0, created.output
    secret = created.stdout.strip().splitlines()[0]
    assert secret.startswith("ryt_")
    listed = runner.invoke(main, ["tokens", "list", *db])
    assert "alice\tci\texpires" in listed.output and secret not in listed.output

    client = create_app({"backend_store_uri": store, "auth": "true"}).test_client()
    search = "/api/2.0/mlflow/experiments/search"
    assert client.get(search, headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    revoked = runner.invoke(main, ["tokens", "revoke", "--user", "alice", "--name", "ci", *db])
    assert revoked.exit_code == 0, revoked.output
    time.sleep(REFRESH_SECONDS + 0.1)  # a change made by another process is seen within this
    assert client.get(search, headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    assert (tmp_path / "mlruns-auth.db").exists()


def test_db_upgrade_with_auth_creates_the_account_tables(tmp_path: Path) -> None:
    import sqlalchemy as sa

    uri = f"sqlite:///{tmp_path / 'both.db'}"
    result = CliRunner().invoke(main, ["db", "upgrade", "--auth", uri])
    assert result.exit_code == 0, result.output
    engine = sa.create_engine(uri)
    names = set(sa.inspect(engine).get_table_names())
    engine.dispose()
    assert {"runs", "auth_users", "runyard_auth_alembic_version", "alembic_version"} <= names


def _alice_and_two_server_processes(tmp_path: Path) -> tuple[dict[str, str], Flask, Flask]:
    """User alice (made with the CLI), her bearer header, and two apps on one database."""
    store = f"sqlite:///{tmp_path / 'shared.db'}"
    db = ["--backend-store-uri", store]
    runner = CliRunner()
    made = runner.invoke(
        main, ["users", "create", "alice", *db], input="alice-password-1\nalice-password-1\n"
    )
    assert made.exit_code == 0, made.output
    secret = runner.invoke(main, ["tokens", "create", "--user", "alice", "--name", "ci", *db])
    headers = {"Authorization": f"Bearer {secret.stdout.splitlines()[0]}"}
    here, there = (create_app({"backend_store_uri": store, "auth": "true"}) for _ in range(2))
    return headers, here, there


def test_an_experiment_created_through_one_process_is_usable_at_once_through_another(
    tmp_path: Path,
) -> None:
    """Two server processes on one database (two workers, two replicas): the creator's MANAGE
    grant, made by one, is honoured by the other at once, although the other remembered the
    creator's grants from a moment before."""
    headers, here, there = _alice_and_two_server_processes(tmp_path)
    first, second = here.test_client(), there.test_client()
    api = "/api/2.0/mlflow"
    seen = second.get(f"{api}/experiments/search", query_string={"max_results": 1}, headers=headers)
    assert seen.status_code == 200  # `second` now remembers alice's grants
    created = first.post(f"{api}/experiments/create", json={"name": "mine"}, headers=headers)
    experiment_id = created.get_json()["experiment_id"]
    run = second.post(f"{api}/runs/create", json={"experiment_id": experiment_id}, headers=headers)
    assert run.status_code == 200, run.get_json()
    other = first.post(f"{api}/experiments/create", json={"name": "theirs"}, headers=headers)
    assert other.status_code == 200


def test_a_denial_is_decided_again_when_another_request_refreshed_the_grants_first(
    tmp_path: Path,
) -> None:
    """Two requests of one process, both holding grants read before a change made elsewhere:
    the first to be refused refreshes what the process remembers; the second, refused a moment
    later, must still decide again, because its own grants are older than that refresh."""
    from runyard.auth.access import Access
    from runyard.server.auth.view import AuthorizedStore

    headers, here, there = _alice_and_two_server_processes(tmp_path)
    auth, gate = there.config["RUNYARD_AUTH_STORE"], there.config["RUNYARD_AUTH_GATE"]
    alice = auth.get_user("alice")

    def read_access() -> Access:
        return Access(alice, auth.user_grants(alice.id), gate.cfg.default_permission)

    auth.refresh(now=True)
    seen, stale = auth.read_version(), read_access()
    created = here.test_client().post(
        "/api/2.0/mlflow/experiments/create", json={"name": "mine"}, headers=headers
    )
    experiment_id = created.get_json()["experiment_id"]
    assert auth.refresh(now=True)  # another request of `there` notices the change first
    view = AuthorizedStore(
        there.config["RUNYARD_STORE"],
        stale,
        auth,
        gate.runs,
        reload_access=read_access,
        seen_version=seen,
    )
    view.require_experiment(experiment_id, "update")  # raised PermissionDenied before


def test_a_scraper_account_reads_metrics_and_nothing_else(tmp_path: Path) -> None:
    store = str(tmp_path / "mlruns")
    db = ["--backend-store-uri", store]
    runner = CliRunner()
    made = runner.invoke(main, ["users", "create-scraper", "prometheus", *db])
    assert made.exit_code == 0, made.output
    created = runner.invoke(
        main, ["tokens", "create", "--user", "prometheus", "--name", "scrape", *db]
    )
    assert created.exit_code == 0, created.output
    scraper = {"Authorization": f"Bearer {created.stdout.strip().splitlines()[0]}"}

    app = create_app(
        {
            "backend_store_uri": store,
            "auth": "true",
            "admin_username": "admin",
            "admin_password": "admin-password-1",
        }
    )
    client = app.test_client()
    admin = {"Authorization": "Basic YWRtaW46YWRtaW4tcGFzc3dvcmQtMQ=="}  # admin:admin-password-1
    made_exp = client.post(
        "/api/2.0/mlflow/experiments/create", json={"name": "secret"}, headers=admin
    )
    experiment_id = made_exp.get_json()["experiment_id"]
    assert client.get("/metrics", headers=scraper).status_code == 200
    found = client.get("/api/2.0/mlflow/experiments/search?max_results=10", headers=scraper)
    assert found.status_code == 200 and found.get_json().get("experiments", []) == []
    got = client.get(
        f"/api/2.0/mlflow/experiments/get?experiment_id={experiment_id}", headers=scraper
    )
    assert got.status_code == 403
    created_model = client.post(
        "/api/2.0/mlflow/registered-models/create", json={"name": "m"}, headers=scraper
    )
    assert created_model.status_code == 403
    # it has no password, so no password signs it in
    guess = base64.b64encode(b"prometheus:prometheus-password").decode()
    assert client.get("/metrics", headers={"Authorization": f"Basic {guess}"}).status_code == 401
