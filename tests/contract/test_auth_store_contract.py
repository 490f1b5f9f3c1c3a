"""The auth store's contract, on SQLite and on PostgreSQL (beside the tracking tables, too)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from runyard.auth import credentials
from runyard.auth.access import Access
from runyard.auth.entities import user_role_name
from runyard.auth.permissions import Permission
from runyard.auth.store import AuthStore
from runyard.errors import InvalidParameterValue, ResourceAlreadyExists, ResourceDoesNotExist
from runyard.store.sql import SqlStore

from tests.conftest import fresh_postgres_database


@pytest.fixture(params=["sqlite", "postgres"])
def auth_uri(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'auth.db'}"
    else:
        with fresh_postgres_database() as uri:
            yield uri


@pytest.fixture
def auth(auth_uri: str) -> Iterator[AuthStore]:
    store = AuthStore(auth_uri)
    yield store
    store.close()


def test_passwords_are_hashed_with_scrypt_and_checked(auth: AuthStore, auth_uri: str) -> None:
    auth.create_user("alice", "alice-password-1")
    engine = sa.create_engine(auth_uri.replace("postgresql://", "postgresql+psycopg2://"))
    with engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT password_hash FROM auth_users").scalar_one()
    engine.dispose()
    assert stored.startswith("scrypt$32768$8$1$") and "alice-password-1" not in stored
    assert auth.check_password("alice", "alice-password-1") == auth.get_user("alice")
    assert auth.check_password("alice", "alice-password-2") is None
    assert auth.check_password("nobody", "alice-password-1") is None


def test_short_passwords_bad_names_and_duplicates_are_refused(auth: AuthStore) -> None:
    with pytest.raises(InvalidParameterValue, match="at least 12"):
        auth.create_user("bob", "short")
    with pytest.raises(InvalidParameterValue, match="Username"):
        auth.create_user("bad name", "long-enough-password")
    auth.create_user("bob", "bob-password-12")
    with pytest.raises(ResourceAlreadyExists):
        auth.create_user("bob", "bob-password-12")
    with pytest.raises(InvalidParameterValue):
        auth.update_password("bob", "tiny")
    assert auth.check_password("bob", "bob-password-12") is not None


def test_users_update_list_delete(auth: AuthStore) -> None:
    auth.create_user("carol", "carol-password-1")
    auth.update_admin("carol", True)
    assert auth.get_user("carol").is_admin
    auth.update_password("carol", "carol-password-2")
    assert auth.check_password("carol", "carol-password-2") is not None
    assert [u.username for u in auth.list_users()] == ["carol"]
    auth.grant("carol", "experiment", "1", "READ")
    auth.delete_user("carol")
    with pytest.raises(ResourceDoesNotExist):
        auth.get_user("carol")
    assert auth.list_roles() == []


def test_tokens_are_stored_as_digests_expire_and_revoke(auth: AuthStore, auth_uri: str) -> None:
    auth.create_user("dave", "dave-password-1")
    token, secret = auth.create_token("dave", "ci", timedelta(days=90))
    assert secret.startswith("ryt_") and len(secret) >= 40
    assert token.expires_at is not None and token.expires_at > token.created_at
    user = auth.check_token(secret)
    assert user is not None and user.username == "dave"
    assert auth.list_tokens("dave")[0].last_used_at is not None
    assert auth.check_token(secret + "x") is None
    with pytest.raises(ResourceAlreadyExists):
        auth.create_token("dave", "ci", None)

    _, short = auth.create_token("dave", "short", timedelta(seconds=1))
    time.sleep(1.1)
    assert auth.check_token(short) is None

    auth.revoke_token("dave", "ci")
    assert auth.check_token(secret) is None
    assert auth.list_tokens("dave")[0].revoked_at is not None
    with pytest.raises(ResourceDoesNotExist):
        auth.revoke_token("dave", "ci")

    engine = sa.create_engine(auth_uri.replace("postgresql://", "postgresql+psycopg2://"))
    with engine.connect() as conn:
        hashes = [r[0] for r in conn.exec_driver_sql("SELECT token_hash FROM auth_tokens")]
    engine.dispose()
    assert credentials.token_digest(secret) in hashes and secret not in hashes


def test_grants_fold_deny_wins_and_default_is_a_floor(auth: AuthStore) -> None:
    erin = auth.create_user("erin", "erin-password-1")
    auth.grant("erin", "experiment", "1", "EDIT")
    auth.grant("erin", "experiment", "2", "NO_PERMISSIONS")  # MLflow's older name for DENY
    with pytest.raises(ResourceAlreadyExists):
        auth.grant("erin", "experiment", "1", "READ")
    role = auth.create_role("default", "readers", "read everything")
    auth.add_role_permission(role.id, "experiment", "*", "READ")
    auth.assign_role("erin", role.id)

    access = Access(erin, auth.user_grants(erin.id), Permission.DENY)
    assert access.permission("experiment", "1") is Permission.EDIT
    assert access.permission("experiment", "2") is Permission.DENY
    assert access.permission("experiment", "3") is Permission.READ
    assert access.permission("registered_model", "m") is Permission.DENY

    floored = Access(erin, auth.user_grants(erin.id), Permission.EDIT)
    assert floored.permission("experiment", "3") is Permission.EDIT
    assert floored.permission("experiment", "2") is Permission.DENY

    auth.revoke("erin", "experiment", "2")
    with pytest.raises(ResourceDoesNotExist):
        auth.revoke("erin", "experiment", "2")
    auth.unassign_role("erin", role.id)
    access = Access(erin, auth.user_grants(erin.id), Permission.DENY)
    assert access.permission("experiment", "3") is Permission.DENY


def test_model_grants_move_with_a_rename_and_go_with_a_delete(auth: AuthStore) -> None:
    """Every holder's grant moves, a role's too; a grant already waiting on the new name keeps
    one row per role (its DENY stays, anything else is replaced by the moving grant)."""
    gus = auth.create_user("gus", "gus-password-12")
    hal = auth.create_user("hal", "hal-password-12")
    role = auth.create_role("default", "model-readers")
    auth.add_role_permission(role.id, "registered_model", "old", "READ")
    auth.assign_role("hal", role.id)
    auth.grant("gus", "registered_model", "old", "EDIT")
    auth.grant("gus", "registered_model", "new", "READ")
    auth.grant("hal", "registered_model", "old", "MANAGE")
    auth.grant("hal", "registered_model", "new", "DENY")
    auth.rename_grants("registered_model", "old", "new")

    def levels(user_id: int, name: str) -> list[str]:
        grants = auth.user_grants(user_id)
        return sorted(g.permission for g in grants if g.resource_pattern == name)

    assert levels(gus.id, "new") == ["EDIT"] and levels(gus.id, "old") == []
    assert levels(hal.id, "new") == ["DENY", "READ"]  # own DENY stays; the role's READ moved
    auth.delete_grants("registered_model", "new")
    assert levels(gus.id, "new") == levels(hal.id, "new") == []
    assert auth.list_role_permissions(role.id) == []


def test_roles_round_trip_and_validate(auth: AuthStore) -> None:
    auth.create_user("fay", "fay-password-12")
    role = auth.create_role("default", "editors")
    with pytest.raises(ResourceAlreadyExists):
        auth.create_role("default", "editors")
    with pytest.raises(InvalidParameterValue):
        auth.create_role("default", "__user_9__")
    with pytest.raises(InvalidParameterValue, match="wildcard"):
        auth.add_role_permission(role.id, "run", "abc", "READ")
    with pytest.raises(InvalidParameterValue, match="Workspace-wide"):
        auth.add_role_permission(role.id, "workspace", "*", "READ")
    with pytest.raises(InvalidParameterValue, match="Invalid permission"):
        auth.add_role_permission(role.id, "experiment", "*", "BOGUS")
    with pytest.raises(InvalidParameterValue, match="resource type"):
        auth.add_role_permission(role.id, "bogus", "*", "READ")
    grant = auth.add_role_permission(role.id, "registered_model", "churn", "EDIT")
    assert auth.update_role_permission(grant.id, "MANAGE").permission == "MANAGE"
    assert auth.update_role(role.id, description="edit").description == "edit"
    assignment = auth.assign_role("fay", role.id)
    assert auth.list_role_users(role.id) == [assignment]
    assert [r.name for r in auth.list_user_roles("fay")] == ["editors"]
    with pytest.raises(ResourceAlreadyExists):
        auth.assign_role("fay", role.id)
    auth.remove_role_permission(grant.id)
    assert auth.list_role_permissions(role.id) == []
    auth.delete_role(role.id)
    with pytest.raises(ResourceDoesNotExist):
        auth.get_role(role.id)
    assert auth.list_user_roles("fay") == []


def _together(calls: list[Callable[[], object]]) -> list[object]:
    """Run ``calls`` from threads at once; each one's result or the error it raised."""

    def outcome(call: Callable[[], object]) -> object:
        try:
            return call()
        except Exception as err:  # the outcome is what the test inspects
            return err

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(outcome, calls))


