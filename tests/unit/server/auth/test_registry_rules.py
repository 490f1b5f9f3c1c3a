"""Registered-model permissions, decided over the real registry (a file store) by name."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from pathlib import Path

import pytest
from runyard.auth.access import Access
from runyard.auth.permissions import Permission
from runyard.auth.store import AuthStore
from runyard.errors import InvalidParameterValue, PermissionDenied
from runyard.server.auth.registry_rules import RegistryDecisions
from runyard.server.auth.view import AuthorizedStore, RunExperiments
from runyard.store import store_for_uri
from runyard.store.base import TrackingStore
from runyard.store.registry_base import RegistryStore


@pytest.fixture
def auth(tmp_path: Path) -> Iterator[AuthStore]:
    store = AuthStore(f"sqlite:///{tmp_path / 'auth.db'}")
    store.create_user("alice", "alice-password-1")
    store.create_user("bob", "bob-password-12")
    yield store
    store.close()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[TrackingStore]:
    opened = store_for_uri((tmp_path / "mlruns").as_uri())
    yield opened
    opened.close()


def as_user(auth: AuthStore, store: TrackingStore, username: str) -> AuthorizedStore:
    user = auth.get_user(username)
    access = Access(user, auth.user_grants(user.id), Permission.READ)
    return AuthorizedStore(store, access, auth, RunExperiments())


def new_run(store: TrackingStore, experiment_id: str) -> str:
    return store.create_run(experiment_id, "alice", 1).info.run_id


def grants_on(auth: AuthStore, username: str, name: str) -> list[str]:
    found = auth.user_grants(auth.get_user(username).id)
    return [
        g.permission
        for g in found
        if (g.resource_type, g.resource_pattern) == ("registered_model", name)
    ]


def test_every_registry_method_is_decided_with_the_stores_arguments() -> None:
    """A registry method missing here would fall to the admins-only default; one with other
    arguments would pass them wrongly. Both are caught here, not in production."""
    for name, method in inspect.getmembers(RegistryStore, inspect.isfunction):
        if not getattr(method, "__isabstractmethod__", False):
            continue
        decided = getattr(RegistryDecisions, name, None)
        assert decided is not None, name
        assert list(inspect.signature(decided).parameters) == list(
            inspect.signature(method).parameters
        ), name


def test_read_edit_manage_and_deny(auth: AuthStore, store: TrackingStore) -> None:
    run_id = new_run(store, "0")
    alice = as_user(auth, store, "alice")
    alice.create_registered_model("churn")
    alice.create_model_version("churn", f"runs:/{run_id}/model", run_id)
    assert grants_on(auth, "alice", "churn") == ["MANAGE"]

    bob = as_user(auth, store, "bob")  # no grant: the default READ
    assert bob.get_registered_model("churn").name == "churn"
    assert bob.get_model_version("churn", 1).run_id == run_id
    with pytest.raises(PermissionDenied):
        bob.set_registered_model_tag("churn", "k", "v")

    auth.grant("bob", "registered_model", "churn", "EDIT")
    bob = as_user(auth, store, "bob")
    bob.set_registered_model_tag("churn", "k", "v")
    bob.delete_registered_model_tag("churn", "k")
    bob.set_model_version_tag("churn", 1, "k", "v")
    bob.set_registered_model_alias("churn", "champion", 1)
    bob.update_model_version("churn", 1, "better")
    bob.transition_model_version_stage("churn", 1, "Staging")
    for delete in (
        lambda: bob.delete_model_version_tag("churn", 1, "k"),
        lambda: bob.delete_registered_model_alias("churn", "champion"),
        lambda: bob.delete_model_version("churn", 1),
        lambda: bob.delete_registered_model("churn"),
    ):
        with pytest.raises(PermissionDenied):
            delete()
    assert store.get_model_version("churn", 1).tags == {"k": "v"}

    auth.revoke("bob", "registered_model", "churn")
    auth.grant("bob", "registered_model", "churn", "DENY")
    bob = as_user(auth, store, "bob")
    for read in (
        lambda: bob.get_registered_model("churn"),
        lambda: bob.get_latest_versions("churn"),
        lambda: bob.get_model_version("churn", 1),
        lambda: bob.get_model_version_by_alias("churn", "champion"),
        lambda: bob.get_model_version_download_uri("churn", 1),
    ):
        with pytest.raises(PermissionDenied):
            read()
    assert bob.search_registered_models() == []
    assert bob.search_model_versions(f"run_id = '{run_id}'") == []
    assert [m.name for m in alice.search_registered_models()] == ["churn"]


def test_searches_fill_pages_and_page_through_every_readable_model(
    auth: AuthStore, store: TrackingStore
) -> None:
    for i in range(23):
        store.create_registered_model(f"m{i:02d}")
        if i % 3:
            auth.grant("bob", "registered_model", f"m{i:02d}", "DENY")
    bob = as_user(auth, store, "bob")
    seen: list[str] = []
    pages: list[int] = []
    token = None
    while True:
        page = bob.search_registered_models(max_results=3, page_token=token)
        seen += [m.name for m in page]
        pages.append(len(page))
        token = page.token
        if not token:
            break
    assert seen == [f"m{i:02d}" for i in range(0, 23, 3)]
    assert pages[0] == 3  # filled from later store pages, not cut short by the denied ones


def test_grants_follow_a_rename_and_go_with_a_delete(auth: AuthStore, store: TrackingStore) -> None:
    as_user(auth, store, "alice").create_registered_model("old")
    auth.grant("bob", "registered_model", "old", "EDIT")
    auth.grant("bob", "registered_model", "new", "READ")  # given before any model had the name
    as_user(auth, store, "alice").rename_registered_model("old", "new")
    bob = as_user(auth, store, "bob")
    assert grants_on(auth, "bob", "new") == ["EDIT"] and grants_on(auth, "bob", "old") == []
    assert grants_on(auth, "alice", "new") == ["MANAGE"]
    bob.update_registered_model("new", "edited by bob")

    auth.grant("bob", "registered_model", "newest", "DENY")
    bob.rename_registered_model("new", "other")  # EDIT may rename, as in MLflow
    as_user(auth, store, "alice").rename_registered_model("other", "newest")
    assert grants_on(auth, "bob", "newest") == ["DENY"]  # a DENY waiting there stays

    as_user(auth, store, "alice").delete_registered_model("newest")
    assert grants_on(auth, "alice", "newest") == grants_on(auth, "bob", "newest") == []
    store.create_registered_model("newest")  # someone else's model of the same name later
    assert not as_user(auth, store, "alice").can("registered_model", "newest", "update")


def test_names_a_user_may_not_take(auth: AuthStore, store: TrackingStore) -> None:
    alice = as_user(auth, store, "alice")
    with pytest.raises(InvalidParameterValue, match="every registered model"):
        alice.create_registered_model("*")
    alice.create_registered_model("mine")
    with pytest.raises(InvalidParameterValue):
        alice.rename_registered_model("mine", "*")
    auth.grant("alice", "registered_model", "reserved", "DENY")
    alice = as_user(auth, store, "alice")
    with pytest.raises(PermissionDenied):
        alice.create_registered_model("reserved")
    with pytest.raises(PermissionDenied):
        alice.rename_registered_model("mine", "reserved")
    assert grants_on(auth, "alice", "reserved") == ["DENY"]


def test_a_version_needs_read_on_what_it_comes_from(auth: AuthStore, store: TrackingStore) -> None:
    secret = store.create_experiment("secret")
    secret_run = new_run(store, secret)
    open_run = new_run(store, "0")
    auth.grant("alice", "experiment", secret, "DENY")
    alice = as_user(auth, store, "alice")
    alice.create_registered_model("leak")
    sources = [
        (f"runs:/{secret_run}/model", None),
        (f"runs:/{secret_run}/model", secret_run),
        (store.get_run(secret_run).info.artifact_uri + "/model", secret_run),
        (f"runs:/{'0' * 32}/model", None),  # a run that does not exist: refused the same way
    ]
    for source, run_id in sources:
        with pytest.raises(PermissionDenied):
            alice.create_model_version("leak", source, run_id)
    assert alice.search_model_versions("name = 'leak'") == []
    alice.create_model_version("leak", f"runs:/{open_run}/model", open_run)

    store.create_registered_model("guarded")
    store.create_model_version("guarded", f"runs:/{open_run}/model", open_run)
    auth.grant("alice", "registered_model", "guarded", "DENY")
    alice = as_user(auth, store, "alice")
    with pytest.raises(PermissionDenied):  # copying a version of a model one may not read
        alice.create_model_version("leak", "models:/guarded/1")
    assert alice.create_model_version("leak", "models:/leak/1").version == 2