def test_concurrent_writes_to_one_account_take_turns(auth: AuthStore, auth_uri: str) -> None:
    """A shared server writes grants from many requests at once: the first grants of a user
    all land (the user's own role is made once), and a grant racing the user's deletion
    either lands before it, and goes with the user, or finds no user."""
    ivy = auth.create_user("ivy", "ivy-password-12")
    firsts = _together(
        [lambda i=i: auth.set_grant(ivy.id, "experiment", str(i), "MANAGE") for i in range(12)]
    )
    assert firsts == [None] * 12
    assert sorted(int(g.resource_pattern) for g in auth.user_grants(ivy.id)) == list(range(12))

    jay = auth.create_user("jay", "jay-password-12")
    auth.grant("jay", "experiment", "0", "READ")  # the role exists; the grants race the delete
    racing = _together(
        [lambda: auth.delete_user("jay")]
        + [lambda i=i: auth.grant("jay", "experiment", str(i), "READ") for i in range(1, 12)]
    )
    assert racing[0] is None
    assert all(r is None or isinstance(r, ResourceDoesNotExist) for r in racing[1:]), racing
    assert auth.find_user("jay") is None
    engine = sa.create_engine(auth_uri.replace("postgresql://", "postgresql+psycopg2://"))
    with engine.connect() as conn:
        left = conn.execute(
            sa.text(
                "SELECT count(*) FROM auth_role_permissions p LEFT JOIN auth_roles r "
                "ON r.id = p.role_id WHERE r.id IS NULL OR r.name = :own"
            ),
            {"own": user_role_name(jay.id)},
        ).scalar_one()
    engine.dispose()
    assert left == 0


def test_auth_tables_share_the_tracking_database(auth_uri: str) -> None:
    """Both chains in one database, each with its own version table, in either order."""
    auth = AuthStore(auth_uri)
    tracking = SqlStore(auth_uri, "/tmp/artifacts")
    try:
        auth.create_user("gus", "gus-password-12")
        assert tracking.get_experiment("0").name == "Default"
        engine = tracking.engine
        names = set(sa.inspect(engine).get_table_names())
        assert {"alembic_version", "runyard_auth_alembic_version", "auth_users"} <= names
        assert AuthStore(auth_uri).get_user("gus").username == "gus"
    finally:
        auth.close()
        tracking.close()


def test_remembered_reads_follow_changes_made_anywhere(auth: AuthStore, auth_uri: str) -> None:
    """The server remembers lookups between changes: its own changes apply at once, another
    process's (a second store on the same database) within REFRESH_SECONDS."""
    from runyard.auth.store import REFRESH_SECONDS

    auth.remember_reads()
    auth.create_user("hal", "hal-password-12")
    _, secret = auth.create_token("hal", "one", None)
    _, second = auth.create_token("hal", "two", None)
    auth.refresh()
    assert auth.check_token(secret) is not None and auth.check_token(second) is not None
    auth.revoke_token("hal", "one")
    auth.refresh()
    assert auth.check_token(secret) is None  # its own change: at once

    other = AuthStore(auth_uri)
    try:
        other.revoke_token("hal", "two")
        user = auth.get_user("hal")
        other.grant("hal", "experiment", "7", "EDIT")
    finally:
        other.close()
    time.sleep(REFRESH_SECONDS + 0.1)
    auth.refresh()
    assert auth.check_token(second) is None
    assert [g.resource_pattern for g in auth.user_grants(user.id)] == ["7"]


def test_failed_sign_ins_are_counted_for_every_process_and_age_out(auth_uri: str) -> None:
    first, second = AuthStore(auth_uri), AuthStore(auth_uri)  # two server processes
    try:
        first.record_failure(["user:bob", "addr:10.0.0.1"], at_ms=1_000, forget_before_ms=0)
        first.record_failure(["user:bob"], at_ms=2_000, forget_before_ms=0)
        assert second.recent_failures(["user:bob", "addr:10.0.0.1", "user:x"], since_ms=0) == {
            "user:bob": (2, 1_000),
            "addr:10.0.0.1": (1, 1_000),
        }
        assert second.recent_failures(["user:bob"], since_ms=1_500) == {"user:bob": (1, 2_000)}
        # a new failure drops those too old to count
        second.record_failure(["user:carol"], at_ms=9_000, forget_before_ms=1_500)
        assert first.recent_failures(["user:bob"], since_ms=0) == {"user:bob": (1, 2_000)}
        second.clear_failures(["user:bob"])
        assert first.recent_failures(["user:bob", "user:carol"], since_ms=0) == {
            "user:carol": (1, 9_000)
        }
    finally:
        first.close()
        second.close()
